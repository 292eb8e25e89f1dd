import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AwsDataNetwork } from "../cluster/handle";
import { dataProtection } from "../protection";
import { DEFAULT_PORTS, PASSWORD_RULES } from "../../lib/services";
import { RDS_CA_IDENTIFIER, rdsRegionBundle } from "../../lib/rds-ca";
import { RDS_GLOBAL_BUNDLE } from "../../lib/rds-ca-bundle";
import type { VolumeBackupPlan, VolumeBackupSettings } from "./backups";
import { awsDataDefaults } from "./defaults";

export { awsDataDefaults };

/** Engine and cloud deletion guards chosen for one managed instance; exposed because resource options are not visible under mocks. */
export interface DataSafety {
  /** Registered with `protect` (the engine refuses to delete it). */
  readonly protect: boolean;
  /** Left in the cloud if removed from the program (`retainOnDelete`), where the cloud has no deletion protection flag. */
  readonly retainOnDelete: boolean;
  /** The cloud's own deletion protection. */
  readonly deletionProtection: boolean;
}

/** The environment's key for data at rest, owned by the platform stack. */
export function awsDataKey(
  name: string,
  network: AwsDataNetwork,
  production: boolean,
  parent: pulumi.Resource,
): aws.kms.Key {
  return new aws.kms.Key(
    `${name}-data`,
    {
      description: `Encryption at rest of the backing services and volume backups of ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: production
        ? awsDataDefaults.kmsDeletionWindowDays.production
        : awsDataDefaults.kmsDeletionWindowDays.other,
    },
    { parent, provider: network.provider, protect: production },
  );
}

/** Common arguments of the managed instances on AWS. */
export interface AwsManagedArgs {
  /** The service's name in the team's grant. */
  readonly service: string;
  readonly team: string;
  readonly network: AwsDataNetwork;
  /** ARN of the platform's data key. */
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly production: boolean;
  readonly highAvailability: boolean;
  readonly backupRetentionDays: number;
  readonly skipFinalSnapshot: boolean;
  readonly publicAccess: boolean;
  readonly randomProvider: pulumi.ProviderResource;
}

/**
 * A security group that admits the cluster's pods (they leave through the EKS cluster security
 * group of the managed nodes) on one port, and nothing else. Which of those pods may connect is
 * decided in the cluster: the team namespace denies egress except to what the binding allows.
 */
function instanceSecurityGroup(
  name: string,
  args: AwsManagedArgs,
  port: number,
  o: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  const sg = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      vpcId: args.network.vpcId,
      description: `${args.team}/${args.service}: from the cluster's pods on ${port}`,
      tags: { Name: `${args.team}-${args.service}` },
    },
    o,
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-from-cluster`,
    {
      securityGroupId: sg.id,
      referencedSecurityGroupId: args.network.clusterSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description: "EKS cluster security group (managed node groups and their pods)",
    },
    o,
  );
  return sg;
}

/**
 * A final snapshot name unique to this instance's lifetime: RDS refuses a destroy without one
 * unless `skipFinalSnapshot` (pulumi-aws#2196), and a name reused from an earlier destroy fails
 * with DBSnapshotAlreadyExists. The suffix is random per creation and kept in state.
 */
function finalSnapshotName(name: string, prefix: string, o: pulumi.CustomResourceOptions): pulumi.Output<string> {
  const suffix = new random.RandomId(`${name}-final-snapshot`, { byteLength: 4 }, o);
  return pulumi.interpolate`${prefix}-final-${suffix.hex}`;
}

/** Arguments of an {@link RdsPostgres}. */
export interface RdsPostgresArgs extends AwsManagedArgs {
  readonly engine: "rds" | "aurora";
  readonly version: string;
  readonly instanceClass?: string;
  readonly allocatedStorageGiB?: number;
}

/**
 * PostgreSQL on RDS (one instance with a Multi-AZ standby) or Aurora (a writer and, for HA, a
 * reader in another zone): private, encrypted with the platform's key, TLS required
 * (`rds.force_ssl`), automated backups with point-in-time recovery kept after delete, a unique
 * final snapshot, and deletion protection in production. The admin password is generated and stays
 * in the platform stack; apps get their own users (see `ManagedPostgresUsers`).
 */
export class RdsPostgres extends pulumi.ComponentResource {
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  public readonly adminUser: string;
  public readonly adminPassword: pulumi.Output<string>;
  public readonly safety: DataSafety;
  /** Where the instance's addresses are: the private subnets. */
  public readonly cidrs: readonly string[];
  /**
   * The root CAs (PEM) of the instance's region that clients verify it with (`sslmode=verify-full`):
   * RDS server certificates chain to a regional root that no system trust store carries.
   */
  public readonly ca: pulumi.Output<string>;

  constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:RdsPostgres", name, {}, opts);
    const d = awsDataDefaults;
    const o = { parent: this, provider: args.network.provider };
    const port = DEFAULT_PORTS.postgres;
    this.port = port;
    this.adminUser = d.adminUser;
    this.cidrs = args.network.privateSubnetCidrs;
    this.safety = { protect: args.production, retainOnDelete: false, deletionProtection: args.production };
    // The bundle ships with the program (lib/rds-ca-bundle.ts, refreshed by `npm run rds-ca`) rather
    // than being downloaded at `pulumi up`: what apps trust changes only through a reviewed commit,
    // and neither a deploy nor an offline render depends on a download. The roots live until 2061
    // (RSA2048) and 2121; a region newer than the bundle is refused in config, naming the refresh.
    this.ca = pulumi.output(rdsRegionBundle(RDS_GLOBAL_BUNDLE, args.network.region));
    this.adminPassword = new random.RandomPassword(
      `${name}-admin`,
      { ...PASSWORD_RULES },
      { parent: this, provider: args.randomProvider },
    ).result;
    const subnets = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: [...args.network.privateSubnetIds], description: `${args.team}/${args.service}` },
      o,
    );
    const sg = instanceSecurityGroup(name, args, port, o);
    const aurora = args.engine === "aurora";
    // TLS required: every connection without it is refused
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html).
    const params = [{ name: "rds.force_ssl", value: "1" }];
    const family = `${aurora ? "aurora-postgresql" : "postgres"}${args.version}`;
    const snapshot = args.skipFinalSnapshot
      ? undefined
      : finalSnapshotName(name, `${args.team}-${args.service}`, { parent: this, provider: args.randomProvider });
    const guard = { ...o, protect: this.safety.protect };
    const common = {
      // Encrypted at rest with the key the platform owns (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html).
      storageEncrypted: true,
      kmsKeyId: args.kmsKeyArn,
      // Automated backups give point-in-time recovery within the retention window
      // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html).
      backupRetentionPeriod: args.backupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: this.safety.deletionProtection,
      skipFinalSnapshot: args.skipFinalSnapshot,
      finalSnapshotIdentifier: snapshot,
      // Automated backups outlive the instance; RDS deletes them with it by default
      // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html, DeleteAutomatedBackups).
      deleteAutomatedBackups: false,
      vpcSecurityGroupIds: [sg.id],
      dbSubnetGroupName: subnets.name,
      port,
      applyImmediately: !args.production,
    };
    if (aurora) {
      const pg = new aws.rds.ClusterParameterGroup(
        `${name}-params`,
        { family, parameters: params, description: `${args.team}/${args.service}: TLS required` },
        o,
      );
      const cluster = new aws.rds.Cluster(
        `${name}-cluster`,
        {
          ...common,
          engine: "aurora-postgresql",
          engineVersion: args.version,
          masterUsername: d.adminUser,
          masterPassword: this.adminPassword,
          dbClusterParameterGroupName: pg.name,
          preferredBackupWindow: "02:00-03:00",
        },
        guard,
      );
      const instances = args.highAvailability ? 2 : 1;
      for (let i = 0; i < instances; i++) {
        new aws.rds.ClusterInstance(
          `${name}-${i}`,
          {
            clusterIdentifier: cluster.id,
            engine: "aurora-postgresql",
            instanceClass:
              args.instanceClass ?? (args.production ? d.auroraInstanceClass.production : d.auroraInstanceClass.other),
            dbSubnetGroupName: subnets.name,
            publiclyAccessible: args.publicAccess,
            // Each Aurora instance has its own server certificate; the cluster's
            // caCertificateIdentifier applies to Multi-AZ DB clusters only (pulumi-aws rds.Cluster docs).
            caCertIdentifier: RDS_CA_IDENTIFIER,
            autoMinorVersionUpgrade: true,
          },
          guard,
        );
      }
      this.host = cluster.endpoint;
    } else {
      const pg = new aws.rds.ParameterGroup(
        `${name}-params`,
        { family, parameters: params, description: `${args.team}/${args.service}: TLS required` },
        o,
      );
      const storage = args.allocatedStorageGiB ?? d.allocatedStorageGiB;
      const instance = new aws.rds.Instance(
        `${name}-db`,
        {
          ...common,
          engine: "postgres",
          engineVersion: args.version,
          instanceClass: args.instanceClass ?? (args.production ? d.instanceClass.production : d.instanceClass.other),
          allocatedStorage: storage,
          maxAllocatedStorage: storage * d.maxStorageFactor,
          storageType: "gp3",
          // A synchronous standby in another zone (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZSingleStandby.html).
          multiAz: args.highAvailability,
          publiclyAccessible: args.publicAccess,
          username: d.adminUser,
          password: this.adminPassword,
          parameterGroupName: pg.name,
          // Set explicitly, not left to the region's default, so the CA the server's certificate chains
          // to is the one whose root the binding's ca.crt carries
          // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html).
          caCertIdentifier: RDS_CA_IDENTIFIER,
          autoMinorVersionUpgrade: true,
        },
        guard,
      );
      this.host = instance.address;
    }
    this.registerOutputs({ host: this.host });
  }
}

/** Arguments of an {@link ElastiCacheValkey}. */
export interface ElastiCacheValkeyArgs extends AwsManagedArgs {
  readonly nodeType?: string;
  /** The AUTH token of this generation and, after a rotation, the one before it stays valid (`ROTATE`). */
  readonly authToken: pulumi.Input<string>;
  readonly rotating: boolean;
}

/**
 * ElastiCache for Valkey, cluster mode off (one shard, the single endpoint clients of every
 * environment use): TLS required, AUTH token (rotated with `ROTATE`, so the old token works until
 * the next rotation), encrypted with the platform's key, Multi-AZ with automatic failover, daily
 * snapshots kept N days and a final snapshot. ElastiCache has no deletion protection flag, so in
 * production it is registered with `protect` and `retainOnDelete`.
 */
export class ElastiCacheValkey extends pulumi.ComponentResource {
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  public readonly safety: DataSafety;
  public readonly cidrs: readonly string[];

  constructor(name: string, args: ElastiCacheValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:services:ElastiCacheValkey", name, {}, opts);
    const d = awsDataDefaults;
    const o = { parent: this, provider: args.network.provider };
    const port = DEFAULT_PORTS.valkey;
    this.port = port;
    this.cidrs = args.network.privateSubnetCidrs;
    this.safety = { protect: args.production, retainOnDelete: args.production, deletionProtection: false };
    const subnets = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: [...args.network.privateSubnetIds], description: `${args.team}/${args.service}` },
      o,
    );
    const sg = instanceSecurityGroup(name, args, port, o);
    const ha = args.highAvailability;
    const group = new aws.elasticache.ReplicationGroup(
      `${name}-valkey`,
      {
        description: `${args.team}/${args.service}`,
        engine: "valkey",
        engineVersion: d.valkeyVersion,
        // Cluster mode off: one shard with a primary endpoint (the default parameter group of the family).
        parameterGroupName: d.valkeyParameterGroup,
        nodeType: args.nodeType ?? (args.production ? d.nodeType.production : d.nodeType.other),
        numCacheClusters: ha ? 2 : 1,
        automaticFailoverEnabled: ha,
        multiAzEnabled: ha,
        port,
        subnetGroupName: subnets.name,
        securityGroupIds: [sg.id],
        // In transit and at rest (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html,
        // https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html).
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        atRestEncryptionEnabled: true,
        kmsKeyId: args.kmsKeyArn,
        // AUTH with ROTATE keeps the previous token valid next to the new one
        // (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html#auth-modifyng-token).
        authToken: pulumi.secret(pulumi.output(args.authToken)),
        authTokenUpdateStrategy: args.rotating ? "ROTATE" : undefined,
        snapshotRetentionLimit: args.backupRetentionDays,
        snapshotWindow: "02:00-03:00",
        finalSnapshotIdentifier: args.skipFinalSnapshot
          ? undefined
          : finalSnapshotName(name, `${args.team}-${args.service}`, { parent: this, provider: args.randomProvider }),
        autoMinorVersionUpgrade: true,
        applyImmediately: !args.production,
      },
      { ...o, ...dataProtection(this.safety.protect) },
    );
    this.host = group.primaryEndpointAddress;
    this.registerOutputs({ host: this.host });
  }
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
    const vault = new aws.backup.Vault(
      `${name}-vault`,
      { name: vaultName, kmsKeyArn: args.kmsKeyArn, forceDestroy: !args.production },
      { ...o, protect: args.production },
    );
    const schedule = `cron(0 ${args.hourUtc} * * ? *)`;
    const planName = `${args.clusterName}-volumes`;
    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        name: planName,
        rules: [
          {
            ruleName: "daily",
            targetVaultName: vault.name,
            schedule,
            startWindow: 60,
            completionWindow: 360,
            lifecycle: { deleteAfter: args.retentionDays },
          },
        ],
      },
      o,
    );
    const role = new aws.iam.Role(
      `${name}-backup`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      },
      o,
    );
    const policies = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"].map(
      (p) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${p}`,
          {
            role: role.name,
            policyArn: `arn:aws:iam::aws:policy/service-role/${p}`,
          },
          o,
        ),
    );
    new aws.backup.Selection(
      `${name}-selection`,
      {
        name: `${args.clusterName}-team-volumes`,
        planId: plan.id,
        iamRoleArn: role.arn,
        resources: ["arn:aws:ec2:*:*:volume/*"],
        selectionTags: args.namespaces.map((ns) => ({
          type: "STRINGEQUALS",
          key: "kubernetes.io/created-for/pvc/namespace",
          value: ns,
        })),
        conditions: [{ stringEquals: [{ key: "aws:ResourceTag/ebs.csi.aws.com/cluster", value: "true" }] }],
      },
      { ...o, dependsOn: policies },
    );
    this.plan = {
      kind: "aws-backup",
      name: planName,
      target: vaultName,
      schedule,
      hourUtc: args.hourUtc,
      retentionDays: args.retentionDays,
      namespaces: [...args.namespaces],
    };
    this.registerOutputs({});
  }
}
