import { z } from "zod";
import { isQuantity, parseQuantity } from "../lib/quantity";
import type { ConfigProblem } from "../lib/errors";
import { isAllowedImage } from "../lib/registries";
import { pullReferenceFor } from "../lib/mirrors";
import { parseRdsBundle, RDS_CA_REFRESH_COMMAND, rdsRootCommonName } from "../lib/rds-ca";
import { RDS_BUNDLE_SOURCE, RDS_GLOBAL_BUNDLE } from "../lib/rds-ca-bundle";
import {
  bindingVariables,
  cacheNodeTypeOffered,
  cloudSqlTierOffered,
  IN_CLUSTER_IMAGES,
  MEMORYSTORE_GB,
  PRODUCTION_MIN_BACKUP_DAYS,
  rdsClassOffered,
  SERVICE_FLAVOURS,
  SERVICE_TYPES,
  type ServiceType,
} from "../lib/services";

/**
 * `blueprint:teams.<team>.services.<name>` of a platform stack: a backing service the platform
 * grants a team, in the flavour this environment runs it, and `apps.<app>.services` of a team
 * stack, which binds granted services by name. The cross-field rules are here too, so the
 * schema and its rules read together.
 */

const quantity = z
  .union([z.string(), z.number()])
  .refine((q) => isQuantity(q), { message: 'must be a Kubernetes quantity such as "256Mi" or "10Gi"' });

/** Longest service name: its Secret `svc-<name>-g<generation>` and labels stay well inside 63 characters. */
export const MAX_SERVICE_NAME = 30;

const common = {
  /** `in-cluster` (dev, local), `managed` (the cloud's service) or `external` (a URL from secret config). */
  flavour: z.enum(SERVICE_FLAVOURS),
  /**
   * Credential generation. Raise it by one to rotate: the new credential is written to a new
   * Secret (so bound Deployments roll) while the previous one keeps working until the next rotation.
   * @default 0
   */
  rotation: z.number().int().min(0).max(1_000_000).default(0),
  /** In-cluster: container resources of the instance (counted against the team's quota). */
  resources: z.strictObject({ cpu: quantity.default("500m"), memory: quantity.default("512Mi") }).prefault({}),
  /** Automated backups kept, in days (managed: engine backups with point-in-time recovery). @default 7 */
  backupRetentionDays: z.number().int().min(0).max(35).default(7),
  /** Reachable from outside the network. Refused in production. @default false */
  publicAccess: z.boolean().default(false),
  /** Destroy without a final snapshot. Refused in production. @default false */
  skipFinalSnapshot: z.boolean().default(false),
  /** Multi-AZ (AWS) or regional (GCP) high availability. @default true in production */
  highAvailability: z.boolean().optional(),
  /** Data volume (in-cluster PVC) or allocated storage (managed Postgres), e.g. `20Gi`. @default "5Gi" in-cluster Postgres, "1Gi" in-cluster Valkey, "20Gi" managed */
  storage: quantity.optional(),
};

const postgresSchema = z.strictObject({
  type: z.literal("postgres"),
  ...common,
  /** Major version. @default "17" */
  version: z.enum(["16", "17"]).default("17"),
  /** AWS: `rds` (one instance, Multi-AZ standby) or `aurora` (a cluster of a writer and readers). @default "rds" */
  engine: z.enum(["rds", "aurora"]).optional(),
  /** AWS: DB instance class such as `db.t4g.medium`. */
  instanceClass: z.string().optional(),
  /** GCP: Cloud SQL tier such as `db-custom-2-7680`. */
  tier: z.string().optional(),
});

const valkeySchema = z.strictObject({
  type: z.literal("valkey"),
  ...common,
  /** AWS: ElastiCache node type such as `cache.t4g.small`. */
  nodeType: z.string().optional(),
  /** GCP: Memorystore capacity in GB. */
  memorySizeGb: z.number().int().optional(),
  /**
   * GCP (Memorystore): the newest credential generation whose instance is deleted. A rotation
   * creates a new instance (Memorystore makes the AUTH string itself) and keeps the previous one
   * until this reaches `rotation - 1`, once every bound Deployment has rolled.
   */
  retiredRotation: z.number().int().min(0).max(1_000_000).optional(),
});

