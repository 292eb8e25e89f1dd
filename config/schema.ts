import { z } from "zod";
import { isQuantity } from "../lib/quantity";
import { clusterSchema, ipv4Cidr } from "../lib/cluster-config";
import { releaseSchema } from "./release";
import { DNS_LABEL, INT32_MAX, MAX_LABEL_VALUE, nameRecord } from "../lib/names";
import { REGISTRY_PREFIX } from "../lib/registries";
import { adminJobDefaults, teamNamespaceDefaults, workloadDefaults } from "../lib/defaults";
import { metricsSchema, observabilitySchema, sloSchema } from "./observability";
import { bindingsSchema, serviceSchema } from "./services";

const Q = teamNamespaceDefaults.quota;
const L = teamNamespaceDefaults.limits;
const W = workloadDefaults;

/**
 * The typed configuration of a platform stack and of a team stack. Every key of the `blueprint:`
 * namespace is described here; unknown keys are refused at every level.
 */

const quantity = z
  .union([z.string(), z.number()])
  .refine((q) => isQuantity(q), { message: 'must be a Kubernetes quantity such as "500m", "2", "256Mi" or "10Gi"' });

export { DNS_LABEL };

/**
 * Counts, ports and seconds: the API fields they become are int32 (Deployment replicas, HPA
 * bounds, probe timings, Job backoffLimit; kubernetes/api core/v1, apps/v1 types.go), and a larger
 * number fails `pulumi up`. Fields that are int64 in the API are held to the same bound: no
 * sensible value is above it.
 */
const int32 = () => z.number().int().max(INT32_MAX);

/**
 * A Pulumi `customTimeouts` value: a Go duration such as "10m", "1h30m" or "90s" (the engine parses
 * it with time.ParseDuration; https://www.pulumi.com/docs/iac/concepts/options/customtimeouts/).
 */
const duration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/, { message: 'must be a duration such as "10m", "1h30m" or "90s"' })
  .refine((d) => /[1-9]/.test(d), { message: "must be longer than 0" });

/** Cpu, memory and ephemeral storage, named as in a container's `resources`. */
const resourceSet = z.strictObject({
  cpu: quantity.optional(),
  memory: quantity.optional(),
  "ephemeral-storage": quantity.optional(),
});
export type ResourceSet = z.infer<typeof resourceSet>;

/** ResourceQuota `spec.hard`, keyed as Kubernetes names the resources. */
const quotaSchema = z.strictObject({
  "requests.cpu": quantity.default(Q["requests.cpu"]),
  "requests.memory": quantity.default(Q["requests.memory"]),
  "limits.cpu": quantity.default(Q["limits.cpu"]),
  "limits.memory": quantity.default(Q["limits.memory"]),
  "requests.ephemeral-storage": quantity.default(Q["requests.ephemeral-storage"]),
  "limits.ephemeral-storage": quantity.default(Q["limits.ephemeral-storage"]),
  pods: int32().min(1).default(Number(Q["pods"])),
  services: int32().min(0).default(Number(Q["services"])),
  "services.loadbalancers": int32().min(0).default(Number(Q["services.loadbalancers"])),
  "services.nodeports": int32().min(0).default(Number(Q["services.nodeports"])),
  persistentvolumeclaims: int32().min(0).default(Number(Q["persistentvolumeclaims"])),
  "requests.storage": quantity.default(Q["requests.storage"]),
});
export type QuotaConfig = z.infer<typeof quotaSchema>;

/** LimitRange for the namespace: container defaults and bounds, PVC size bounds. */
const limitRangeSchema = z.strictObject({
  default: resourceSet.default({ ...L.default }),
  defaultRequest: resourceSet.default({ ...L.defaultRequest }),
  max: resourceSet.default({ ...L.max }),
  maxLimitRequestRatio: z
    .strictObject({ cpu: quantity.optional(), memory: quantity.optional() })
    .default({ ...L.maxLimitRequestRatio }),
  pvcMin: quantity.default(L.pvcMin),
  pvcMax: quantity.default(L.pvcMax),
});
export type LimitRangeConfig = z.infer<typeof limitRangeSchema>;

const volumeSchema = z.strictObject({
  /** Requested size, e.g. `10Gi`. */
  size: quantity,
  /** @default "ReadWriteOnce" */
  accessMode: z.enum(["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"]).default("ReadWriteOnce"),
  /** StorageClass name; defaults to the platform's default class. */
  storageClass: z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(253).optional(),
});
export type VolumeConfig = z.infer<typeof volumeSchema>;

/**
 * A cloud identity the platform lets a team's apps bind: the cloud side (an IAM role ARN on EKS, a
 * Google service account email on GKE) and the ServiceAccounts of the team's namespace that may use
 * it. On GKE the platform grants each of them `roles/iam.workloadIdentityUser`, a cloud resource a
 * team stack cannot create.
 */
