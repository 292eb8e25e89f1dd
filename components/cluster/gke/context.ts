import type * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { GkeClusterArgs } from "./defaults";

/**
 * What a GKE add-on gets from the cluster before it exists (GKE creates the cluster with a first
 * node pool): the project, the Google provider, the network, the KMS key and the nodes' service account.
 */
export interface GkeAddOnContext {
  /** Prefix of every resource name (the cluster component's name). */
  readonly name: string;
  readonly args: GkeClusterArgs;
  readonly gcpProvider: gcp.Provider;
  readonly projectNumber: string;
  readonly network: gcp.compute.Network;
  readonly subnet: gcp.compute.Subnetwork;
  /** The cluster's KMS key (application-layer Secret encryption). */
  readonly secretsKey: gcp.kms.CryptoKey;
  /** `serviceAccount:<email>` of the service account every node runs as. */
  readonly nodeMember: pulumi.Output<string>;
}

/** What a GKE add-on gets once the cluster and its node pools exist; Workload Identity is on from here. */
export interface GkeNodesContext extends GkeAddOnContext {
  readonly cluster: gcp.container.Cluster;
  readonly nodePools: readonly gcp.container.NodePool[];
  /** `<project>.svc.id.goog`. */
  readonly workloadPool: pulumi.Output<string>;
}

/** What a GKE add-on gets on the cluster's Kubernetes provider (Helm releases, Kubernetes objects). */
export interface GkeKubernetesContext extends GkeNodesContext {
  readonly provider: k8s.Provider;
}

/** `{ parent, provider }` for a Google Cloud resource of the cluster. */
export function gcpOpts(
  ctx: Pick<GkeAddOnContext, "gcpProvider">,
  parent: pulumi.Resource,
): pulumi.CustomResourceOptions {
  return { parent, provider: ctx.gcpProvider };
}
