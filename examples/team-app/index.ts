import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isPinned, parsePinnedImage, pullReferenceFor, Workload } from "@blueprint/k8s-components";

/**
 * A team's own Pulumi project on a blueprint platform. The platform stack exports `contract`: per
 * team, where its namespace is, how to reach the cluster and which registry mirror the cluster
 * pulls from. This program reads the team's entry through a StackReference and deploys one app
 * there with the packaged `Workload` (restricted security context, probes, spread, disruption
 * budget), pulling the released digest through the platform's mirror.
 */

/** The part of the platform contract (version 2) this program uses; it reads none of the services and monitoring fields version 2 added. */
interface TeamContract {
  readonly version: number;
  readonly kubeconfig: string | null;
  readonly context: string | null;
  readonly clusterIdentifier: string;
  readonly namespace: string;
  readonly priorityClasses: { readonly standard: string };
  readonly registry: { readonly mirrors: Readonly<Record<string, string>> };
}

const config = new pulumi.Config();
const platformStack = config.require("platformStack");
const team = config.require("team");
const image = config.require("image");
if (!isPinned(parsePinnedImage(image))) {
  throw new pulumi.RunError(
    `team-app:image must be pinned by digest (repo@sha256:<64 hex>), got ${JSON.stringify(image)}`,
  );
}

/** The team's entry of the platform's contract, refused when the platform does not know the team. */
async function readContract(): Promise<TeamContract> {
  const details = await new pulumi.StackReference("platform", { name: platformStack }).getOutputDetails("contract");
  const byTeam = (details.secretValue ?? details.value) as Record<string, unknown> | undefined;
  const entry = byTeam?.[team] as Partial<TeamContract> | undefined;
  if (entry === undefined)
    throw new pulumi.RunError(`the platform stack ${platformStack} exports no contract for team "${team}"`);
  if (entry.version !== 2)
    throw new pulumi.RunError(
      `the platform stack ${platformStack} exports contract version ${JSON.stringify(entry.version)}; this program reads version 2`,
    );
  if (
    typeof entry.namespace !== "string" ||
    typeof entry.clusterIdentifier !== "string" ||
    typeof entry.registry?.mirrors !== "object" ||
    typeof entry.priorityClasses?.standard !== "string"
  ) {
    throw new pulumi.RunError(`the platform stack ${platformStack} exports an incomplete contract for team "${team}"`);
  }
  return entry as TeamContract;
}

export = async () => {
  const contract = await readContract();
  const provider = new k8s.Provider("k8s", {
    ...(contract.kubeconfig !== null
      ? { kubeconfig: pulumi.secret(contract.kubeconfig) }
      : contract.context !== null
        ? { context: contract.context }
        : {}),
    enableServerSideApply: true,
    clusterIdentifier: contract.clusterIdentifier,
    namespace: contract.namespace,
  });
  const pulled = pullReferenceFor(image, contract.registry.mirrors);
  const app = new Workload(
    "hello",
    {
      identity: { name: "hello", instance: "hello", component: "server", partOf: team },
      namespace: contract.namespace,
      image: pulled,
      port: 9898,
      replicas: 2,
      resources: {
        requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "64Mi" },
        limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "128Mi" },
      },
      probes: { readiness: { path: "/readyz" }, liveness: { path: "/healthz" } },
      priorityClassName: contract.priorityClasses.standard,
    },
    { providers: [provider] },
  );
  return { namespace: contract.namespace, image: pulled, deployment: app.deploymentName, url: app.url };
};
