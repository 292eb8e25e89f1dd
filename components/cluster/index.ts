import type { EnvironmentConfig } from "../../config/load";
import type { ClusterHandle } from "./handle";

export type { ClusterHandle, Cloud, WorkloadIdentityBinding } from "./handle";

/**
 * The one seam between an environment and its cluster: returns the {@link ClusterHandle} for the
 * stack's `blueprint:cluster`. Cloud SDKs are imported lazily, so a stack on one cloud never
 * loads the other's.
 */
export async function createCluster(env: EnvironmentConfig): Promise<ClusterHandle> {
  const name = env.cluster.name ?? `${env.project}-${env.stack}`;
  switch (env.cluster.cloud) {
    case "existing": {
      const { existingCluster } = await import("./existing");
      const ex = env.cluster.existing!;
      return existingCluster({
        name,
        context: ex.context,
        kubeconfig: ex.context ? undefined : env.kubeconfig,
        storageProvisioner: ex.storageProvisioner,
        storageParameters: ex.storageParameters,
        ingressClass: ex.ingressClass,
        ingressNamespace: ex.ingressNamespace,
      });
    }
    default:
      throw new Error(`cloud "${env.cluster.cloud}" is not available in this version`);
  }
}
