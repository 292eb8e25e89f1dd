import { z } from "zod";
import { INT32_MAX, nameRecord } from "./names";

/** Retention periods PutRetentionPolicy accepts, in days. */
const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Schema of `blueprint:cluster`: where the environment's Kubernetes cluster comes from.
 * Only `components/cluster/` interprets the cloud-specific parts. Cross-field rules (required
 * region/project, zone counts, CIDR overlaps, node pool bounds) live in `config/cluster-rules.ts`, so
 * every problem of a stack is reported at once with the key and what is allowed.
 */

/**
 * A Kubernetes minor version such as `"1.36"`; at least 1.30 (native preStop `sleep`). Whether the
 * cloud offers it, and whether it is still in standard support, is checked in `config/cluster-rules.ts`
 * against the table in `kubernetes-versions.ts`.
 */
export const kubernetesVersion = z.string().regex(/^1\.(3[0-9]|[4-9][0-9])$/, {
  message: 'must be a pinned Kubernetes minor version from "1.30" up, such as "1.36"',
});

/** An IPv4 CIDR block such as `10.0.0.0/16`; overlap and size rules are in `cluster-rules.ts`. */
export const ipv4Cidr = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/, {
    message: "must be an IPv4 CIDR block such as 10.0.0.0/16",
  });

/** An existing cluster: a named context of the ambient kubeconfig, or the secret config `blueprint:kubeconfig`. */
export const existingCluster = z.strictObject({
  /** Context name in the ambient kubeconfig (`kubectl config get-contexts`). Omit to use `blueprint:kubeconfig`. */
  context: z.string().min(1).optional(),
  /** Default StorageClass provisioner of this cluster. @default "rancher.io/local-path" (kind) */
  storageProvisioner: z.string().min(1).default("rancher.io/local-path"),
  /** Parameters for that provisioner. */
  storageParameters: z.record(z.string(), z.string()).default({}),
  /** IngressClass name of the cluster's ingress controller. @default "nginx" */
  ingressClass: z.string().min(1).default("nginx"),
  /** Namespace the ingress controller runs in, allowed through each app's NetworkPolicy. @default "ingress-nginx" */
  ingressNamespace: z.string().min(1).default("ingress-nginx"),
  /** cert-manager ClusterIssuer that issues Ingress certificates; without it, each app's TLS Secret must exist. */
  certificateIssuer: z.string().min(1).optional(),
});

/** Node pool bounds shared by EKS node groups and GKE node pools: total nodes across all zones. */
const poolBounds = {
  /** Fewest nodes the autoscaler keeps (across all zones). */
  minSize: z.number().int().min(0).max(INT32_MAX),
  /** Most nodes the autoscaler may add (across all zones). */
  maxSize: z.number().int().min(1).max(INT32_MAX),
  /** Kubernetes node labels. */
  labels: z.record(z.string(), z.string()).default({}),
};

/** One EKS managed node group. */
export const awsNodeGroup = z.strictObject({
  ...poolBounds,
  /** EC2 instance types, e.g. `["m7i.large", "m6i.large"]` (several types help spot capacity). */
  instanceTypes: z
    .array(
      z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { message: 'must be EC2 instance types such as "m7i.large"' }),
    )
    .min(1),
  /** @default "ON_DEMAND" */
  capacityType: z.enum(["ON_DEMAND", "SPOT"]).default("ON_DEMAND"),
  /** Root volume size (encrypted gp3). @default 50 */
  diskSizeGiB: z.number().int().min(20).max(16384).default(50),
  /** EKS-optimized AMI family; use an `ARM_64` type with Graviton instances. @default "AL2023_x86_64_STANDARD" */
  amiType: z
    .enum(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"])
    .default("AL2023_x86_64_STANDARD"),
  /**
   * One managed node group per zone (bounds shared out), so the autoscaler can grow the zone a
   * Pending pod needs; production's strict zone spread requires it. @default true in production, else false
   */
  perZone: z.boolean().optional(),
});

