import type { GcpClusterConfig } from "../../../lib/cluster-config";

/** Defaults of a {@link GkeCluster}, in one visible place. */
export const gkeDefaults = {
  /** Names of the subnet's secondary ranges. */
  podsRange: "pods",
  servicesRange: "services",
  /** Ninety days, in the form Cloud KMS expects. */
  keyRotationPeriod: "7776000s",
  /** Workload logs and system logs; workload metrics come from Managed Service for Prometheus. */
  loggingComponents: ["SYSTEM_COMPONENTS", "WORKLOADS"],
  /**
   * System metrics, plus what the platform's alert rules read through Managed Prometheus: the
   * kube-state-metrics packages (DEPLOYMENT, POD, HPA, STORAGE, STATEFULSET, DAEMONSET) and the
   * kubelet and cAdvisor scrapes (volume stats, CPU throttling). System metrics alone cannot feed
   * the alerts (https://cloud.google.com/kubernetes-engine/docs/how-to/kube-state-metrics,
   * https://cloud.google.com/kubernetes-engine/docs/how-to/cadvisor-kubelet-metrics).
   */
  monitoringComponents: [
    "SYSTEM_COMPONENTS",
    "DEPLOYMENT",
    "POD",
    "HPA",
    "STORAGE",
    "STATEFULSET",
    "DAEMONSET",
    "KUBELET",
    "CADVISOR",
  ],
  /** Dataplane V2 (eBPF): enforces NetworkPolicy without a separate add-on. */
  datapathProvider: "ADVANCED_DATAPATH",
  imageType: "COS_CONTAINERD",
  /** Grants just what nodes need to write logs and metrics. */
  nodeRole: "roles/container.defaultNodeServiceAccount",
  /** Balanced persistent disks through the PD CSI driver (encrypted at rest by Google). */
  storage: {
    provisioner: "pd.csi.storage.gke.io",
    parameters: { type: "pd-balanced", "csi.storage.k8s.io/fstype": "ext4" },
  },
  /** GKE Ingress is selected by the `kubernetes.io/ingress.class` annotation; it ignores `ingressClassName: gce`. */
  ingressAnnotations: { "kubernetes.io/ingress.class": "gce", "kubernetes.io/ingress.allow-http": "false" },
  /** Google Front End and health-check ranges that container-native load balancing connects from. */
  loadBalancerRanges: ["35.191.0.0/16", "130.211.0.0/22"],
  /**
   * Container-native load balancing: the load balancer targets pod IPs through network endpoint
   * groups. Default for VPC-native clusters, written out so it does not depend on cluster defaults
   * (https://cloud.google.com/kubernetes-engine/docs/how-to/container-native-load-balancing).
   */
  negAnnotation: { "cloud.google.com/neg": '{"ingress": true}' },
} as const;

/** Arguments of a {@link GkeCluster}. */
export interface GkeClusterArgs {
  readonly name: string;
  readonly kubernetesVersion: string;
  readonly production: boolean;
  readonly gcp: GcpClusterConfig & { readonly project: string; readonly region: string };
  readonly labels?: Readonly<Record<string, string>>;
  /** Days the project's `_Default` Cloud Logging bucket keeps logs (`blueprint:observability.retention.logsDays`); unset leaves the bucket as it is. */
  readonly logsRetentionDays?: number;
  /** Google Groups bound by team RoleBindings: each is granted `roles/container.clusterViewer` on the project. */
  readonly teamGroups?: readonly string[];
}
