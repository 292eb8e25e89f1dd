import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { GcpDataNetwork } from "../cluster/handle";
import { dataProtection } from "../protection";
import { memorystoreGenerations, PASSWORD_RULES } from "../../lib/services";
import type { DataSafety } from "./aws";
import type { VolumeBackupPlan, VolumeBackupSettings } from "./backups";
import { gcpDataDefaults } from "./defaults";

export { gcpDataDefaults };

/**
 * Private services access: an address range of the VPC reserved for Google's service producer
 * network and the peering to it. Cloud SQL and Memorystore instances get private addresses from it.
 * Instances must be deleted before the peering (pulumi-gcp#3354): each instance depends on
 * {@link PrivateServicesAccess.connection}, so destroy removes them first.
 */
export class PrivateServicesAccess extends pulumi.ComponentResource {
  public readonly connection: gcp.servicenetworking.Connection;
  /** The reserved block, e.g. `10.60.0.0/20`. */
  public readonly cidr: string;
  /** The data key (CMEK) and the grants that let Cloud SQL and Memorystore use it. */
  public readonly keyId: pulumi.Output<string>;
  public readonly keyGrants: pulumi.Resource[];

  constructor(
    name: string,
    args: { readonly network: GcpDataNetwork; readonly cidr: string; readonly production: boolean },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("blueprint:services:GcpPrivateServicesAccess", name, {}, opts);
    const o = { parent: this, provider: args.network.provider };
    const [address, prefix] = args.cidr.split("/");
    this.cidr = args.cidr;
    const range = new gcp.compute.GlobalAddress(
      `${name}-psa`,
      {
        project: args.network.project,
        purpose: "VPC_PEERING",
        addressType: "INTERNAL",
        address,
        prefixLength: Number(prefix),
        network: args.network.networkId,
        description: "Private services access (Cloud SQL, Memorystore)",
      },
      o,
    );
    // https://cloud.google.com/vpc/docs/configure-private-services-access
    this.connection = new gcp.servicenetworking.Connection(
      `${name}-psa`,
      {
        network: args.network.networkId,
        service: "servicenetworking.googleapis.com",
        reservedPeeringRanges: [range.name],
        // Abandoned, not deleted, on destroy: deleting a peering that producer resources still use
        // fails, and other stacks of the project may share it.
        deletionPolicy: "ABANDON",
      },
      o,
    );

    // CMEK for the instances (https://cloud.google.com/sql/docs/postgres/cmek,
    // https://cloud.google.com/memorystore/docs/redis/cmek): the services' agents may use the key.
    const ring = new gcp.kms.KeyRing(
      `${name}-data`,
      { project: args.network.project, location: args.network.region },
      { ...o, retainOnDelete: true },
    );
    const key = new gcp.kms.CryptoKey(
      `${name}-data`,
      { keyRing: ring.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: gcpDataDefaults.keyRotationPeriod },
      { ...o, protect: args.production },
    );
    this.keyId = key.id;
    const sqlAgent = new gcp.projects.ServiceIdentity(
      `${name}-sql-agent`,
      { project: args.network.project, service: "sqladmin.googleapis.com" },
      o,
    );
    this.keyGrants = [
      new gcp.kms.CryptoKeyIAMMember(
        `${name}-data-sql`,
        {
          cryptoKeyId: key.id,
          role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
          member: pulumi.interpolate`serviceAccount:${sqlAgent.email}`,
        },
        o,
      ),
      new gcp.kms.CryptoKeyIAMMember(
        `${name}-data-redis`,
        {
          cryptoKeyId: key.id,
          role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
          member: `serviceAccount:service-${args.network.projectNumber}@cloud-redis.iam.gserviceaccount.com`,
        },
        o,
      ),
    ];
    this.registerOutputs({});
  }
}

/** Common arguments of the managed instances on GCP. */
export interface GcpManagedArgs {
  readonly service: string;
  readonly team: string;
  readonly network: GcpDataNetwork;
  readonly access: PrivateServicesAccess;
  readonly production: boolean;
  readonly highAvailability: boolean;
  readonly backupRetentionDays: number;
  readonly skipFinalSnapshot: boolean;
  readonly publicAccess: boolean;
  readonly randomProvider: pulumi.ProviderResource;
}

/** Arguments of a {@link CloudSqlPostgres}. */
export interface CloudSqlPostgresArgs extends GcpManagedArgs {
  readonly version: string;
  readonly tier?: string;
  readonly diskSizeGb?: number;
}

/**
 * Cloud SQL for PostgreSQL on a private address only, CMEK, TLS required, regional HA in
 * production, daily backups kept N days with point-in-time recovery, backups retained after the
 * instance is deleted, a final backup, and deletion protection (Cloud SQL's own flag and the
 * provider's). The admin user's password is generated and stays in the platform stack.
 */