const identitySchema = z.strictObject({
  cloudIdentity: z.string().min(1),
  /** ServiceAccounts that may bind it: an app's own (its name) and its release Job's (`<app>-admin`). */
  serviceAccounts: z.array(z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(63)).min(1),
});
export type IdentityConfig = z.infer<typeof identitySchema>;

/** An Ingress host: a DNS-1123 subdomain, at most 253 characters, labels of at most 63 (IsDNS1123Subdomain). */
export const hostName = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, { message: "must be a DNS host name" })
  .max(253)
  .refine((h) => h.split(".").every((l) => l.length <= 63), { message: "must have labels of at most 63 characters" });

/** A team as the platform stack provisions it: its namespace, guardrails, groups and what it may use from the cloud. */
export const teamSchema = z.strictObject({
  /** Identity-provider groups bound to the blueprint's roles in the team namespace. */
  groups: z
    .strictObject({
      maintainers: z.array(z.string().min(1)).default([]),
      viewers: z.array(z.string().min(1)).default([]),
    })
    .default({ maintainers: [], viewers: [] }),
  /** Pod Security Standard enforced on the namespace. @default "restricted" */
  podSecurity: z.enum(["restricted", "baseline"]).default("restricted"),
  quota: quotaSchema.default(quotaSchema.parse({})),
  limits: limitRangeSchema.default(limitRangeSchema.parse({})),
  /** Ingress hosts the team's apps may serve; their certificates (and addresses) are made by the platform. */
  hosts: z.array(hostName).default([]),
  /** Cloud identities the team's apps may bind, by name. */
  identities: nameRecord(identitySchema).prefault({}),
  /** Backing services (Postgres, Valkey) the platform runs for the team, by name; apps bind them by name. */
  services: nameRecord(serviceSchema).prefault({}),
});
export type TeamConfig = z.infer<typeof teamSchema>;

/** What the rules about an app need from its team: the namespace's guardrails (from the contract) and the team's volumes. */
export interface TeamScope {
  readonly quota: QuotaConfig;
  readonly limits: LimitRangeConfig;
  readonly volumes: Readonly<Record<string, VolumeConfig>>;
}

export { quotaSchema, limitRangeSchema, volumeSchema, customTimeoutsSchema };

const httpProbe = z.strictObject({
  path: z.string().regex(/^\/\S*$/, { message: "must be an absolute HTTP path without whitespace" }),
  /** Port name or number; defaults to the app's port. */
  port: int32().min(1).max(65535).optional(),
  /** Timings default to the Workload component's (`workloadDefaults.probe`). */
  initialDelaySeconds: int32().min(0).optional(),
  periodSeconds: int32().min(1).optional(),
  timeoutSeconds: int32().min(1).optional(),
  failureThreshold: int32().min(1).optional(),
});
export type ProbeConfig = z.infer<typeof httpProbe>;

const intOrPercent = z.union([
  int32().min(0),
  z.string().regex(/^(100|[1-9]?[0-9])%$/, { message: 'must be a whole number or a percentage such as "25%"' }),
]);

