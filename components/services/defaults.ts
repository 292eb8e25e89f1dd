/**
 * Defaults of managed data per cloud, in one visible place and free of any cloud SDK, so the
 * components and the tools that estimate what they cost (`npm run costs`) read the same values.
 */

/** Defaults of managed data on AWS, in one visible place. */
export const awsDataDefaults = {
  postgresVersion: { "16": "16", "17": "17" } as Readonly<Record<string, string>>,
  instanceClass: { production: "db.m7g.large", other: "db.t4g.medium" },
  auroraInstanceClass: { production: "db.r7g.large", other: "db.t4g.medium" },
  allocatedStorageGiB: 20,
  /** Storage autoscaling ceiling, as a multiple of the allocated storage. */
  maxStorageFactor: 5,
  nodeType: { production: "cache.m7g.large", other: "cache.t4g.small" },
  /** ElastiCache for Valkey 8.0, cluster mode off: the default parameter group of the family. */
  valkeyVersion: "8.0",
  valkeyParameterGroup: "default.valkey8",
  adminUser: "blueprint_admin",
  kmsDeletionWindowDays: { production: 30, other: 7 },
} as const;

/** Defaults of managed data on GCP, in one visible place. */
export const gcpDataDefaults = {
  tier: { production: "db-custom-2-7680", other: "db-custom-1-3840" },
  diskSizeGb: 20,
  memorySizeGb: { production: 5, other: 1 },
  redisVersion: "REDIS_7_2",
  /** Memorystore for Redis serves TLS on 6378 (https://cloud.google.com/memorystore/docs/redis/in-transit-encryption). */
  redisTlsPort: 6378,
  postgresPort: 5432,
  adminUser: "blueprint_admin",
  keyRotationPeriod: "7776000s",
  /** The range reserved for Google-managed services (Cloud SQL, Memorystore) peered into the VPC. */
  privateServicesPrefixLength: 20,
} as const;