/** One granted service. */
export const serviceSchema = z.discriminatedUnion("type", [postgresSchema, valkeySchema], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? `needs a type: one of ${SERVICE_TYPES.join(", ")}${unknownKeys(issue.input)}`
      : undefined,
});

/** Keys no service type knows (a misspelt `type` among them), named so the typo is found at once. */
function unknownKeys(input: unknown): string {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return "";
  const known = new Set([...Object.keys(postgresSchema.shape), ...Object.keys(valkeySchema.shape)]);
  const unknown = Object.keys(input).filter((k) => !known.has(k));
  return unknown.length ? ` (unknown key${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")})` : "";
}
export type ServiceConfig = z.infer<typeof serviceSchema>;
export type PostgresServiceConfig = z.infer<typeof postgresSchema>;
export type ValkeyServiceConfig = z.infer<typeof valkeySchema>;

/** `apps.<app>.services`: names of services the platform granted the team. */
export const bindingsSchema = z.array(z.string()).default([]);

/** What the platform rules need to know about the environment. */
export interface ServiceEnvironment {
  readonly cloud: "aws" | "gcp" | "existing" | undefined;
  /** `cluster.aws.region`, where managed Postgres needs the region's RDS root CA. */
  readonly awsRegion?: string;
  readonly production: boolean;
  readonly teams: Readonly<Record<string, { readonly services: Readonly<Record<string, ServiceConfig>> }>>;
  /** The registries the cluster's admission policy allows (`policy.allowedRegistries`). */
  readonly allowedRegistries: readonly string[];
  /** Upstream registry host -> mirror prefix, when the cluster pulls through one. */
  readonly mirrors: Readonly<Record<string, string>>;
  /** Team -> service names whose URL is set in `blueprint:serviceUrls` (secret). */
  readonly externalUrls: Readonly<Record<string, readonly string[]>>;
}

const NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

let bundleRegions: Set<string> | undefined;
/** The regions whose RDS root of the CA this project sets is in the shipped bundle (parsed once). */
function rdsBundleRegions(): Set<string> {
  bundleRegions ??= new Set(
    parseRdsBundle(RDS_GLOBAL_BUNDLE)
      .filter((r) => r.region && r.commonName === rdsRootCommonName(r.region))
      .map((r) => r.region!),
  );
  return bundleRegions;
}

/** The platform-side rules of granted services; keys are relative to `blueprint:`. */
export function serviceProblems(env: ServiceEnvironment): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key: `blueprint:${key}`, message });
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const [name, svc] of Object.entries(team.services)) {
      const key = `teams.${teamName}.services.${name}`;
      if (!NAME.test(name) || name.length > MAX_SERVICE_NAME) {
        add(
          key,
          `service name must be a DNS label of at most ${MAX_SERVICE_NAME} characters starting with a letter (it names a Secret, a Service and environment variables), got "${name}"`,
        );
        continue;
      }
      flavourProblems(env, svc, key, add, teamName, name);
    }
  }
  return problems;
}