export class CloudSqlPostgres extends pulumi.ComponentResource {
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  public readonly adminUser: string;
  public readonly adminPassword: pulumi.Output<string>;
  /** The server CA (PEM) clients verify the instance with. */
  public readonly ca: pulumi.Output<string>;
  public readonly safety: DataSafety;
  public readonly cidrs: readonly string[];

  constructor(name: string, args: CloudSqlPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:CloudSqlPostgres", name, {}, opts);
    const d = gcpDataDefaults;
    const o = { parent: this, provider: args.network.provider };
    this.port = d.postgresPort;
    this.adminUser = d.adminUser;
    this.cidrs = [args.access.cidr];
    this.safety = { protect: args.production, retainOnDelete: false, deletionProtection: args.production };
    const instance = new gcp.sql.DatabaseInstance(
      `${name}-sql`,
      {
        project: args.network.project,
        region: args.network.region,
        databaseVersion: `POSTGRES_${args.version}`,
        encryptionKeyName: args.access.keyId,
        // The provider's guard against `pulumi destroy`; settings.deletionProtectionEnabled is Cloud SQL's own.
        deletionProtection: this.safety.deletionProtection,
        settings: {
          // Custom and shared-core tiers exist only in the Enterprise edition; PostgreSQL 16+ defaults
          // to Enterprise Plus (https://cloud.google.com/sql/docs/editions-intro).
          edition: "ENTERPRISE",
          tier: args.tier ?? (args.production ? d.tier.production : d.tier.other),
          // A standby in another zone of the region (https://cloud.google.com/sql/docs/postgres/high-availability).
          availabilityType: args.highAvailability ? "REGIONAL" : "ZONAL",
          diskType: "PD_SSD",
          diskSize: args.diskSizeGb ?? d.diskSizeGb,
          diskAutoresize: true,
          deletionProtectionEnabled: this.safety.deletionProtection,
          ipConfiguration: {
            // Private address only, from the private services access range (https://cloud.google.com/sql/docs/postgres/configure-private-ip).
            ipv4Enabled: args.publicAccess,
            privateNetwork: args.network.networkId,
            // TLS required on every connection (https://cloud.google.com/sql/docs/postgres/configure-ssl-instance#enforce-ssl).
            sslMode: "ENCRYPTED_ONLY",
          },
          backupConfiguration: {
            enabled: true,
            startTime: "02:00",
            // Write-ahead logs for point-in-time recovery (https://cloud.google.com/sql/docs/postgres/backup-recovery/pitr).
            pointInTimeRecoveryEnabled: true,
            transactionLogRetentionDays: Math.min(7, Math.max(1, args.backupRetentionDays)),
            backupRetentionSettings: { retainedBackups: Math.max(1, args.backupRetentionDays), retentionUnit: "COUNT" },
          },
          // Automated backups outlive the instance; without it Cloud SQL deletes them with it
          // (https://cloud.google.com/sql/docs/postgres/backup-recovery/retained-backups).
          retainBackupsOnDelete: true,
          // A final backup on delete, kept as long as the automated ones.
          finalBackupConfig: args.skipFinalSnapshot
            ? { enabled: false }
            : { enabled: true, retentionDays: Math.max(1, args.backupRetentionDays) },
          userLabels: { team: args.team, service: args.service },
        },
      },
      { ...o, protect: this.safety.protect, dependsOn: [args.access.connection, ...args.access.keyGrants] },
    );
    this.adminPassword = new random.RandomPassword(
      `${name}-admin`,
      { ...PASSWORD_RULES },
      { parent: this, provider: args.randomProvider },
    ).result;
    new gcp.sql.User(
      `${name}-admin`,
      { project: args.network.project, instance: instance.name, name: d.adminUser, password: this.adminPassword },
      o,
    );
    this.host = instance.privateIpAddress;
    this.ca = instance.serverCaCerts.apply((c) => c?.[0]?.cert ?? "");
    this.registerOutputs({ host: this.host });
  }
}

/** Arguments of a {@link MemorystoreRedis}. */
export interface MemorystoreRedisArgs extends GcpManagedArgs {
  readonly memorySizeGb?: number;
  /** The credential generation (`rotation`): each has its own instance and AUTH string. @default 0 */
  readonly generation?: number;
  /** The newest generation whose instance is deleted (`retiredRotation`); the one before the current is kept until then. */
  readonly retiredGeneration?: number;
}

/** The logical name of a generation's instance; generation 0 keeps the name instances had before rotation existed. */
export function memorystoreInstanceName(name: string, generation: number): string {
  return generation === 0 ? `${name}-redis` : `${name}-redis-g${generation}`;
}

