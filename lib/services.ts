/**
 * Backing services (Postgres and a Valkey cache) as plain data: the names an app sees, the Secret
 * a binding is written to, the users that alternate on rotation, the connection URL, and what each
 * engine offers. No Pulumi import: config validation, the components and the tests share it.
 */

/** The engines a team may be granted. */
export const SERVICE_TYPES = ["postgres", "valkey"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** Where an instance runs: in the team namespace, as the cloud's managed service, or elsewhere (a URL). */
export const SERVICE_FLAVOURS = ["in-cluster", "managed", "external"] as const;
export type ServiceFlavour = (typeof SERVICE_FLAVOURS)[number];

/** The environment variables every binding gives an app, in this order, as `<NAME>_<SUFFIX>`. */
export const BINDING_VARIABLES = ["URL", "HOST", "PORT", "USERNAME", "PASSWORD", "DATABASE"] as const;

/** The keys of a binding's Secret, one per variable (lowercase). */
export const BINDING_KEYS = BINDING_VARIABLES.map((v) => v.toLowerCase());

/** The key of a binding Secret that holds the server's CA certificate, where clients must be given one. */
export const CA_KEY = "ca.crt";

/** Where a bound app finds a service's CA certificate, when the binding has one. */
export function caPath(service: string): string {
  return `/etc/blueprint/services/${service}/${CA_KEY}`;
}

/** The prefix of a service's variables: `session-cache` -> `SESSION_CACHE`. */
export function variablePrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, "_");
}

/** The variables an app bound to `service` sees, e.g. `DB_URL`, `DB_HOST`, ... */
export function bindingVariables(service: string): string[] {
  return BINDING_VARIABLES.map((v) => `${variablePrefix(service)}_${v}`);
}

/** The label a bound app's pods carry; the service's network rules admit only pods with it. */
export function bindingLabel(service: string): string {
  return `services.blueprint.dev/${service}`;
}
/** The value of {@link bindingLabel}. */
export const BOUND = "bound";

/** The label every pod of a backing service carries; the namespace-wide allow rule leaves such pods out. */
export const BACKING_SERVICE_LABEL = "blueprint.dev/backing-service";

/** The default port of each engine (Memorystore for Redis serves TLS on 6378). */
export const DEFAULT_PORTS: Readonly<Record<ServiceType, number>> = { postgres: 5432, valkey: 6379 };

/**
 * The two login users of a Postgres binding, which take turns: generation `g` writes the Secret of
 * user `users[g % 2]`, with a new password; the other user keeps the previous generation's
 * password until the next rotation, so pods that have not rolled yet still log in.
 */
export function rotatingUsers(service: string): readonly [string, string] {
  const base = service.replace(/-/g, "_");
  return [`${base}_a`, `${base}_b`];
}

/** The user a generation's Secret carries. */
export function userOf(service: string, generation: number): string {
  return rotatingUsers(service)[generation % 2];
}

/**
 * The Secret of one binding at one generation. A new generation gets a new name, so every
 * Deployment that reads it rolls (a Secret's content change alone restarts nothing).
 */
export function bindingSecretName(service: string, generation: number): string {
  return `svc-${service}-g${generation}`;
}

/** The database of a Postgres service: its name with '-' as '_' (an unquoted SQL identifier). */
export function databaseName(service: string): string {
  return service.replace(/-/g, "_");
}

/** What a client needs to connect, before it is written to a Secret. */
export interface Connection {
  readonly type: ServiceType;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly tls: boolean;
  /** Path of the CA certificate the client must verify the server with, when the system roots do not. */
  readonly caFile?: string;
  /**
   * What a Postgres client checks of the server with `caFile`: `full` (the chain and the host
   * name, `sslmode=verify-full`; the default) or `ca` (the chain only, `verify-ca`), for a server
   * whose certificate does not name the address clients use but whose CA signs for it alone.
   */
  readonly verify?: "full" | "ca";
}