function flavourProblems(
  env: ServiceEnvironment,
  svc: ServiceConfig,
  key: string,
  add: (k: string, m: string) => void,
  team: string,
  name: string,
): void {
  const cloud = env.cloud;
  const wrongCloud = (field: string, owner: string) =>
    add(`${key}.${field}`, `applies to ${owner} only; this environment's cluster is ${cloud ?? "not configured"}`);
  if (svc.type === "postgres") {
    if (svc.instanceClass !== undefined && !(svc.flavour === "managed" && cloud === "aws"))
      wrongCloud("instanceClass", "managed services on AWS (cluster.cloud: aws)");
    if (svc.tier !== undefined && !(svc.flavour === "managed" && cloud === "gcp"))
      wrongCloud("tier", "managed services on GCP (cluster.cloud: gcp)");
    if (svc.engine !== undefined && !(svc.flavour === "managed" && cloud === "aws"))
      wrongCloud("engine", "managed services on AWS (cluster.cloud: aws)");
    if (
      svc.instanceClass !== undefined &&
      cloud === "aws" &&
      !rdsClassOffered(svc.instanceClass, svc.engine ?? "rds")
    ) {
      add(
        `${key}.instanceClass`,
        `is not a DB instance class ${svc.engine === "aurora" ? "Aurora" : "RDS"} for PostgreSQL offers (such as db.t4g.medium, db.m7g.large, db.r7g.large), got "${svc.instanceClass}"`,
      );
    }
    if (svc.flavour === "managed" && cloud === "aws" && env.awsRegion && !rdsBundleRegions().has(env.awsRegion)) {
      add(
        `${key}.flavour`,
        `is "managed" on RDS in ${env.awsRegion}, but the shipped RDS CA bundle (lib/rds-ca-bundle.ts, read ${RDS_BUNDLE_SOURCE.read}) has no root CA for that region, so apps could not verify the server; refresh it: ${RDS_CA_REFRESH_COMMAND}`,
      );
    }
    if (svc.tier !== undefined && cloud === "gcp" && !cloudSqlTierOffered(svc.tier)) {
      add(
        `${key}.tier`,
        `is not a Cloud SQL for PostgreSQL tier (db-f1-micro, db-g1-small, or db-custom-<1 or an even number of vCPUs up to 96>-<MiB, a multiple of 256, 0.9 to 6.5 GiB per vCPU>), got "${svc.tier}"`,
      );
    }
    if (svc.storage !== undefined && svc.flavour === "managed") {
      const gib = (parseQuantity(svc.storage) ?? 0) / 2 ** 30;
      if (svc.flavour === "managed" && (gib < 20 || gib > 65536))
        add(
          `${key}.storage`,
          `must be between 20Gi and 64Ti for a managed instance (RDS and Cloud SQL allocate whole GiB from 20), got ${svc.storage}`,
        );
      if (svc.flavour === "managed" && !Number.isInteger(gib))
        add(`${key}.storage`, `must be whole GiB for a managed instance, got ${svc.storage}`);
    }
  } else {
    if (svc.nodeType !== undefined && !(svc.flavour === "managed" && cloud === "aws"))
      wrongCloud("nodeType", "managed services on AWS (cluster.cloud: aws)");
    if (svc.memorySizeGb !== undefined && !(svc.flavour === "managed" && cloud === "gcp"))
      wrongCloud("memorySizeGb", "managed services on GCP (cluster.cloud: gcp)");
    if (svc.retiredRotation !== undefined && !(svc.flavour === "managed" && cloud === "gcp"))
      wrongCloud(
        "retiredRotation",
        "Memorystore (managed valkey, cluster.cloud: gcp); elsewhere the previous credential is revoked by the next rotation",
      );
    else if (svc.retiredRotation !== undefined && svc.retiredRotation >= svc.rotation)
      add(
        `${key}.retiredRotation`,
        `must be below rotation (${svc.rotation}): the instance of the current generation serves the bound apps, got ${svc.retiredRotation}`,
      );
    if (svc.nodeType !== undefined && cloud === "aws" && !cacheNodeTypeOffered(svc.nodeType)) {
      add(
        `${key}.nodeType`,
        `is not an ElastiCache node type that runs Valkey (such as cache.t4g.small, cache.m7g.large, cache.r7g.large), got "${svc.nodeType}"`,
      );
    }
    if (
      svc.memorySizeGb !== undefined &&
      cloud === "gcp" &&
      (svc.memorySizeGb < MEMORYSTORE_GB.min || svc.memorySizeGb > MEMORYSTORE_GB.max)
    ) {
      add(
        `${key}.memorySizeGb`,
        `must be between ${MEMORYSTORE_GB.min} and ${MEMORYSTORE_GB.max} (Memorystore capacity in GB), got ${svc.memorySizeGb}`,
      );
    }
  }
  if (svc.flavour === "managed" && cloud === "existing") {
    add(
      `${key}.flavour`,
      `is "managed", but an existing cluster has no managed offering: use "in-cluster", or "external" with a URL in blueprint:serviceUrls.${team}.${name}`,
    );
  }
  if (svc.flavour === "in-cluster") {
    const image = pullReferenceFor(IN_CLUSTER_IMAGES[svc.type], env.mirrors);
    if (!isAllowedImage(image, env.allowedRegistries)) {
      add(
        `${key}.flavour`,
        `is "in-cluster", which runs ${image}, but blueprint:policy.allowedRegistries (${env.allowedRegistries.join(", ") || "none"}) does not allow it: add "${image.split("/").slice(0, 2).join("/")}"`,
      );
    }
  }
  if (svc.flavour === "external" && !(env.externalUrls[team] ?? []).includes(name)) {
    add(
      `serviceUrls.${team}.${name}`,
      `has no value: an external service needs its URL (${svc.type === "postgres" ? "postgresql://user:password@host:5432/database?sslmode=verify-full" : "rediss://user:password@host:6379/0"}); set it with \`pulumi config set --secret --path 'serviceUrls.${team}.${name}' <url>\``,
    );
  }
  if (env.production) {
    if (svc.publicAccess)
      add(
        `${key}.publicAccess`,
        "must be false in a production environment (blueprint:production is true): data stays on private addresses",
      );
    if (svc.skipFinalSnapshot)
      add(
        `${key}.skipFinalSnapshot`,
        "must be false in a production environment: destroying the instance must leave a final snapshot",
      );
    if (svc.backupRetentionDays < PRODUCTION_MIN_BACKUP_DAYS) {
      add(
        `${key}.backupRetentionDays`,
        `must be at least ${PRODUCTION_MIN_BACKUP_DAYS} in a production environment, got ${svc.backupRetentionDays}`,
      );
    }
    if (svc.highAvailability === false && svc.flavour === "managed")
      add(
        `${key}.highAvailability`,
        "must not be false in a production environment: a managed instance runs Multi-AZ or regional",
      );
  }
}

