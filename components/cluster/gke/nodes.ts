import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { gkeLocation } from "./control-plane";
import { gkeDefaults, type GkeClusterArgs } from "./defaults";

/** The least-privilege service account nodes run as (not the Compute default), and its project grant. */
export function gkeNodeAccount(
  name: string,
  args: GkeClusterArgs,
  o: pulumi.CustomResourceOptions,
): {
  readonly account: gcp.serviceaccount.Account;
  readonly member: pulumi.Output<string>;
  readonly grants: readonly pulumi.Resource[];
} {
  const project = args.gcp.project;
  const account = new gcp.serviceaccount.Account(
    `${name}-nodes`,
    {
      project,
      accountId: `${args.name.slice(0, 23).replace(/-+$/, "")}-nodes`,
      displayName: `GKE nodes of ${args.name}`,
    },
    o,
  );
  const member = pulumi.interpolate`serviceAccount:${account.email}`;
  return {
    account,
    member,
    grants: [new gcp.projects.IAMMember(`${name}-nodes`, { project, role: gkeDefaults.nodeRole, member }, o)],
  };
}

/**
 * One node pool per configured pool, autoscaled within its bounds and balanced across zones,
 * shielded, on the nodes' own service account. A name prefix (GKE appends a suffix) lets a forced
 * replacement create the new pool before it deletes the old one, so workloads always have
 * somewhere to run.
 */
export function gkeNodePools(
  name: string,
  args: GkeClusterArgs,
  cluster: gcp.container.Cluster,
  nodeAccount: gcp.serviceaccount.Account,
  o: pulumi.CustomResourceOptions,
): gcp.container.NodePool[] {
  const cfg = args.gcp;
  const { location, nodeLocations } = gkeLocation(cfg);
  const zoneCount = nodeLocations?.length ?? 1;
  return Object.entries(cfg.nodePools).map(
    ([poolName, pool]) =>
      new gcp.container.NodePool(
        `${name}-${poolName}`,
        {
          namePrefix: `${poolName}-`,
          cluster: cluster.name,
          location,
          nodeLocations,
          initialNodeCount: Math.max(1, Math.ceil(pool.minSize / zoneCount)),
          autoscaling: { totalMinNodeCount: pool.minSize, totalMaxNodeCount: pool.maxSize, locationPolicy: "BALANCED" },
          management: { autoRepair: true, autoUpgrade: true },
          upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
          nodeConfig: {
            machineType: pool.machineType,
            diskSizeGb: pool.diskSizeGb,
            diskType: "pd-balanced",
            imageType: gkeDefaults.imageType,
            spot: pool.spot,
            serviceAccount: nodeAccount.email,
            oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
            shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
            workloadMetadataConfig: { mode: "GKE_METADATA" },
            metadata: { "disable-legacy-endpoints": "true" },
            labels: { "blueprint.dev/node-pool": poolName, ...pool.labels },
          },
        },
        { ...o, ignoreChanges: ["initialNodeCount"] },
      ),
  );
}
