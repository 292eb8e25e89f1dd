import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { AwsDataNetwork, GcpDataNetwork } from "../cluster/handle";

/**
 * What is backed up when, as plain data: the stack exports it (output `volumeBackups`) so alerting
 * can watch each plan for failed or stale backups. No credential, no cloud secret.
 */
export interface VolumeBackupPlan {
  /** `aws-backup` (EKS) or `backup-for-gke` (GKE). */
  readonly kind: "aws-backup" | "backup-for-gke";
  /** The plan's name as the cloud shows it (AWS Backup plan name, Backup for GKE plan id). */
  readonly name: string;
  /** Where its backups go: the AWS Backup vault, or the Backup for GKE plan's location. */
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

/** Arguments of an {@link AwsVolumeBackups}. */
export interface AwsVolumeBackupsArgs extends VolumeBackupSettings {
  readonly clusterName: string;
  readonly network: AwsDataNetwork;
  /** The platform's data key: the vault encrypts recovery points with it. */
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly namespaces: readonly string[];
  readonly production: boolean;
}

/**
 * AWS Backup for the team volumes of an EKS cluster: a vault encrypted with the platform's key, a
 * daily plan with the configured retention, and a selection of the EBS volumes the EBS CSI driver
 * made for PVCs of the team namespaces (it tags each volume with
 * `kubernetes.io/created-for/pvc/namespace`; https://github.com/kubernetes-sigs/aws-ebs-csi-driver/blob/master/docs/tagging.md).
 * Tags of a selection are ORed (one per namespace), its conditions ANDed (only CSI volumes)
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html).
 */
export class AwsVolumeBackups extends pulumi.ComponentResource {
  public readonly plan: VolumeBackupPlan;

  constructor(name: string, args: AwsVolumeBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:AwsVolumeBackups", name, {}, opts);
    const o = { parent: this, provider: args.network.provider };
    const vaultName = `${args.clusterName}-volumes`;
    const vault = new aws.backup.Vault(`${name}-vault`, { name: vaultName, kmsKeyArn: args.kmsKeyArn, forceDestroy: !args.production }, { ...o, protect: args.production });
    const schedule = `cron(0 ${args.hourUtc} * * ? *)`;
    const planName = `${args.clusterName}-volumes`;
    const plan = new aws.backup.Plan(`${name}-plan`, {
      name: planName,
      rules: [{
        ruleName: "daily",
        targetVaultName: vault.name,
        schedule,
        startWindow: 60,
        completionWindow: 360,
        lifecycle: { deleteAfter: args.retentionDays },
      }],
    }, o);
    const role = new aws.iam.Role(`${name}-backup`, {
      assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
    }, o);
    const policies = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"].map((p) => new aws.iam.RolePolicyAttachment(`${name}-${p}`, {
      role: role.name,
      policyArn: `arn:aws:iam::aws:policy/service-role/${p}`,
    }, o));
    new aws.backup.Selection(`${name}-selection`, {
      name: `${args.clusterName}-team-volumes`,
      planId: plan.id,
      iamRoleArn: role.arn,
      resources: ["arn:aws:ec2:*:*:volume/*"],
      selectionTags: args.namespaces.map((ns) => ({ type: "STRINGEQUALS", key: "kubernetes.io/created-for/pvc/namespace", value: ns })),
      conditions: [{ stringEquals: [{ key: "aws:ResourceTag/ebs.csi.aws.com/cluster", value: "true" }] }],
    }, { ...o, dependsOn: policies });
    this.plan = { kind: "aws-backup", name: planName, target: vaultName, schedule, hourUtc: args.hourUtc, retentionDays: args.retentionDays, namespaces: [...args.namespaces] };
    this.registerOutputs({});
  }
}

/** Arguments of a {@link GkeVolumeBackups}. */
export interface GkeVolumeBackupsArgs extends VolumeBackupSettings {
  readonly clusterName: string;
  readonly network: GcpDataNetwork;
  /** The platform's data key (CMEK) for the backups. */
  readonly kmsKeyId: pulumi.Input<string>;
  readonly namespaces: readonly string[];
  readonly production: boolean;
}

/**
 * Backup for GKE: a plan over the team namespaces with volume data and Secrets, encrypted with the
 * platform's key, daily with the configured retention; and a RestorePlan per team namespace that
 * restores that namespace (volumes from the backup) into the same cluster
 * (https://cloud.google.com/kubernetes-engine/docs/add-on/backup-for-gke/how-to/backup-plan,
 * https://cloud.google.com/kubernetes-engine/docs/add-on/backup-for-gke/how-to/restore-plan).
 * The cluster runs the Backup for GKE agent (`gkeBackupAgentConfig`).
 */
export class GkeVolumeBackups extends pulumi.ComponentResource {
  public readonly plan: VolumeBackupPlan;

  constructor(name: string, args: GkeVolumeBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:GkeVolumeBackups", name, {}, opts);
    const o = { parent: this, provider: args.network.provider };
    const net = args.network;
    // The Backup for GKE service agent encrypts with the key (https://cloud.google.com/kubernetes-engine/docs/add-on/backup-for-gke/how-to/cmek).
    const grant = new gcp.kms.CryptoKeyIAMMember(`${name}-gkebackup-key`, {
      cryptoKeyId: args.kmsKeyId,
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: `serviceAccount:service-${net.projectNumber}@gcp-sa-gkebackup.iam.gserviceaccount.com`,
    }, o);
    const schedule = `0 ${args.hourUtc} * * *`;
    const planName = `${args.clusterName}-volumes`;
    const plan = new gcp.gkebackup.BackupPlan(`${name}-plan`, {
      name: planName,
      project: net.project,
      location: net.region,
      cluster: net.clusterId,
      retentionPolicy: { backupRetainDays: args.retentionDays },
      backupSchedule: { cronSchedule: schedule },
      backupConfig: {
        includeVolumeData: true,
        includeSecrets: true,
        selectedNamespaces: { namespaces: [...args.namespaces] },
        encryptionKey: { gcpKmsEncryptionKey: args.kmsKeyId },
      },
    }, { ...o, dependsOn: [grant] });
    for (const ns of args.namespaces) {
      new gcp.gkebackup.RestorePlan(`${name}-restore-${ns}`, {
        name: `${args.clusterName}-${ns}`.slice(0, 63),
        project: net.project,
        location: net.region,
        backupPlan: plan.id,
        cluster: net.clusterId,
        restoreConfig: {
          selectedNamespaces: { namespaces: [ns] },
          // The namespace is replaced by the backup's, its volumes re-provisioned from the backup's data.
          namespacedResourceRestoreMode: "DELETE_AND_RESTORE",
          volumeDataRestorePolicy: "RESTORE_VOLUME_DATA_FROM_BACKUP",
          clusterResourceRestoreScope: { noGroupKinds: true },
        },
      }, o);
    }
    this.plan = { kind: "backup-for-gke", name: planName, target: `${net.project}/${net.region}`, schedule, hourUtc: args.hourUtc, retentionDays: args.retentionDays, namespaces: [...args.namespaces] };
    this.registerOutputs({});
  }
}
