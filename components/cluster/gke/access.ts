import * as gcp from "@pulumi/gcp";
import type * as pulumi from "@pulumi/pulumi";
import type { WorkloadIdentityBinding } from "../handle";

/** Where a Workload Identity grant is registered: the cluster it needs, and the component it belongs to. */
export interface GkeIdentityScope {
  /** Prefix of resource names (the cluster component's name). */
  readonly name: string;
  readonly project: string;
  readonly gcpProvider: gcp.Provider;
  readonly cluster: gcp.container.Cluster;
  readonly parent: pulumi.Resource;
}

/**
 * Lets a Kubernetes ServiceAccount act as a Google service account (Workload Identity): grants
 * `roles/iam.workloadIdentityUser` to the ServiceAccount's principal and returns its annotation.
 */
export function gkeWorkloadIdentity(scope: GkeIdentityScope, b: WorkloadIdentityBinding): Record<string, string> {
  const gsaProject = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(b.cloudIdentity)?.[1] ?? scope.project;
  new gcp.serviceaccount.IAMMember(
    `${scope.name}-wi-${b.namespace}-${b.serviceAccount}`,
    {
      serviceAccountId: `projects/${gsaProject}/serviceAccounts/${b.cloudIdentity}`,
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${scope.project}.svc.id.goog[${b.namespace}/${b.serviceAccount}]`,
    },
    {
      parent: scope.parent,
      provider: scope.gcpProvider,
      // The pool `<project>.svc.id.goog` comes into being with the first Workload Identity cluster;
      // binding before it fails with "Identity Pool does not exist".
      dependsOn: [scope.cluster],
    },
  );
  return { "iam.gke.io/gcp-service-account": b.cloudIdentity };
}
