import type { K8sObject } from "./program";

const CUSTOM_RESOURCES = new Set([
  "networking.gke.io/v1/ManagedCertificate",
  // The monitor and rule kinds (test/observability checks their specs).
  "monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule",
  "monitoring.googleapis.com/v1/PodMonitoring",
  "monitoring.googleapis.com/v1/Rules",
  "monitoring.googleapis.com/v1/ClusterRules",
  // The snapshot class of the EKS snapshot controller.
  "snapshot.storage.k8s.io/v1/VolumeSnapshotClass",
  // Velero's storage location and Schedule (test/services/velero.test.ts checks their specs).
  "velero.io/v1/BackupStorageLocation",
  "velero.io/v1/Schedule",
]);

/** Validates an object against the Kubernetes OpenAPI schema of its kind (kubernetes-models); the error, if any. */
export function schemaErrors(obj: K8sObject): string | undefined {
  // Custom resources (e.g. GKE's ManagedCertificate) have no schema in kubernetes-models.
  if (CUSTOM_RESOURCES.has(`${obj.apiVersion}/${obj.kind}`)) return undefined;
  const group = obj.apiVersion.includes("/") ? obj.apiVersion : `v1`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`kubernetes-models/${group}/${obj.kind}`) as Record<
    string,
    new (d: unknown) => { validate(): void }
  >;
  try {
    new mod[obj.kind](obj).validate();
    return undefined;
  } catch (e) {
    return `${obj.kind}/${obj.metadata.name}: ${(e as Error).message}`;
  }
}