/**
 * The connection URL: `postgresql://` with `sslmode` for Postgres (`verify-full`, or `verify-ca`, with a CA file,
 * else `require`), `rediss://` (TLS) or `redis://` for the cache. User and password are
 * percent-encoded, so any character the engine allows is safe in it.
 */
export function connectionUrl(c: Connection): string {
  const auth = `${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}`;
  if (c.type === "postgres") {
    const ssl = !c.tls
      ? "disable"
      : c.caFile
        ? `verify-${c.verify ?? "full"}&sslrootcert=${encodeURIComponent(c.caFile)}`
        : "require";
    return `postgresql://${auth}@${c.host}:${c.port}/${encodeURIComponent(c.database)}?sslmode=${ssl}`;
  }
  return `${c.tls ? "rediss" : "redis"}://${auth}@${c.host}:${c.port}/${c.database}`;
}

/** The keys and values of a binding's Secret. */
export function bindingSecretData(c: Connection): Record<string, string> {
  return {
    url: connectionUrl(c),
    host: c.host,
    port: String(c.port),
    username: c.username,
    password: c.password,
    database: c.database,
  };
}

/**
 * Password rules per engine, for generated credentials. Postgres: any character, but '@', '/',
 * '"' and ' ' trip clients that build URLs or connection strings by hand, and RDS refuses '/', '@',
 * '"' and ' ' in the master password (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.Constraints).
 * ElastiCache AUTH tokens: 16-128 printable characters without '@', '"' or '/'
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html). Valkey ACL passwords
 * must not contain spaces; '>' and '<' start ACL rules. Letters and digits only, 32 of them, meet
 * every rule with about 190 bits of entropy.
 */
export const PASSWORD_RULES = {
  length: 32,
  special: false,
  upper: true,
  lower: true,
  numeric: true,
  minUpper: 2,
  minLower: 2,
  minNumeric: 2,
} as const;

/**
 * Instance classes RDS for PostgreSQL offers (families by generation; sizes checked by pattern),
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html.
 * Aurora PostgreSQL offers the r and t4g/t3 families.
 */
const RDS_FAMILIES = [
  "t3",
  "t4g",
  "m5",
  "m5d",
  "m6g",
  "m6gd",
  "m6i",
  "m6id",
  "m7g",
  "m7i",
  "m8g",
  "r5",
  "r5b",
  "r5d",
  "r6g",
  "r6gd",
  "r6i",
  "r6id",
  "r7g",
  "r7i",
  "r8g",
  "x2g",
];
const AURORA_FAMILIES = ["t3", "t4g", "r5", "r6g", "r6i", "r7g", "r7i", "r8g", "x2g"];
const RDS_SIZES = [
  "micro",
  "small",
  "medium",
  "large",
  "xlarge",
  "2xlarge",
  "4xlarge",
  "8xlarge",
  "12xlarge",
  "16xlarge",
  "24xlarge",
  "32xlarge",
  "48xlarge",
];
/** Burstable classes stop at 2xlarge. */
const BURSTABLE_SIZES = ["micro", "small", "medium", "large", "xlarge", "2xlarge"];

/** Does RDS (or Aurora) for PostgreSQL offer this instance class? */
export function rdsClassOffered(instanceClass: string, engine: "rds" | "aurora"): boolean {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  if (!m) return false;
  const [, family, size] = m;
  const families = engine === "aurora" ? AURORA_FAMILIES : RDS_FAMILIES;
  if (!families.includes(family)) return false;
  const burstable = family.startsWith("t");
  if (burstable) return BURSTABLE_SIZES.includes(size) && (engine === "rds" || ["medium", "large"].includes(size));
  return RDS_SIZES.slice(3).includes(size);
}

/**
 * ElastiCache node types that run Valkey
 * (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html).
 */
