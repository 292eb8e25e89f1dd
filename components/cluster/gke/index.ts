/**
 * GKE clusters (needs `@pulumi/gcp`): {@link gkeCluster} gives the `ClusterHandle` of a GKE
 * Standard cluster with its own network, node pools and Workload Identity, and the helpers it is
 * built from. The parts live in this folder (network, control plane, nodes, access, ingress),
 * each add-on in `addons/`, listed in `addons/index.ts`.
 * @module
 */
export { GkeCluster, gkeCluster, gkeCloudIdentityEgress } from "./cluster";
export { gkeDefaults, type GkeClusterArgs } from "./defaults";
export { gkeSafety, gkeLocation } from "./control-plane";
