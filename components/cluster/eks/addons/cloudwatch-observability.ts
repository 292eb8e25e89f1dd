import type { AddOn } from "../../addon";
import { irsaRole, type EksNodesContext } from "../context";
import { eksDefaults } from "../defaults";
import { eksManagedAddon } from "./managed";

/**
 * Amazon CloudWatch Observability: Fluent Bit ships every container's stdout, and Container
 * Insights collects metrics; apps add nothing to their pods. Optional for the Kubernetes provider.
 */
export const cloudWatchObservability: AddOn<EksNodesContext> = {
  name: "cloudwatch-observability",
  deploy(ctx, parent) {
    const o = eksDefaults.observability;
    const role = irsaRole(ctx, parent, { id: "cloudwatch-observability", namespace: o.namespace, serviceAccount: o.serviceAccount, policies: [o.policy] });
    eksManagedAddon(ctx, parent, "amazon-cloudwatch-observability", { serviceAccountRoleArn: role.arn }, ctx.nodeGroups);
    return {};
  },
};