/** Pull images through a registry cache the cluster's nodes can read, keeping the digest. */
const awsRegistryMirror = z.strictObject({
  /** Upstream registry host, e.g. `ghcr.io`. Images from other hosts are pulled as released. */
  upstream: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?$/, { message: "must be a registry host such as ghcr.io" }),
  /** ECR repository prefix of the cache. @default the upstream's first label, e.g. "ghcr" */
  prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,29}$/, { message: "must be 2-30 lowercase letters, digits, '.', '_' or '-'" })
    .optional(),
  /** Secrets Manager secret (name starts with `ecr-pullthroughcache/`) with upstream credentials; ECR requires one for ghcr.io and Docker Hub. */
  credentialArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:/, { message: "must be a Secrets Manager secret ARN" })
    .optional(),
  /**
   * `ENHANCED`: Amazon Inspector scans every cached image continuously (charged per image). This
   * sets the registry's scanning configuration for the account and region. @default "ENHANCED"
   */
  scanning: z.enum(["ENHANCED", "NONE"]).default("ENHANCED"),
});

/** An EKS cluster and its VPC. */
export const awsCluster = z.strictObject({
  /** AWS region, e.g. `eu-west-1`. Required (checked with a clear message in the rules). */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: "must be an AWS region such as eu-west-1" })
    .optional(),
  /** Availability zones used for subnets and nodes; at least 2, and 3 in production. @default 2 */
  zones: z.number().int().min(1).max(6).default(2),
  /** VPC address range, /16 to /20; private and public subnets are carved from it. @default "10.0.0.0/16" */
  vpcCidr: ipv4Cidr.default("10.0.0.0/16"),
  /** Kubernetes Service range; must not overlap the VPC. @default "172.20.0.0/16" */
  serviceCidr: ipv4Cidr.default("172.20.0.0/16"),
  /** One NAT gateway (cheap) or one per zone (survives a zone outage). @default "perZone" in production, else "single" */
  natGateways: z.enum(["single", "perZone"]).optional(),
  /**
   * Networks allowed to reach the public API endpoint. Empty means private endpoint only: then
   * `pulumi up` must run from inside the VPC (or a peered network / VPN).
   */
  publicAccessCidrs: z.array(ipv4Cidr).default([]),
  /** Managed node groups by name. */
  nodeGroups: z.record(z.string(), awsNodeGroup),
  /**
   * Existing IAM roles (e.g. SSO permission-set roles) whose sessions belong to a team group.
   * Team groups without an entry get a role of their own that principals of the account may assume.
   */
  groupRoles: nameRecord(
    z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "must be an IAM role ARN" }),
  ).prefault({}),
  /**
   * For team groups without a `groupRoles` entry: the principals (IAM role ARNs, `*` allowed, e.g.
   * `arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_ShopMaintainers_*`)
   * that may assume the group's role (`aws:PrincipalArn`). Production requires one of the two for every group.
   */
  groupPrincipals: nameRecord(
    z
      .array(
        z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "must be IAM role ARNs (wildcards allowed)" }),
      )
      .min(1),
  ).prefault({}),
  /** IAM roles granted cluster-admin (EKS access policy `AmazonEKSClusterAdminPolicy`). */
  adminRoleArns: z
    .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: "must be an IAM role ARN" }))
    .default([]),
  /** EKS add-on versions to pin (e.g. `{ "vpc-cni": "v1.20.0-eksbuild.1" }`); others use EKS's default for the cluster version at creation. */
  addonVersions: z.record(z.string(), z.string().min(1)).default({}),
  /**
   * Days the control-plane logs are kept: one of the values CloudWatch Logs accepts
   * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
   * @default 90 in production, else 30
   */
  logRetentionDays: z
    .number()
    .refine((n) => LOG_RETENTION_DAYS.includes(n), {
      message: `must be one of the retention periods CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .optional(),
  registryMirror: awsRegistryMirror.optional(),
});

/** One GKE node pool. */
export const gcpNodePool = z.strictObject({
  ...poolBounds,
  /** Compute Engine machine type. @default "e2-standard-4" */
  machineType: z
    .string()
    .regex(/^[a-z0-9]+-[a-z0-9-]+$/, { message: 'must be a machine type such as "e2-standard-4"' })
    .default("e2-standard-4"),
  /** Boot disk size (pd-balanced). @default 50 */
  diskSizeGb: z.number().int().min(20).max(65536).default(50),
  /** Spot VMs: much cheaper, may be reclaimed at any time. @default false */
  spot: z.boolean().default(false),
});

/** A GKE cluster and its VPC-native network. */
export const gcpCluster = z.strictObject({
  /** Google Cloud project id. Required (checked with a clear message in the rules). */
  project: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
      message: "must be a Google Cloud project id (6-30 lowercase letters, digits, '-')",
    })
    .optional(),
  /** Region, e.g. `europe-west1`. Required. */
  region: z
    .string()
    .regex(/^[a-z]+-[a-z]+\d+$/, { message: "must be a Google Cloud region such as europe-west1" })
    .optional(),
  /** Regional control plane (replicated across zones); production requires it. @default true */
  regional: z.boolean().default(true),
  /** Zones of the region that run nodes; a zonal cluster lives in the first. Production needs 3. */
  zones: z
    .array(z.string().regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, { message: "must be zones such as europe-west1-b" }))
    .min(1),
  /** Node subnet. @default "10.20.0.0/20" */
  subnetCidr: ipv4Cidr.default("10.20.0.0/20"),
  /** Secondary range for pods. @default "10.24.0.0/14" */
  podsCidr: ipv4Cidr.default("10.24.0.0/14"),
  /** Secondary range for Services. @default "10.28.0.0/20" */
  servicesCidr: ipv4Cidr.default("10.28.0.0/20"),
  /** Networks allowed to reach the public API endpoint; empty means private endpoint only. */
  publicAccessCidrs: z.array(ipv4Cidr).default([]),
  /** Release channel that upgrades the cluster automatically; `EXTENDED` needs `extendedSupport: true`. @default "REGULAR" */
  releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE", "EXTENDED"]).default("REGULAR"),
  /** When GKE may upgrade: an RFC 5545 recurrence and a window of at least 4 hours a week. */
  maintenanceWindow: z
    .strictObject({
      startTime: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, {
        message: "must be an RFC 3339 UTC time such as 2025-01-04T02:00:00Z",
      }),
      endTime: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, {
        message: "must be an RFC 3339 UTC time such as 2025-01-04T08:00:00Z",
      }),
      recurrence: z
        .string()
        .startsWith("FREQ=", { message: "must be an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=SA,SU" }),
    })
    .default({
      startTime: "2025-01-04T02:00:00Z",
      endTime: "2025-01-04T08:00:00Z",
      recurrence: "FREQ=WEEKLY;BYDAY=SA,SU",
    }),
  /** Node pools by name. */
  nodePools: z.record(z.string(), gcpNodePool),
  /**
   * Google Group that contains the team groups (`gke-security-groups@<domain>`), enabling
   * Google Groups for RBAC; team groups are then the groups' email addresses.
   */
  rbacSecurityGroup: z.email({ message: "must be the gke-security-groups@<domain> group address" }).optional(),
  /** Pull images through an Artifact Registry remote repository, keeping the digest. */
  registryMirror: z
    .strictObject({
      upstream: z
        .string()
        .regex(/^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?$/, { message: "must be a registry host such as ghcr.io" }),
      /** Repository id. @default the upstream's first label, e.g. "ghcr" */
      repository: z
        .string()
        .regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: "must be a lowercase repository id" })
        .optional(),
      /** Artifact Analysis scans every cached image (enables the Container Scanning API; charged per image). @default true */
      scanning: z.boolean().default(true),
    })
    .optional(),
});

export const clusterSchema = z.strictObject({
  /** `aws` (EKS), `gcp` (GKE) or `existing` (any cluster reached through a kubeconfig). */
  cloud: z.enum(["aws", "gcp", "existing"]),
  /** Cluster name; defaults to `<project>-<stack>`. */
  name: z
    .string()
    .regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, { message: "must be a lowercase DNS label of at most 40 characters" })
    .optional(),
  kubernetesVersion,
  /**
   * Run a minor past its end of standard support, on the cloud's paid extended support (EKS
   * upgrade policy `EXTENDED`, GKE `EXTENDED` release channel). Without it such a version is
   * refused. @default false
   */
  extendedSupport: z.boolean().default(false),
  existing: existingCluster.optional(),
  aws: awsCluster.optional(),
  gcp: gcpCluster.optional(),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type AwsClusterConfig = z.infer<typeof awsCluster>;
export type GcpClusterConfig = z.infer<typeof gcpCluster>;
export type AwsNodeGroupConfig = z.infer<typeof awsNodeGroup>;
export type GcpNodePoolConfig = z.infer<typeof gcpNodePool>;
