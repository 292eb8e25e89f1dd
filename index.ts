import * as pulumi from "@pulumi/pulumi";
import { stackLayer } from "./config/load";

/**
 * The program. Every stack runs this same code and its config says which layer it is: the
 * platform (`<env>.platform`: cluster, add-ons, team namespaces, the contract) or a team
 * (`<env>.<team>`: the team's apps, read against the contract). Each layer is loaded only when
 * it runs, so a team stack never loads the cluster code or a cloud SDK. Validation happens first
 * in both, so bad config registers nothing.
 */
export = async () => {
  const layer = stackLayer(pulumi.runtime.allConfig(), pulumi.getStack());
  if (layer === "platform") {
    const { platformProgram } = await import("./layers/platform");
    return platformProgram();
  }
  const { teamProgram } = await import("./layers/team");
  return teamProgram();
};
