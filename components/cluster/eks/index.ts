/**
 * EKS clusters (needs `@pulumi/aws`): {@link eksCluster} gives the `ClusterHandle` of an EKS
 * cluster with its own VPC, managed add-ons, nodes and access entries, and the plans and policies
 * it is built from. The parts live in this folder (network, control plane, nodes, access), each
 * add-on in `addons/`, listed in `addons/index.ts`.
 * @module
 */
export { EksCluster, eksCluster, eksCloudIdentityEgress } from "./cluster";
export { eksDefaults, type EksClusterArgs } from "./defaults";
export { eksSubnetPlan } from "./network";
export { eksSafety, clusterKeyPolicy } from "./control-plane";
export { eksNodeGroupPlan, type EksNodeGroupPlan } from "./nodes";
export { groupRoleTrust } from "./access";
export { clusterAutoscalerPolicy } from "./addons/cluster-autoscaler";
export { loadBalancerControllerPolicy } from "./addons/load-balancer-controller";