const CACHE_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  t3: ["micro", "small", "medium"],
  t4g: ["micro", "small", "medium"],
  m5: ["large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"],
  m6g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  m7g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r6g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
  r7g: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
};

/** Does ElastiCache offer this node type for Valkey? */
export function cacheNodeTypeOffered(nodeType: string): boolean {
  const m = /^cache\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(nodeType);
  return !!m && (CACHE_FAMILIES[m[1]]?.includes(m[2]) ?? false);
}

/**
 * Does Cloud SQL for PostgreSQL offer this tier? Shared-core `db-f1-micro`/`db-g1-small`, or a
 * custom machine `db-custom-<vCPUs>-<MiB>`: 1 or an even number of vCPUs up to 96, memory a
 * multiple of 256 MiB between 0.9 and 6.5 GiB per vCPU
 * (https://cloud.google.com/sql/docs/postgres/create-instance#machine-types).
 */
export function cloudSqlTierOffered(tier: string): boolean {
  if (tier === "db-f1-micro" || tier === "db-g1-small") return true;
  const m = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  if (!m) return false;
  const cpus = Number(m[1]);
  const mib = Number(m[2]);
  if (!(cpus === 1 || (cpus % 2 === 0 && cpus >= 2 && cpus <= 96))) return false;
  return mib % 256 === 0 && mib >= 0.9 * 1024 * cpus && mib <= 6.5 * 1024 * cpus;
}

/**
 * The credential generations whose Memorystore instance exists: the current one, and the one
 * before it until `retiredRotation` retires it. Memorystore generates the AUTH string and changes
 * it only by turning AUTH off and on, which invalidates the old string at once
 * (https://cloud.google.com/memorystore/docs/redis/about-redis-auth), so a rotation that keeps the
 * old credential working needs a second instance with its own string.
 */
export function memorystoreGenerations(rotation: number, retiredRotation?: number): number[] {
  const keepPrevious = rotation > 0 && (retiredRotation === undefined || retiredRotation < rotation - 1);
  return keepPrevious ? [rotation - 1, rotation] : [rotation];
}

/** Memorystore for Redis capacity bounds in GB (https://cloud.google.com/memorystore/docs/redis/pricing#instance_pricing). */
export const MEMORYSTORE_GB = { min: 1, max: 300 } as const;

/** The shortest automated backup retention a production instance may have, in days. */
export const PRODUCTION_MIN_BACKUP_DAYS = 7;

/**
 * Upstream images of the in-cluster flavour, pinned by digest (multi-arch index digests as Docker
 * Hub serves them): `postgres:17.6-bookworm` and `valkey/valkey:8.1.3`. The Docker Official Image
 * keeps its Debian tags; a Bitnami-style moved tag cannot break a digest.
 */
export const IN_CLUSTER_IMAGES: Readonly<Record<ServiceType, string>> = {
  postgres: "docker.io/library/postgres@sha256:f3bd19c606e442c3d7bdfa8002e03fe260a1023351e0ea4598032022b68dd6e3",
  valkey: "docker.io/valkey/valkey@sha256:fea8b3e67b15729d4bb70589eb03367bab9ad1ee89c876f54327fc7c6e618571",
};

/**
 * The image of the platform's Job that sets up the users of managed Postgres (namespace
 * `blueprint-data`): the in-cluster flavour's Postgres, for its `psql`. A platform image: the
 * policy pack allows this exact reference (as the cluster pulls it), so the teams' allow-list,
 * `blueprint:policy.allowedRegistries`, needs no `docker.io/library` for it.
 */
export const MANAGED_USERS_IMAGE = IN_CLUSTER_IMAGES.postgres;

/** Whole GiB of a storage quantity such as `20Gi`; undefined when none is given. */
export function parseGiB(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  const text = String(q);
  const m = /^(\d+)(Gi|Ti)?$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === "Ti" ? 1024 : m[2] === "Gi" ? 1 : 1 / 2 ** 30);
}