export const appSchema = z.strictObject({
  /** Name of an image in `blueprint:release.images`. */
  image: z.string(),
  /** Container port the app listens on (12-factor port binding). */
  port: int32().min(1).max(65535),
  /** `app.kubernetes.io/component`. @default "server" */
  component: z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(MAX_LABEL_VALUE).default("server"),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  /** Fixed replica count; mutually exclusive with `autoscaling`. */
  replicas: int32().min(1).optional(),
  autoscaling: z
    .strictObject({
      minReplicas: int32().min(1),
      maxReplicas: int32().min(1),
      targetCPUUtilizationPercentage: int32().min(1).max(100).default(W.targetCPUUtilizationPercentage),
    })
    .optional(),
  /** Container resources; missing values come from the team's LimitRange defaults. */
  resources: z
    .strictObject({ requests: resourceSet.default({}), limits: resourceSet.default({}) })
    .default({ requests: {}, limits: {} }),
  /** Plain environment configuration, rendered into a ConfigMap. */
  config: nameRecord(z.union([z.string(), z.number(), z.boolean()]).transform(String)).prefault({}),
  /** Names of secret environment variables; values come from the secret config `blueprint:secrets.<app>.<NAME>`. */
  secrets: z.array(z.string()).default([]),
  probes: z.strictObject({
    readiness: httpProbe,
    liveness: httpProbe,
    startup: httpProbe.optional(),
  }),
  /** Graceful shutdown: seconds to keep serving after SIGTERM while endpoints are removed. */
  preStopSeconds: int32().min(0).default(W.preStopSeconds),
  /** @default 30 */
  terminationGracePeriodSeconds: int32().min(1).default(W.terminationGracePeriodSeconds),
  rollingUpdate: z
    .strictObject({
      maxSurge: intOrPercent.default(W.rollingUpdate.maxSurge),
      maxUnavailable: intOrPercent.default(W.rollingUpdate.maxUnavailable),
    })
    .default({ ...W.rollingUpdate }),
  /** PriorityClass tier. @default "standard" */
  priority: z.enum(["critical", "standard", "low"]).default("standard"),
  /** UID/GID the container runs as (the image must not need root). @default 10001 */
  runAsUser: int32().min(1).default(W.runAsUser),
  /** Size limit of the writable `/tmp` emptyDir (the root filesystem is read-only). @default "64Mi" */
  tmpSize: quantity.default(W.tmpSize),
  /** A cloud identity the platform lets the team bind (`blueprint:teams.<team>.identities` of the platform stack), by name. */
  identity: z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(63).optional(),
  /**
   * Egress beyond the namespace and DNS, which is otherwise denied: destinations (IPv4 blocks) and
   * ports, for the app's pods and its release Job, e.g. an external database. Link-local addresses
   * (instance metadata) are never reachable this way.
   */
  egress: z
    .array(
      z.strictObject({
        cidrs: z.array(ipv4Cidr).min(1),
        ports: z
          .array(
            z.strictObject({
              port: z.number().int().min(1).max(65535),
              protocol: z.enum(["TCP", "UDP"]).default("TCP"),
            }),
          )
          .min(1),
      }),
    )
    .default([]),
  /** Team volumes to mount: volume name -> mount path. */
  volumeMounts: nameRecord(
    z.string().regex(/^\/[^\s:]*$/, { message: "must be an absolute path without whitespace or ':'" }),
  ).prefault({}),
  /** Backing services of the team (`blueprint:teams.<team>.services` of the platform stack) the app binds, by name. */
  services: bindingsSchema,
  /** An admin Job (e.g. migrations) run with the release's image before the Deployment rolls. */
  releaseJob: z
    .strictObject({
      command: z.array(z.string()).min(1),
      args: z.array(z.string()).optional(),
      backoffLimit: int32().min(0).default(adminJobDefaults.backoffLimit),
      activeDeadlineSeconds: int32().min(1).default(adminJobDefaults.activeDeadlineSeconds),
    })
    .optional(),
  /** Expose through an Ingress of the cluster's ingress class, with TLS. */
  ingress: z
    .strictObject({
      /** One of the hosts the platform lets the team serve. */
      host: hostName,
      path: z.string().startsWith("/").default("/"),
      /** Secret with the TLS certificate; defaults to `<app>-tls`. */
      tlsSecretName: z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(253).optional(),
    })
    .optional(),
  /** Prometheus metrics the app serves on a port of its own (docs/observability.md). */
  metrics: metricsSchema.optional(),
  /** Availability objective; its error-budget alerts are rendered from the app's request metrics. */
  slo: sloSchema.optional(),
});
export type AppConfigSpec = z.infer<typeof appSchema>;

const customTimeoutsSchema = z.strictObject({
  create: duration.optional(),
  update: duration.optional(),
  delete: duration.optional(),
});

/**
 * S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with
 * a letter or digit (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
 */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Where Velero writes an existing cluster's backups: MinIO in the cluster (local, dev), an
 * S3-compatible bucket, or nowhere (`none`: no Velero, for a throwaway cluster; not in production).
 */