/** What the binding rules need from the team's grant (the contract's `services`). */
export type GrantedServices = Readonly<Record<string, { readonly type: ServiceType }>>;

/**
 * The team-side rules of `apps.<app>.services`: only services the platform granted this team, no
 * duplicates, and no variable that clashes with the app's own config or secrets.
 */
export function bindingProblems(
  apps: Readonly<
    Record<
      string,
      {
        readonly services: readonly string[];
        readonly config: Readonly<Record<string, unknown>>;
        readonly secrets: readonly string[];
      }
    >
  >,
  granted: GrantedServices | undefined,
  where: string,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [appName, app] of Object.entries(apps)) {
    const key = `blueprint:apps.${appName}.services`;
    const seen = new Set<string>();
    for (const svc of app.services) {
      if (seen.has(svc)) problems.push({ key, message: `names "${svc}" twice` });
      seen.add(svc);
      if (granted && !Object.hasOwn(granted, svc)) {
        problems.push({
          key,
          message: `names "${svc}", which ${where} does not grant this team (granted: ${Object.keys(granted).sort().join(", ") || "none"}); the platform adds it under blueprint:teams.<team>.services`,
        });
        continue;
      }
      for (const v of bindingVariables(svc)) {
        if (Object.hasOwn(app.config, v))
          problems.push({
            key: `blueprint:apps.${appName}.config.${v}`,
            message: `clashes with the variable the binding of service "${svc}" sets; remove it (the binding gives ${v})`,
          });
        if (app.secrets.includes(v))
          problems.push({
            key: `blueprint:apps.${appName}.secrets`,
            message: `"${v}" clashes with the variable the binding of service "${svc}" sets; remove it`,
          });
      }
    }
  }
  return problems;
}
