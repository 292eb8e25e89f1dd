import type { AwsClusterConfig } from "../../../lib/cluster-config";

/** Defaults of an {@link EksCluster}, in one visible place. */
export const eksDefaults = {
  /** Control-plane log types shipped to CloudWatch. */
  logTypes: ["api", "audit", "authenticator"],
  logRetentionDays: { production: 90, other: 30 },
  kmsDeletionWindowDays: { production: 30, other: 7 },
  /**
   * IMDSv2 hop limit of the nodes. 2, not 1: the CloudWatch agent and Fluent Bit of the
   * observability add-on run in pods and read instance metadata through IMDSv2, which needs a
   * second hop from a container (aws/amazon-cloudwatch-agent#480; EKS's own default is 2). App
   * pods still cannot reach IMDS: their namespaces deny all egress that is not listed, the config
   * rules refuse link-local egress CIDRs, and wider ones have link-local carved out.
   */
  imdsHopLimit: 2,
  /** Log shipping (Fluent Bit) and Container Insights metrics: apps write to stdout, the platform ships it. */
  observability: {
    namespace: "amazon-cloudwatch",
    serviceAccount: "cloudwatch-agent",
    policy: "CloudWatchAgentServerPolicy",
    /**
     * Pinned, so an upgrade is a reviewed change (`blueprint:cluster.aws.addonVersions` overrides
     * it; `aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability
     * --kubernetes-version <minor>` lists what a minor offers). v5.3.0 dropped a ClusterRole
     * permission the agent's EKS resource detector used (aws-observability/helm-charts#287).
     */
    addonVersion: "v4.10.3-eksbuild.1",
    /**
     * The log groups the add-on writes to, under `/aws/containerinsights/<cluster>/`. Created
     * first, with retention and the cluster's key: the add-on's Fluent Bit and agent would
     * otherwise create them to "never expire" (aws/amazon-cloudwatch-agent-operator#243).
     */
    logGroups: ["application", "dataplane", "host", "performance"],
  },
  /** Node autoscaling: Cluster Autoscaler scales the managed node groups within their configured bounds. */
  clusterAutoscaler: {
    repo: "https://kubernetes.github.io/autoscaler",
    chart: "cluster-autoscaler",
    version: "9.50.1",
    serviceAccount: "cluster-autoscaler",
  },
  /** Ingress: the AWS Load Balancer Controller turns each Ingress into an ALB with IP targets. */
  loadBalancerController: {
    repo: "https://aws.github.io/eks-charts",
    chart: "aws-load-balancer-controller",
    version: "1.14.1",
    serviceAccount: "aws-load-balancer-controller",
  },
  ebsCsiServiceAccount: "ebs-csi-controller-sa",
  vpcCniServiceAccount: "aws-node",
  /** Encrypted gp3 volumes (AWS-managed EBS key) through the EBS CSI driver. */
  storage: {
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
  },
  ingressClass: "alb",
  ingressAnnotations: {
    "alb.ingress.kubernetes.io/scheme": "internet-facing",
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
  },
} as const;

/** Arguments of an {@link EksCluster}. */
export interface EksClusterArgs {
  /** EKS cluster name (also used in resource names and tags). */
  readonly name: string;
  readonly kubernetesVersion: string;
  readonly production: boolean;
  readonly aws: AwsClusterConfig & { readonly region: string };
  /** Team groups: each becomes the Kubernetes group of an IAM principal's access entry. */
  readonly teamGroups: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** The stack file, for configuration errors found only by asking AWS. */
  readonly configFile?: string;
  /** Stay on a minor past its end of standard support, paying for EKS extended support. @default false */
  readonly extendedSupport?: boolean;
  /** Days container logs and Container Insights data are kept (`blueprint:observability.retention.logsDays`). @default logRetentionDays */
  readonly containerLogRetentionDays?: number;
}
