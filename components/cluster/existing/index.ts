/**
 * An existing cluster (kind, minikube, on-premises, or one managed elsewhere): reached through a
 * kubeconfig, with the platform's add-ons (./addons) on its Kubernetes provider.
 * @module
 */
export { existingCluster, ExistingClusterAddOns, type ExistingClusterArgs } from "./cluster";
export type { ExistingKubernetesContext, VeleroBackupArgs, VeleroObjectStore } from "./context";
export { veleroChart, veleroImages, veleroValues, veleroSchedule, VELERO_NAMESPACE } from "./addons/velero";
export { minioImage, MINIO_NAMESPACE } from "./addons/minio";
