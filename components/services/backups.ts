/**
 * Volume backups as plain data, without a cloud SDK: what the platform stack exports for alerting.
 * The plans themselves are `AwsVolumeBackups` (./aws.ts), `GkeVolumeBackups` (./gcp.ts) and, on an
 * existing cluster, the Velero add-on (../cluster/existing/addons/velero.ts).
 */

/**
 * What is backed up when, as plain data: the stack exports it (output `volumeBackups`) so alerting
 * can watch each plan for failed or stale backups. No credential, no cloud secret.
 */
export interface VolumeBackupPlan {
  /** `aws-backup` (EKS), `backup-for-gke` (GKE) or `velero` (an existing cluster). */
  readonly kind: "aws-backup" | "backup-for-gke" | "velero";
  /** The plan's name as the cloud shows it (AWS Backup plan name, Backup for GKE plan id, Velero Schedule). */
  readonly name: string;
  /** Where its backups go: the AWS Backup vault, the Backup for GKE plan's location, or Velero's bucket. */
  readonly target: string;
  /** When a backup starts, as a cron expression in UTC in the cloud's own syntax. */
  readonly schedule: string;
  /** The hour (UTC) a daily backup starts: the same figure for every cloud, for staleness checks. */
  readonly hourUtc: number;
  readonly retentionDays: number;
  /** Team namespaces whose volumes it covers. */
  readonly namespaces: readonly string[];
}

/** Schedule and retention of the environment's volume backups (`blueprint:platform.volumeBackups`). */
export interface VolumeBackupSettings {
  readonly hourUtc: number;
  readonly retentionDays: number;
}
