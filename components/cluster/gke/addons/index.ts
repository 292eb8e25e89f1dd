import type { AddOnList } from "../../addon";
import type { GkeAddOnContext, GkeKubernetesContext, GkeNodesContext } from "../context";
import { registryMirror } from "./registry-mirror";

/**
 * Every add-on of a GKE cluster that is more than a cluster setting, one file each, in the order
 * they are installed. GKE's own managed add-ons (HTTP load balancing, the PD CSI driver, Managed
 * Prometheus, Dataplane V2) are fields of the cluster (control-plane.ts). A new add-on is a file
 * in this folder and one entry here, in the moment it needs: before the nodes (the cluster
 * creates its first nodes), once the node pools exist, or on the cluster's Kubernetes provider.
 */
export const gkeAddOns: AddOnList<GkeAddOnContext, GkeNodesContext, GkeKubernetesContext> = {
  beforeNodes: [registryMirror],
  afterNodes: [],
  onKubernetes: [],
};
