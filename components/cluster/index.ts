/**
 * The cluster seam without a cloud SDK: the {@link ClusterHandle} every cluster gives, an existing
 * cluster, and the kubeconfig and registry-mirror helpers. The clouds' clusters are separate entry
 * points (`./cluster/eks` needs `@pulumi/aws`, `./cluster/gke` needs `@pulumi/gcp`), so a program
 * on one cloud never loads the other's SDK.
 * @module
 */
export type {
  AwsDataNetwork,
  ClusterHandle,
  ClusterSafety,
  ClusterVolumeBackups,
  Cloud,
  GcpDataNetwork,
  IngressHost,
  IngressHostRequest,
  IngressTlsMode,
  WorkloadIdentityBinding,
} from "./handle";
export {
  existingCluster,
  ExistingClusterAddOns,
  type ExistingClusterArgs,
  type ExistingKubernetesContext,
  type VeleroBackupArgs,
  type VeleroObjectStore,
} from "./existing";
export { execKubeconfig, awsExec, gkeExec, type ExecCredential, type KubeconfigFields } from "./kubeconfig";
export { mirrorName, pullReference, type RegistryMirror } from "./registry";
