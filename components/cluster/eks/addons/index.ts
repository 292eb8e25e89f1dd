import type { AddOnList } from "../../addon";
import type { EksAddOnContext, EksKubernetesContext, EksNodesContext } from "../context";
import { cloudWatchObservability } from "./cloudwatch-observability";
import { clusterAutoscaler } from "./cluster-autoscaler";
import { coreDns } from "./coredns";
import { ebsCsi } from "./ebs-csi";
import { kubeProxy } from "./kube-proxy";
import { loadBalancerController } from "./load-balancer-controller";
import { metricsServer } from "./metrics-server";
import { registryMirror } from "./registry-mirror";
import { snapshotController } from "./snapshot-controller";
import { vpcCni } from "./vpc-cni";

/**
 * Every add-on of an EKS cluster, one file each, in the order they are installed. A new add-on is
 * a file in this folder and one entry here, in the moment it needs: before the nodes, once nodes
 * exist, or on the cluster's Kubernetes provider.
 */
export const eksAddOns: AddOnList<EksAddOnContext, EksNodesContext, EksKubernetesContext> = {
  beforeNodes: [vpcCni, kubeProxy, registryMirror],
  afterNodes: [coreDns, ebsCsi, metricsServer, cloudWatchObservability],
  onKubernetes: [clusterAutoscaler, loadBalancerController, snapshotController],
};