/**
 * Memorystore for Redis (the Redis protocol Valkey speaks; Memorystore for Valkey's own password
 * tokens are in beta, hashicorp/terraform-provider-google#27309): private services access, AUTH,
 * TLS with a server CA, CMEK, STANDARD_HA (a replica in another zone, automatic failover) in
 * production and RDB snapshots. Memorystore has no deletion protection flag: in production the
 * current instance is registered with `protect` and `retainOnDelete`.
 *
 * Rotation: Memorystore generates the AUTH string and changes it only by turning AUTH off and on,
 * which refuses the old string to every new connection at once
 * (https://cloud.google.com/memorystore/docs/redis/about-redis-auth). So each credential
 * generation is its own instance: a rotation creates the new one and keeps the previous one, AUTH
 * string and data, for the pods that have not rolled yet, until `retiredGeneration` retires it.
 * The previous instance loses `protect` and `retainOnDelete` in the rotation's own update, so
 * retiring it later is a plain delete.
 */
export class MemorystoreRedis extends pulumi.ComponentResource {
  /** The current generation's instance: its address, AUTH string and server CA. */
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  /** The AUTH string Memorystore generates (a secret). */
  public readonly authString: pulumi.Output<string>;
  public readonly ca: pulumi.Output<string>;
  public readonly safety: DataSafety;
  public readonly cidrs: readonly string[];
  /** The generations whose instance exists, oldest first. */
  public readonly generations: readonly number[];
  /** The previous generation's instance while it is kept: pods that have not rolled still use it. */
  public readonly previous?: {
    readonly host: pulumi.Output<string>;
    readonly authString: pulumi.Output<string>;
    readonly ca: pulumi.Output<string>;
  };

  constructor(name: string, args: MemorystoreRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:MemorystoreRedis", name, {}, opts);
    const d = gcpDataDefaults;
    const o = { parent: this, provider: args.network.provider };
    this.port = d.redisTlsPort;
    this.cidrs = [args.access.cidr];
    this.safety = { protect: args.production, retainOnDelete: args.production, deletionProtection: false };
    const current = args.generation ?? 0;
    this.generations = memorystoreGenerations(current, args.retiredGeneration);
    const instances = this.generations.map((g) =>
      this.instance(name, args, g, g === current ? this.safety.protect : false, o),
    );
    const instance = instances[instances.length - 1];
    this.host = instance.host;
    this.authString = pulumi.secret(instance.authString);
    this.ca = instance.serverCaCerts.apply((c) => c?.[0]?.cert ?? "");
    if (instances.length > 1) {
      const old = instances[0];
      this.previous = {
        host: old.host,
        authString: pulumi.secret(old.authString),
        ca: old.serverCaCerts.apply((c) => c?.[0]?.cert ?? ""),
      };
    }
    this.registerOutputs({ host: this.host });
  }

  private instance(
    name: string,
    args: MemorystoreRedisArgs,
    generation: number,
    guarded: boolean,
    o: pulumi.CustomResourceOptions,
  ): gcp.redis.Instance {
    const d = gcpDataDefaults;
    return new gcp.redis.Instance(
      memorystoreInstanceName(name, generation),
      {
        project: args.network.project,
        region: args.network.region,
        tier: args.highAvailability ? "STANDARD_HA" : "BASIC",
        memorySizeGb: args.memorySizeGb ?? (args.production ? d.memorySizeGb.production : d.memorySizeGb.other),
        redisVersion: d.redisVersion,
        authorizedNetwork: args.network.networkId,
        connectMode: "PRIVATE_SERVICE_ACCESS",
        // https://cloud.google.com/memorystore/docs/redis/about-redis-auth, .../in-transit-encryption
        authEnabled: true,
        transitEncryptionMode: "SERVER_AUTHENTICATION",
        customerManagedKey: args.access.keyId,
        persistenceConfig: { persistenceMode: "RDB", rdbSnapshotPeriod: "TWENTY_FOUR_HOURS" },
        labels: { team: args.team, service: args.service, generation: String(generation) },
      },
      { ...o, ...dataProtection(guarded), dependsOn: [args.access.connection, ...args.access.keyGrants] },
    );
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
    const grant = new gcp.kms.CryptoKeyIAMMember(
      `${name}-gkebackup-key`,
      {
        cryptoKeyId: args.kmsKeyId,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: `serviceAccount:service-${net.projectNumber}@gcp-sa-gkebackup.iam.gserviceaccount.com`,
      },
      o,
    );
    const schedule = `0 ${args.hourUtc} * * *`;
    const planName = `${args.clusterName}-volumes`;
    const plan = new gcp.gkebackup.BackupPlan(
      `${name}-plan`,
      {
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
      },
      { ...o, dependsOn: [grant] },
    );
    for (const ns of args.namespaces) {
      new gcp.gkebackup.RestorePlan(
        `${name}-restore-${ns}`,
        {
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
        },
        o,
      );
    }
    this.plan = {
      kind: "backup-for-gke",
      name: planName,
      target: `${net.project}/${net.region}`,
      schedule,
      hourUtc: args.hourUtc,
      retentionDays: args.retentionDays,
      namespaces: [...args.namespaces],
    };
    this.registerOutputs({});
  }
}