export const objectStoreSchema = z.discriminatedUnion("type", [
  z.strictObject({
    /** No volume backups and no Velero: a cluster whose data is disposable (a benchmark, a demo). */
    type: z.literal("none"),
  }),
  z.strictObject({
    /** MinIO in the cluster, made by the platform (credentials generated): for local and dev only. */
    type: z.literal("minio"),
    /** MinIO's data volume. @default "10Gi" */
    storage: quantity.default("10Gi"),
  }),
  z.strictObject({
    /** An S3-compatible bucket that exists; its keys come from the secret `blueprint:backupStoreCredentials`. */
    type: z.literal("s3"),
    bucket: z.string().regex(BUCKET_NAME, {
      message:
        "must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
    }),
    /** The bucket's region (any non-empty string for stores without regions, e.g. `us-east-1` for MinIO). */
    region: z.string().regex(/^[a-z0-9-]{1,40}$/, { message: "must be a region name such as eu-west-1" }),
    /** The S3 API endpoint of a store other than AWS S3, e.g. `https://s3.example.com`. */
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, { message: "must be an http(s) URL without query or fragment" })
      .optional(),
    /** Address the bucket in the path (`<url>/<bucket>`), as most S3-compatible stores need. @default false */
    pathStyle: z.boolean().default(false),
    /** Folder in the bucket for this cluster's backups. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, {
        message: "must be an object key prefix without leading or trailing slash",
      })
      .optional(),
  }),
]);
export type ObjectStoreConfig = z.infer<typeof objectStoreSchema>;

const platformSchema = z.strictObject({
  /** Per-operation timeouts for Kubernetes resources, e.g. `"10m"`. */
  customTimeouts: customTimeoutsSchema.default({}),
  /** Reclaim policy of the default StorageClass; `Retain` keeps volumes after the PVC is deleted. */
  reclaimPolicy: z.enum(["Delete", "Retain"]).optional(),
  /** GKE: the VPC range reserved for private services access (managed Cloud SQL and Memorystore). @default "10.60.0.0/20" */
  privateServicesCidr: ipv4Cidr.default("10.60.0.0/20"),
  /**
   * Daily backups of the team volumes (AWS Backup on EKS, Backup for GKE, Velero on an existing
   * cluster): start hour (UTC), days kept (at least 7 in production), and on an existing cluster
   * the object storage Velero writes to (docs/backups.md).
   */
  volumeBackups: z
    .strictObject({
      hourUtc: z.number().int().min(0).max(23).default(3),
      retentionDays: z.number().int().min(1).max(3650).default(14),
      /** Existing clusters only: where Velero writes (`minio`, `s3`, or `none`). @default { type: minio } outside production; required in production */
      objectStore: objectStoreSchema.optional(),
    })
    .prefault({}),
});
export type PlatformSettings = z.infer<typeof platformSchema>;

const policySchema = z.strictObject({
  /** Registry prefixes images may come from besides the registries of the release (as the cluster pulls them). */
  allowedRegistries: z
    .array(
      z.string().regex(REGISTRY_PREFIX, {
        message:
          'must be a registry host with an optional path prefix, such as "ghcr.io" or "europe-west1-docker.pkg.dev/acme/ghcr"',
      }),
    )
    .default([]),
});

/**
 * Production data safety: protect namespaces and volumes, retain volumes, demand HA. Required,
 * with no default: deleting the line must not quietly turn prod into a non-production stack.
 */
const production = z.boolean();

/** Keys of a platform stack (`<env>.platform`): the cluster, its add-ons and the team namespaces. */
export const platformKeys = {
  layer: z.literal("platform"),
  cluster: clusterSchema,
  production,
  platform: platformSchema.default(platformSchema.parse({})),
  teams: nameRecord(teamSchema),
  /** Secret kubeconfig for `cloud: existing` without a context. */
  kubeconfig: z.string().min(1).optional(),
  /** The policy gates (admission policy, policy pack, audit); see docs/policy.md. */
  policy: policySchema.default({ allowedRegistries: [] }),
  /** Logs, metrics, alerts and dashboards; see docs/observability.md. */
  observability: observabilitySchema.prefault({}),
  /** Secret config: team -> service -> URL of an `external` service, credentials included. */
  serviceUrls: nameRecord(nameRecord(z.string().min(1))).prefault({}),
  /** Secret config: the access key of `platform.volumeBackups.objectStore` of type `s3`. */
  backupStoreCredentials: z
    .strictObject({
      accessKeyId: z.string().regex(/^[\x21-\x7e]{1,128}$/, { message: "must be 1-128 printable characters" }),
      secretAccessKey: z.string().regex(/^[\x21-\x7e]{1,128}$/, { message: "must be 1-128 printable characters" }),
    })
    .optional(),
} as const;
export const platformStackSchema = z.strictObject(platformKeys);
export type PlatformStackSchema = z.infer<typeof platformStackSchema>;

/** Keys of a team stack (`<env>.<team>`): the team's apps, volumes and secrets, and its release pointer. */
export const teamStackKeys = {
  layer: z.literal("team"),
  /** The team: the part of the stack name after the first dot. */
  team: z.string().regex(DNS_LABEL, { message: "must be a DNS label" }).max(63),
  /** Must equal the platform's (checked against the contract). */
  production,
  /** The platform stack whose contract this stack reads. @default "<env>.platform" of the same organization and project */
  platformStack: z
    .string()
    .regex(/^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]{1,100}$/, {
      message: "must be a stack name, optionally qualified as <organization>/<project>/<stack>",
    })
    .optional(),
  release: releaseSchema,
  apps: nameRecord(appSchema).prefault({}),
  /** PersistentVolumeClaims owned by the team, mounted by its apps by name. */
  volumes: nameRecord(volumeSchema).prefault({}),
  /** Secret config: app -> variable name -> value. Set with `pulumi config set --secret --path`. */
  secrets: nameRecord(nameRecord(z.string())).prefault({}),
  /** Per-operation timeouts of the team's Kubernetes resources; each unset value is the platform's. */
  customTimeouts: customTimeoutsSchema.optional(),
} as const;
export const teamStackSchema = z.strictObject(teamStackKeys);
export type TeamStackSchema = z.infer<typeof teamStackSchema>;
