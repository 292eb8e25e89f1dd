import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Where Velero writes an existing cluster's backups: MinIO made in the cluster (local and dev; its
 * keys are generated), or an S3-compatible bucket that exists, with its access key as a secret.
 */
export type VeleroObjectStore =
  | {
      readonly type: "minio";
      /** MinIO's data volume, e.g. `10Gi` (on the cluster's default StorageClass). */
      readonly storage: string;
    }
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly region: string;
      /** The S3 API endpoint of a store other than AWS S3. */
      readonly url?: string;
      /** Address the bucket in the path (`<url>/<bucket>`), as most S3-compatible stores need. */
      readonly pathStyle: boolean;
      /** Folder in the bucket for this cluster's backups. */
      readonly prefix?: string;
      /** The access key (secret config); never in a stack output. */
      readonly credentials: pulumi.Input<{ readonly accessKeyId: string; readonly secretAccessKey: string }>;
    };

/** Daily file-system backups of the team namespaces' volumes with Velero (docs/backups.md). */
export interface VeleroBackupArgs {
  /** The hour (UTC) the daily backup starts. */
  readonly hourUtc: number;
  /** Days a backup is kept (the Schedule's TTL). */
  readonly retentionDays: number;
  /** Team namespaces the Schedule covers. */
  readonly namespaces: readonly string[];
  readonly objectStore: VeleroObjectStore;
  /** Pod Security version label of the platform's namespaces, e.g. `v1.36`. */
  readonly podSecurityVersion: string;
}

/** What an add-on of an existing cluster gets: its name, its Kubernetes provider and what it was asked for. */
export interface ExistingKubernetesContext {
  /** Prefix of every resource name (the cluster's name). */
  readonly name: string;
  readonly provider: k8s.Provider;
  /** Volume backups; the Velero add-on is off without them. */
  readonly volumeBackups?: VeleroBackupArgs;
}
