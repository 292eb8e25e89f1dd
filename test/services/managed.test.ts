import { getObject, runStack, stackConfig, withEdits, type K8sObject } from "../helpers/program";
import { registration, runStackWithGraph, type Registration, type ResourceKey } from "../cluster/harness";
import type { RunResult } from "../../tools/offline/run";
import { revealSecrets, type RegisteredResource } from "../../tools/offline/mocks";
import { parseRdsBundle } from "../../lib/rds-ca";

/** The one cloud resource of `type` whose logical name is `name`. */
function resource(result: RunResult, type: string, name: string): RegisteredResource {
  const found = result.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1)
    throw new Error(
      `${found.length} ${type} named ${name}; there are: ${
        result.resources
          .filter((r) => r.type === type)
          .map((r) => r.name)
          .join(", ") || "none"
      }`,
    );
  return found[0];
}

/** The clear-text stringData of a Secret as the program registered it (tests only; renders redact it). */
function secretData(result: RunResult, name: string): Record<string, string> {
  const r = result.resources.find(
    (x) => x.type === "kubernetes:core/v1:Secret" && (x.inputs.metadata as { name?: string })?.name === name,
  );
  if (!r) throw new Error(`no Secret ${name}`);
  return revealSecrets(r.inputs.stringData) as Record<string, string>;
}

/** The common names of the certificates of a PEM bundle, sorted. */
function caNames(pem: string): string[] {
  return parseRdsBundle(pem)
    .map((r) => r.commonName)
    .sort();
}

