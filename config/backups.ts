import type { ConfigProblem } from "../lib/errors";
import type { ObjectStoreConfig } from "./schema";

/**
 * The rules of `blueprint:platform.volumeBackups.objectStore` and the secret
 * `blueprint:backupStoreCredentials`, which only an existing cluster's Velero reads: EKS keeps its
 * volume backups in AWS Backup and GKE in Backup for GKE (docs/backups.md).
 */

/** What the rules need from a platform stack. */
export interface BackupEnvironment {
  readonly cloud?: "aws" | "gcp" | "existing";
  readonly production: boolean;
  readonly objectStore?: ObjectStoreConfig;
  /** Whether the secret `blueprint:backupStoreCredentials` is set (its values are never read here). */
  readonly hasCredentials: boolean;
}

const OBJECT_STORE = "blueprint:platform.volumeBackups.objectStore";
const CREDENTIALS = "blueprint:backupStoreCredentials";

/** Every problem of the object storage settings; empty when Velero can be deployed (or is not needed). */
export function backupStoreProblems(env: BackupEnvironment): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key, message });
  if (env.cloud === "aws" || env.cloud === "gcp") {
    const service = env.cloud === "aws" ? "AWS Backup" : "Backup for GKE";
    if (env.objectStore)
      add(
        OBJECT_STORE,
        `is for an existing cluster's Velero; on ${env.cloud === "aws" ? "EKS" : "GKE"} the volume backups are ${service}'s (hourUtc and retentionDays only): remove it`,
      );
    if (env.hasCredentials)
      add(CREDENTIALS, `is for an existing cluster's Velero; ${service} needs no access key: remove it`);
    return problems;
  }
  if (env.cloud !== "existing") return problems;
  const store = env.objectStore;
  if (!store) {
    if (env.production)
      add(
        OBJECT_STORE,
        "is required on an existing cluster in a production environment: name an S3-compatible bucket outside the cluster ({ type: s3, bucket, region, url, pathStyle }), so a lost cluster does not take its backups with it",
      );
    else if (env.hasCredentials)
      add(
        CREDENTIALS,
        "is set, but there is no objectStore of type s3 to use it: the in-cluster MinIO's keys are generated",
      );
    return problems;
  }
  if (store.type === "none") {
    if (env.production)
      add(
        `${OBJECT_STORE}.type`,
        'is "none", but a production environment backs up its team volumes: name an S3-compatible bucket (type: s3)',
      );
    if (env.hasCredentials) add(CREDENTIALS, 'is set, but the objectStore is "none": remove it');
    return problems;
  }
  if (store.type === "minio") {
    if (env.production)
      add(
        `${OBJECT_STORE}.type`,
        'is "minio", which runs in the cluster it backs up: a production environment needs its backups outside the cluster (type: s3, with a bucket of an S3-compatible store)',
      );
    if (env.hasCredentials)
      add(CREDENTIALS, "is set, but the objectStore is the in-cluster MinIO, whose keys are generated: remove it");
    return problems;
  }
  if (!env.hasCredentials)
    add(
      CREDENTIALS,
      "is required for an objectStore of type s3: set accessKeyId and secretAccessKey with `pulumi config set --secret --path 'backupStoreCredentials.accessKeyId' <id>` (and secretAccessKey likewise)",
    );
  if (store.url?.startsWith("http://") && env.production)
    add(
      `${OBJECT_STORE}.url`,
      `is "${store.url}": a production environment sends its backups over TLS only, give an https:// endpoint`,
    );
  if (store.url !== undefined && !store.pathStyle && /^https?:\/\/(\d+\.){3}\d+([:/]|$)/.test(store.url))
    add(
      `${OBJECT_STORE}.pathStyle`,
      `is false, but the endpoint "${store.url}" is an IP address, which cannot carry the bucket as a subdomain: set pathStyle: true`,
    );
  return problems;
}