const EU_WEST_1_ROOTS = [
  "Amazon RDS eu-west-1 Root CA ECC384 G1",
  "Amazon RDS eu-west-1 Root CA RSA2048 G1",
  "Amazon RDS eu-west-1 Root CA RSA4096 G1",
];
const VERIFY_DB = "sslmode=verify-full&sslrootcert=%2Fetc%2Fblueprint%2Fservices%2Fdb%2Fca.crt";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function inputs(result: RunResult, type: string, name: string): Record<string, any> {
  return resource(result, type, name).inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe("managed Postgres and cache on EKS (prod)", () => {
  let prod: RunResult;
  beforeAll(async () => {
    prod = await runStack("prod.platform");
  });

  it("runs RDS for PostgreSQL private, encrypted with the platform's key, Multi-AZ and deletion-protected", () => {
    const db = inputs(prod, "aws:rds/instance:Instance", "shop-db-db");
    const key = resource(prod, "aws:kms/key:Key", "blueprint-prod-data");
    expect(db).toMatchObject({
      engine: "postgres",
      engineVersion: "17",
      publiclyAccessible: false,
      storageEncrypted: true,
      kmsKeyId: (key.state as { arn: string }).arn,
      multiAz: true,
      deletionProtection: true,
      instanceClass: "db.m7g.large",
    });
    expect(prod.protectedResources).toContain("aws:rds/instance:Instance::shop-db-db");
    expect(prod.protectedResources).toContain("aws:kms/key:Key::blueprint-prod-data");
  });

  it("keeps automated backups for the configured days with PITR, after the instance is deleted, and leaves a uniquely named final snapshot", () => {
    const db = inputs(prod, "aws:rds/instance:Instance", "shop-db-db");
    expect(db).toMatchObject({ backupRetentionPeriod: 14, deleteAutomatedBackups: false, skipFinalSnapshot: false });
    const suffix = (resource(prod, "random:index/randomId:RandomId", "shop-db-final-snapshot").state as { hex: string })
      .hex;
    expect(db.finalSnapshotIdentifier).toBe(`shop-db-final-${suffix}`);
    expect(suffix).toMatch(/^[0-9a-f]{8}$/);
  });

  it("requires TLS on every connection to RDS", () => {
    const params = inputs(prod, "aws:rds/parameterGroup:ParameterGroup", "shop-db-params");
    expect(params).toMatchObject({ family: "postgres17", parameters: [{ name: "rds.force_ssl", value: "1" }] });
    const name = (resource(prod, "aws:rds/parameterGroup:ParameterGroup", "shop-db-params").state as { name: string })
      .name;
    expect(name).toMatch(/^shop-db-params-/);
    expect(inputs(prod, "aws:rds/instance:Instance", "shop-db-db").parameterGroupName).toBe(name);
  });

  it("gives bound apps the region's RDS roots and a URL that verifies the server, with the instance's CA pinned to the root they carry", () => {
    expect(inputs(prod, "aws:rds/instance:Instance", "shop-db-db").caCertIdentifier).toBe("rds-ca-rsa2048-g1");
    const data = secretData(prod, "svc-db-g0");
    expect(data.url).toMatch(/^postgresql:\/\/db_a:[A-Za-z0-9]{32}@[^/]+:5432\/db\?/);
    expect(data.url.endsWith(`?${VERIFY_DB}`)).toBe(true);
    expect(caNames(data["ca.crt"])).toEqual(EU_WEST_1_ROOTS);
    const services = (prod.stackOutputs.outputs.contract as Record<string, { services: Record<string, unknown> }>).shop
      .services;
    expect(services.db).toMatchObject({ tls: true, caFile: "/etc/blueprint/services/db/ca.crt" });
    // The cache's server certificate is public (ElastiCache): no CA to give.
    expect(services.cache).toMatchObject({ tls: true, caFile: null });
    expect(secretData(prod, "svc-cache-g0")["ca.crt"]).toBeUndefined();
  });

  it("keeps the previous generation's Secret after a rotation, with the credentials that still work", async () => {
    const r = await runStack(
      "prod.platform",
      withEdits(stackConfig("prod.platform"), [
        [["blueprint:teams", "shop", "services", "db", "rotation"], 1],
        [["blueprint:teams", "shop", "services", "cache", "rotation"], 1],
      ]),
    );
    const before = secretData(prod, "svc-db-g0");
    expect(secretData(r, "svc-db-g0")).toEqual(before);
    expect(secretData(r, "svc-db-g1")).toMatchObject({ username: "db_b" });
    expect(secretData(r, "svc-db-g1").password).not.toBe(before.password);
    // ElastiCache keeps the previous token (ROTATE), so its Secret stays too.
    expect(secretData(r, "svc-cache-g0")).toEqual(secretData(prod, "svc-cache-g0"));
    expect(
      inputs(r, "aws:elasticache/replicationGroup:ReplicationGroup", "shop-cache-valkey").authTokenUpdateStrategy,
    ).toBe("ROTATE");
  });

  it("lets the users Job verify the server too, with the same roots", () => {
    const admin = prod.resources.find(
      (r) =>
        r.type === "kubernetes:core/v1:Secret" &&
        (r.inputs.metadata as { namespace?: string }).namespace === "blueprint-data",
    )!;
    expect(revealSecrets(admin.inputs.stringData)).toMatchObject({
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: "/scripts/ca.crt",
    });
    const scripts = prod.resources.find(
      (r) =>
        r.type === "kubernetes:core/v1:ConfigMap" &&
        (r.inputs.metadata as { namespace?: string }).namespace === "blueprint-data",
    )!;
    expect(caNames((scripts.inputs.data as Record<string, string>)["ca.crt"])).toEqual(EU_WEST_1_ROOTS);
  });

  it("mounts the CA where the URL says, in the bound app's pods", async () => {
    const shop = await runStack("prod.shop");
    const pod = (
      getObject(shop, "Deployment", "shop/backend").spec as {
        template: { spec: { volumes: Array<Record<string, unknown>>; containers: Array<{ volumeMounts: unknown[] }> } };
      }
    ).template.spec;
    expect(pod.volumes).toContainEqual({
      name: "svc-db-ca",
      secret: { secretName: "svc-db-g0", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "svc-db-ca",
      mountPath: "/etc/blueprint/services/db/ca.crt",
      subPath: "ca.crt",
      readOnly: true,
    });
  });

  it("refuses managed Postgres in a region the shipped RDS CA bundle has no root for, before any resource", async () => {
    const cfg = withEdits(stackConfig("prod.platform"), [[["blueprint:cluster", "aws", "region"], "ap-east-2"]]);
    const { parsePlatform } = await import("../../config/load");
    expect(() => parsePlatform(cfg.config, "prod.platform", "blueprint")).toThrow(
      /stacks\/Pulumi.prod.platform.yaml: blueprint:teams.shop.services.db.flavour is "managed" on RDS in ap-east-2, but the shipped RDS CA bundle \(lib\/rds-ca-bundle.ts, read [0-9-]+\) has no root CA for that region.*npm run rds-ca/,
    );
  });

  it("runs ElastiCache for Valkey with cluster mode off, TLS and AUTH required, encrypted, Multi-AZ, snapshots kept, protected and retained", () => {
    const cache = inputs(prod, "aws:elasticache/replicationGroup:ReplicationGroup", "shop-cache-valkey");
    const key = resource(prod, "aws:kms/key:Key", "blueprint-prod-data");
    expect(cache).toMatchObject({
      engine: "valkey",
      parameterGroupName: "default.valkey8",
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: (key.state as { arn: string }).arn,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      snapshotRetentionLimit: 7,
    });
    expect(cache.authToken).toBeDefined();
    expect(cache.finalSnapshotIdentifier).toMatch(/^shop-cache-final-[0-9a-f]{8}$/);
    expect(prod.protectedResources).toContain("aws:elasticache/replicationGroup:ReplicationGroup::shop-cache-valkey");
  });

  it("admits only the cluster's pods, on the engine's port, and lets only bound pods leave the namespace for it", () => {
    for (const [svc, port] of [
      ["db", 5432],
      ["cache", 6379],
    ] as const) {
      const rule = inputs(
        prod,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        `shop-${svc}-from-cluster`,
      );
      expect(rule).toMatchObject({ ipProtocol: "tcp", fromPort: port, toPort: port });
      expect(String(rule.referencedSecurityGroupId)).toMatch(/^sg-/);
      expect(rule.cidrIpv4).toBeUndefined();
      const egress = getObject(prod, "NetworkPolicy", `shop/svc-${svc}-egress`).spec as Record<string, unknown>;
      expect(egress).toEqual({
        podSelector: { matchLabels: { [`services.blueprint.dev/${svc}`]: "bound" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"].map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ protocol: "TCP", port }],
          },
        ],
      });
    }
  });

  it("creates the app users with the admin login in the platform's own namespace, never in the team's", () => {
    const job = getObject(
      prod,
      "Job",
      `blueprint-data/${(prod.objects as K8sObject[]).find((o) => o.kind === "Job")!.metadata.name}`,
    );
    expect(job.metadata.namespace).toBe("blueprint-data");
    const teamSecrets = (prod.objects as K8sObject[]).filter(
      (o) => o.kind === "Secret" && o.metadata.namespace === "shop",
    );
    expect(teamSecrets.map((s) => s.metadata.name).sort()).toEqual(["svc-cache-g0", "svc-db-g0"]);
    const adminPassword = (
      resource(prod, "random:index/randomPassword:RandomPassword", "shop-db-admin").state as { result: string }
    ).result;
    const shop = prod.resources.filter(
      (r) =>
        r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as { namespace?: string }).namespace === "shop",
    );
    expect(JSON.stringify(shop.map((r) => r.inputs))).not.toContain(adminPassword);
  });

  it("backs up the team volumes with AWS Backup: a vault under the platform's key, a daily plan, the CSI volumes of the team namespaces", () => {
    const key = resource(prod, "aws:kms/key:Key", "blueprint-prod-data");
    expect(inputs(prod, "aws:backup/vault:Vault", "blueprint-prod-volumes-vault")).toMatchObject({
      name: "blueprint-prod-volumes",
      kmsKeyArn: (key.state as { arn: string }).arn,
      forceDestroy: false,
    });
    expect(prod.protectedResources).toContain("aws:backup/vault:Vault::blueprint-prod-volumes-vault");
    expect(inputs(prod, "aws:backup/plan:Plan", "blueprint-prod-volumes-plan").rules).toEqual([
      expect.objectContaining({ schedule: "cron(0 3 * * ? *)", lifecycle: { deleteAfter: 14 } }),
    ]);
    const selection = inputs(prod, "aws:backup/selection:Selection", "blueprint-prod-volumes-selection");
    expect(selection.selectionTags).toEqual(
      ["shop", "payments"].map((ns) => ({
        type: "STRINGEQUALS",
        key: "kubernetes.io/created-for/pvc/namespace",
        value: ns,
      })),
    );
    expect(selection.conditions).toEqual([
      { stringEquals: [{ key: "aws:ResourceTag/ebs.csi.aws.com/cluster", value: "true" }] },
    ]);
    // What alerting reads: names, schedule and retention, and nothing secret.
    expect(prod.stackOutputs.outputs.volumeBackups).toEqual([
      {
        kind: "aws-backup",
        name: "blueprint-prod-volumes",
        target: "blueprint-prod-volumes",
        schedule: "cron(0 3 * * ? *)",
        hourUtc: 3,
        retentionDays: 14,
        namespaces: ["shop", "payments"],
      },
    ]);
  });

  it("refuses a volume backup retention under the production minimum", async () => {
    const cfg = withEdits(stackConfig("prod.platform"), [
      [["blueprint:platform", "volumeBackups", "retentionDays"], 3],
    ]);
    const { parsePlatform } = await import("../../config/load");
    expect(() => parsePlatform(cfg.config, "prod.platform", "blueprint")).toThrow(
      "stacks/Pulumi.prod.platform.yaml: blueprint:platform.volumeBackups.retentionDays must be at least 7 in a production environment, got 3",
    );
  });

  it("drops the production defaults outside production, where config allows it", async () => {
    const staging = await runStack("staging.platform");
    expect(inputs(staging, "aws:rds/instance:Instance", "shop-db-db")).toMatchObject({
      multiAz: false,
      deletionProtection: false,
      backupRetentionPeriod: 7,
      deleteAutomatedBackups: false,
      instanceClass: "db.t4g.medium",
    });
    expect(staging.protectedResources).not.toContain("aws:rds/instance:Instance::shop-db-db");
  });

  it("runs Aurora PostgreSQL when asked, with the same defaults on the cluster", async () => {
    const cfg = withEdits(stackConfig("prod.platform"), [
      [["blueprint:teams", "shop", "services", "db", "engine"], "aurora"],
    ]);
    const aurora = await runStack("prod.platform", cfg);
    expect(inputs(aurora, "aws:rds/cluster:Cluster", "shop-db-cluster")).toMatchObject({
      engine: "aurora-postgresql",
      storageEncrypted: true,
      deletionProtection: true,
      backupRetentionPeriod: 14,
      deleteAutomatedBackups: false,
      skipFinalSnapshot: false,
    });
    expect(
      aurora.resources
        .filter((r) => r.type === "aws:rds/clusterInstance:ClusterInstance")
        .map((r) => r.inputs.publiclyAccessible),
    ).toEqual([false, false]);
    expect(inputs(aurora, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "shop-db-params").parameters).toEqual([
      { name: "rds.force_ssl", value: "1" },
    ]);
    // Each instance of the cluster serves a certificate of the CA whose root the binding carries.
    expect(
      aurora.resources
        .filter((r) => r.type === "aws:rds/clusterInstance:ClusterInstance")
        .map((r) => r.inputs.caCertIdentifier),
    ).toEqual(["rds-ca-rsa2048-g1", "rds-ca-rsa2048-g1"]);
    const data = secretData(aurora, "svc-db-g0");
    expect(data.url.endsWith(`?${VERIFY_DB}`)).toBe(true);
    expect(caNames(data["ca.crt"])).toEqual(EU_WEST_1_ROOTS);
  });
});

describe("managed Postgres and cache on GKE (prod-gke)", () => {
  let gke: RunResult;
  let graph: Map<ResourceKey, Registration>;
  beforeAll(async () => {
    ({ result: gke, graph } = await runStackWithGraph("prod-gke.platform"));
  });

  it("gives bound apps Cloud SQL's per-instance CA and a URL that verifies the chain, not the host name the certificate does not carry", () => {
    const sql = inputs(gke, "gcp:sql/databaseInstance:DatabaseInstance", "shop-db-sql");
    // The default CA mode: a CA of this instance alone, whose server certificate names the instance, not its IP.
    expect(sql.settings.ipConfiguration.serverCaMode).toBeUndefined();
    const data = secretData(gke, "svc-db-g0");
    expect(data.url).toMatch(/^postgresql:\/\/db_a:[A-Za-z0-9]{32}@[^/]+:5432\/db\?/);
    expect(data.url.endsWith("?sslmode=verify-ca&sslrootcert=%2Fetc%2Fblueprint%2Fservices%2Fdb%2Fca.crt")).toBe(true);
    expect(data["ca.crt"]).toBeTruthy();
  });

  it("runs Cloud SQL private, CMEK, TLS required, regional, deletion-protected, backups with PITR kept after delete and a final backup", () => {
    const sql = inputs(gke, "gcp:sql/databaseInstance:DatabaseInstance", "shop-db-sql");
    expect(sql).toMatchObject({
      databaseVersion: "POSTGRES_17",
      deletionProtection: true,
      settings: {
        edition: "ENTERPRISE",
        availabilityType: "REGIONAL",
        deletionProtectionEnabled: true,
        ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" },
        backupConfiguration: {
          enabled: true,
          pointInTimeRecoveryEnabled: true,
          backupRetentionSettings: { retainedBackups: 14, retentionUnit: "COUNT" },
        },
        retainBackupsOnDelete: true,
        finalBackupConfig: { enabled: true, retentionDays: 14 },
      },
    });
    // The platform's data key (the mock engine's id of the CryptoKey).
    expect(resource(gke, "gcp:kms/cryptoKey:CryptoKey", "blueprint-prod-gke-data").inputs.rotationPeriod).toBe(
      "7776000s",
    );
    expect(sql.encryptionKeyName).toBe("blueprint-prod-gke-data-id");
    expect(gke.protectedResources).toContain("gcp:sql/databaseInstance:DatabaseInstance::shop-db-sql");
  });

  it("runs Memorystore with AUTH, TLS, CMEK, a replica in another zone, protected and retained", () => {
    const redis = inputs(gke, "gcp:redis/instance:Instance", "shop-cache-redis");
    expect(redis).toMatchObject({
      tier: "STANDARD_HA",
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      connectMode: "PRIVATE_SERVICE_ACCESS",
    });
    expect(redis.customerManagedKey).toBeDefined();
    expect(gke.protectedResources).toContain("gcp:redis/instance:Instance::shop-cache-redis");
  });

  it("creates the instances after private services access and the key grants, so destroy removes them first (pulumi-gcp#3354)", () => {
    for (const key of [
      "gcp:sql/databaseInstance:DatabaseInstance::shop-db-sql",
      "gcp:redis/instance:Instance::shop-cache-redis",
    ]) {
      const deps = registration(graph, key).dependsOn;
      expect(deps).toContain("gcp:servicenetworking/connection:Connection::blueprint-prod-gke-psa");
      expect(deps).toContain("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember::blueprint-prod-gke-data-sql");
    }
    expect(inputs(gke, "gcp:compute/globalAddress:GlobalAddress", "blueprint-prod-gke-psa")).toMatchObject({
      purpose: "VPC_PEERING",
      addressType: "INTERNAL",
      address: "10.60.0.0",
      prefixLength: 20,
    });
  });

  it("backs up the team namespaces with Backup for GKE, volume data and CMEK, with a RestorePlan per namespace", () => {
    const plan = inputs(gke, "gcp:gkebackup/backupPlan:BackupPlan", "blueprint-prod-gke-volumes-plan");
    expect(plan).toMatchObject({
      name: "blueprint-prod-gke-volumes",
      retentionPolicy: { backupRetainDays: 14 },
      backupSchedule: { cronSchedule: "0 3 * * *" },
      backupConfig: {
        includeVolumeData: true,
        includeSecrets: true,
        selectedNamespaces: { namespaces: ["shop", "payments"] },
        encryptionKey: { gcpKmsEncryptionKey: "blueprint-prod-gke-data-id" },
      },
    });
    for (const ns of ["shop", "payments"]) {
      expect(
        inputs(gke, "gcp:gkebackup/restorePlan:RestorePlan", `blueprint-prod-gke-volumes-restore-${ns}`).restoreConfig,
      ).toMatchObject({
        selectedNamespaces: { namespaces: [ns] },
        volumeDataRestorePolicy: "RESTORE_VOLUME_DATA_FROM_BACKUP",
      });
    }
    expect(
      inputs(gke, "gcp:container/cluster:Cluster", "blueprint-prod-gke-gke").addonsConfig.gkeBackupAgentConfig,
    ).toEqual({ enabled: true });
  });

  describe("rotating the Memorystore AUTH string from config", () => {
    const rotated = (edits: ReadonlyArray<readonly [string[], unknown]>) =>
      runStack(
        "prod-gke.platform",
        withEdits(
          stackConfig("prod-gke.platform"),
          edits.map(([k, v]) => [["blueprint:teams", "shop", "services", "cache", ...k], v] as const),
        ),
      );
    const instances = (r: RunResult) =>
      r.resources
        .filter((x) => x.type === "gcp:redis/instance:Instance")
        .map((x) => x.name)
        .sort();
    const state = (r: RunResult, name: string) =>
      revealSecrets(resource(r, "gcp:redis/instance:Instance", name).state) as { host: string; authString: string };

    it("creates the next generation's instance and points a new Secret at it, keeping the previous instance and its AUTH string", async () => {
      const r = await rotated([[["rotation"], 1]]);
      expect(instances(r)).toEqual(["shop-cache-redis", "shop-cache-redis-g1"]);
      const next = state(r, "shop-cache-redis-g1");
      const data = secretData(r, "svc-cache-g1");
      expect(data).toMatchObject({ host: next.host, port: "6378", username: "default", password: next.authString });
      expect(data.url).toBe(`rediss://default:${next.authString}@${next.host}:6378/0`);
      expect(data["ca.crt"]).toContain("BEGIN CERTIFICATE");
      // The previous instance is untouched but for its guard: its AUTH string still admits the pods that have not rolled.
      const previous = inputs(r, "gcp:redis/instance:Instance", "shop-cache-redis");
      expect(previous).toMatchObject({ authEnabled: true, tier: "STANDARD_HA", memorySizeGb: 5 });
      expect(state(r, "shop-cache-redis").authString).not.toBe(next.authString);
      const services = (r.stackOutputs.outputs.contract as Record<string, { services: Record<string, unknown> }>).shop
        .services;
      expect(services.cache).toMatchObject({ secretName: "svc-cache-g1", host: next.host });
      // The previous Secret stays, pointing at the previous instance with its AUTH string and CA.
      const old = state(r, "shop-cache-redis");
      expect(secretData(r, "svc-cache-g0")).toMatchObject({ host: old.host, password: old.authString });
      expect(secretData(r, "svc-cache-g0").url).toBe(`rediss://default:${old.authString}@${old.host}:6378/0`);
    });

    it("drops the previous Secret with the previous instance", async () => {
      const r = await rotated([
        [["rotation"], 1],
        [["retiredRotation"], 0],
      ]);
      expect(() => secretData(r, "svc-cache-g0")).toThrow("no Secret svc-cache-g0");
      expect(secretData(r, "svc-cache-g1").password).toBe(state(r, "shop-cache-redis-g1").authString);
    });

    it("guards only the current instance, so retiring the previous one later is a plain delete", async () => {
      const r = await rotated([[["rotation"], 1]]);
      expect(instances(r)).toContain("shop-cache-redis");
      expect(r.protectedResources).toContain("gcp:redis/instance:Instance::shop-cache-redis-g1");
      expect(r.protectedResources).not.toContain("gcp:redis/instance:Instance::shop-cache-redis");
    });

    it("deletes the previous generation's instance once retiredRotation reaches it, and keeps it at the next rotation until then", async () => {
      expect(
        instances(
          await rotated([
            [["rotation"], 1],
            [["retiredRotation"], 0],
          ]),
        ),
      ).toEqual(["shop-cache-redis-g1"]);
      expect(
        instances(
          await rotated([
            [["rotation"], 2],
            [["retiredRotation"], 0],
          ]),
        ),
      ).toEqual(["shop-cache-redis-g1", "shop-cache-redis-g2"]);
    });

    it("keeps the instance of generation 0 under its old name, so a stack that never rotated replaces nothing", () => {
      expect(instances(gke)).toEqual(["shop-cache-redis"]);
    });

    it("refuses retiring the current generation, and retiredRotation where it does not apply", async () => {
      const { parsePlatform } = await import("../../config/load");
      const parse = (stack: string, edits: ReadonlyArray<readonly [string[], unknown]>) => () =>
        parsePlatform(
          withEdits(
            stackConfig(stack),
            edits.map(([k, v]) => [["blueprint:teams", "shop", "services", "cache", ...k], v] as const),
          ).config,
          stack,
          "blueprint",
        );
      expect(
        parse("prod-gke.platform", [
          [["rotation"], 1],
          [["retiredRotation"], 1],
        ]),
      ).toThrow(
        "stacks/Pulumi.prod-gke.platform.yaml: blueprint:teams.shop.services.cache.retiredRotation must be below rotation (1): the instance of the current generation serves the bound apps, got 1",
      );
      expect(parse("prod-gke.platform", [[["retiredRotation"], 0]])).toThrow(
        "blueprint:teams.shop.services.cache.retiredRotation must be below rotation (0)",
      );
      expect(
        parse("prod.platform", [
          [["rotation"], 1],
          [["retiredRotation"], 0],
        ]),
      ).toThrow(
        "stacks/Pulumi.prod.platform.yaml: blueprint:teams.shop.services.cache.retiredRotation applies to Memorystore (managed valkey, cluster.cloud: gcp); elsewhere the previous credential is revoked by the next rotation only; this environment's cluster is aws",
      );
      expect(
        parse("dev.platform", [
          [["rotation"], 1],
          [["retiredRotation"], 0],
        ]),
      ).toThrow("blueprint:teams.shop.services.cache.retiredRotation applies to Memorystore");
      expect(parse("prod-gke.platform", [[["retiredRotation"], -1]])).toThrow(
        "blueprint:teams.shop.services.cache.retiredRotation",
      );
    });
  });

  it("keeps the URN of a binding Secret from before each generation had its own resource (an alias, so nothing is replaced)", () => {
    expect(registration(graph, "kubernetes:core/v1:Secret::shop-cache-g0").aliases).toEqual(["shop-cache"]);
    expect(registration(graph, "kubernetes:core/v1:Secret::shop-db-g0").aliases).toEqual(["shop-db"]);
  });

  it("gives bound apps the server CA and a verifying URL", () => {
    const services = (gke.stackOutputs.outputs.contract as Record<string, { services: Record<string, unknown> }>).shop
      .services;
    expect(services.db).toMatchObject({
      flavour: "managed",
      tls: true,
      port: 5432,
      caFile: "/etc/blueprint/services/db/ca.crt",
      footprint: null,
    });
    expect(services.cache).toMatchObject({
      flavour: "managed",
      tls: true,
      port: 6378,
      caFile: "/etc/blueprint/services/cache/ca.crt",
    });
  });
});
