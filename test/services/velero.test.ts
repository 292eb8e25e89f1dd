import { collect, getObject, runStack, stackConfig, withEdits, type K8sObject } from "../helpers/program";
import { registration, runStackWithGraph, type Registration, type ResourceKey } from "../cluster/harness";
import type { RunResult } from "../../tools/offline/run";
import type { StackConfig } from "../../lib/project";

const RELEASE = "kubernetes:helm.sh/v3:Release::blueprint-local-velero";
const LOCATION = "kubernetes:velero.io/v1:BackupStorageLocation::blueprint-local-velero-location";
const SCHEDULE = "kubernetes:velero.io/v1:Schedule::blueprint-local-velero-schedule";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function releaseInputs(result: RunResult): Record<string, any> {
  const found = result.resources.filter(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "blueprint-local-velero",
  );
  if (found.length !== 1) throw new Error(`${found.length} Velero releases`);
  return found[0].inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const spec = (o: K8sObject) => o.spec as Record<string, any>;

/** The local platform stack with `blueprint:backupStoreCredentials` set as a secret, as `pulumi config set --secret` would. */
function withS3(cfg: StackConfig, store: Record<string, unknown>, secret = true): StackConfig {
  withEdits(cfg, [
    [["blueprint:platform", "volumeBackups", "objectStore"], store],
    [
      "blueprint:backupStoreCredentials",
      { accessKeyId: "AKIAEXAMPLEKEY", secretAccessKey: "s3cr3t-example-key-value" },
    ],
  ]);
  if (secret) cfg.secretKeys.push("blueprint:backupStoreCredentials");
  return cfg;
}

async function problems(stack: string, cfg: StackConfig): Promise<string[]> {
  const { parsePlatform } = await import("../../config/load");
  return collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
}

describe("Velero volume backups on the local (existing) cluster", () => {
  let local: RunResult;
  let graph: Map<ResourceKey, Registration>;
  beforeAll(async () => {
    ({ result: local, graph } = await runStackWithGraph("local.platform"));
  });

  it("installs the pinned upstream chart with the AWS object-store plugin, kopia, the node-agent and file-system backup by default", () => {
    const release = releaseInputs(local);
    expect(release).toMatchObject({
      chart: "velero",
      version: "12.1.0",
      repositoryOpts: { repo: "https://vmware-tanzu.github.io/helm-charts" },
      namespace: "velero",
    });
    const v = release.values;
    // The server by digest (the chart's `image.digest` takes the tag's place), and the restore helper with it.
    expect(v.image).toMatchObject({
      repository: "docker.io/velero/velero",
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(v.configMaps["fs-restore-action-config"].data.image).toBe(`docker.io/velero/velero@${v.image.digest}`);
    expect(v.initContainers).toEqual([
      expect.objectContaining({
        name: "velero-plugin-for-aws",
        image: expect.stringMatching(/^docker\.io\/velero\/velero-plugin-for-aws:v1\.14\.\d+@sha256:[0-9a-f]{64}$/),
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      }),
    ]);
    expect(v.deployNodeAgent).toBe(true);
    expect(v.configuration).toMatchObject({ uploaderType: "kopia", defaultVolumesToFsBackup: true });
    // The location is a resource of its own; no snapshot location on volumes without a snapshot API.
    expect(v).toMatchObject({ backupsEnabled: false, snapshotsEnabled: false });
    // Credentials come from a Secret, never as Helm values.
    expect(v.credentials).toEqual({ useSecret: true, existingSecret: "velero-object-store" });
    expect(JSON.stringify(v)).not.toMatch(/aws_secret_access_key|secretContents/);
  });

  it("writes to the in-cluster MinIO through the default BackupStorageLocation, path-style, at MinIO's in-cluster endpoint", () => {
    expect(spec(getObject(local, "BackupStorageLocation", "velero/default"))).toEqual({
      provider: "aws",
      default: true,
      objectStorage: { bucket: "velero" },
      credential: { name: "velero-object-store", key: "cloud" },
      config: {
        region: "minio",
        s3ForcePathStyle: "true",
        s3Url: "http://minio.minio.svc.cluster.local:9000",
        checksumAlgorithm: "",
      },
    });
  });

  it("backs up exactly the team namespaces daily at hourUtc, keeping each backup retentionDays, volumes by file-system backup", () => {
    const schedule = spec(getObject(local, "Schedule", "velero/blueprint-local-volumes"));
    expect(schedule).toEqual({
      schedule: "0 3 * * *",
      useOwnerReferencesInBackup: false,
      template: {
        includedNamespaces: ["shop", "payments"],
        defaultVolumesToFsBackup: true,
        snapshotVolumes: false,
        storageLocation: "default",
        ttl: "336h0m0s",
      },
    });
  });

  it("follows blueprint:platform.volumeBackups and the team list when they change", async () => {
    const cfg = withEdits(stackConfig("local.platform"), [
      [["blueprint:platform", "volumeBackups"], { hourUtc: 22, retentionDays: 3 }],
      [["blueprint:teams", "search"], { groups: { maintainers: ["search-devs"], viewers: [] } }],
    ]);
    const changed = await runStack("local.platform", cfg);
    const schedule = spec(getObject(changed, "Schedule", "velero/blueprint-local-volumes"));
    expect(schedule.schedule).toBe("0 22 * * *");
    expect(schedule.template.ttl).toBe("72h0m0s");
    expect(schedule.template.includedNamespaces).toEqual(["shop", "payments", "search"]);
    expect(changed.stackOutputs.outputs.volumeBackups).toEqual([
      expect.objectContaining({ schedule: "0 22 * * *", hourUtc: 22, retentionDays: 3 }),
    ]);
  });

  it("has local-path make team volumes of type local, which file-system backup reads (it skips hostPath volumes)", async () => {
    expect(getObject(local, "StorageClass", "app-storage").metadata.annotations).toEqual({
      defaultVolumeType: "local",
    });
    // Another provisioner does not read the annotation, and gets none.
    const other = withEdits(stackConfig("local.platform"), [
      [["blueprint:cluster", "existing", "storageProvisioner"], "example.com/nfs"],
    ]);
    expect(
      getObject(await runStack("local.platform", other), "StorageClass", "app-storage").metadata.annotations,
    ).toBeUndefined();
  });

  it("exports the plan for alerting, kind velero, with no credential in any output", () => {
    expect(local.stackOutputs.outputs.volumeBackups).toEqual([
      {
        kind: "velero",
        name: "blueprint-local-volumes",
        target: "s3://velero (MinIO in namespace minio)",
        schedule: "0 3 * * *",
        hourUtc: 3,
        retentionDays: 14,
        namespaces: ["shop", "payments"],
      },
    ]);
    const generated = local.resources
      .filter(
        (r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.startsWith("blueprint-local-minio-"),
      )
      .map((r) => (r.state as { result: string }).result);
    expect(generated).toHaveLength(2);
    const outputs = JSON.stringify(local.stackOutputs.outputs);
    for (const g of generated) {
      expect(typeof g).toBe("string");
      expect(outputs).not.toContain(g);
    }
    // The rendered Secrets are redacted: the keys exist only as Pulumi secrets.
    expect(JSON.stringify(local.objects)).not.toContain(generated[0]);
  });

  it("runs MinIO as one non-root replica with a read-only root, resources, a volume and an image pinned by digest, under Pod Security restricted", () => {
    const ns = getObject(local, "Namespace", "minio");
    expect(ns.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
    const d = spec(getObject(local, "Deployment", "minio/minio"));
    expect(d.replicas).toBe(1);
    expect(d.strategy).toEqual({ type: "Recreate" });
    const pod = d.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const [c] = pod.containers;
    expect(c.image).toMatch(/^docker\.io\/minio\/minio@sha256:[0-9a-f]{64}$/);
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(pod.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "minio-data" } });
    const job = spec(getObject(local, "Job", "minio/minio-bucket")).template.spec;
    expect(job.containers[0]).toMatchObject({
      image: c.image,
      command: ["mc"],
      args: ["mb", "--ignore-existing", "store/velero"],
    });
  });

  it("puts Velero in a namespace of its own at Pod Security privileged, which no team may take", async () => {
    expect(getObject(local, "Namespace", "velero").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
    const { VELERO_NAMESPACE, MINIO_NAMESPACE } = await import("../../components/cluster/existing");
    const { EXISTING_ADD_ON_NAMESPACES } = await import("../../lib/namespaces");
    expect([...EXISTING_ADD_ON_NAMESPACES].sort()).toEqual([MINIO_NAMESPACE, VELERO_NAMESPACE].sort());
    for (const team of ["velero", "minio"]) {
      const cfg = withEdits(stackConfig("local.platform"), [
        [["blueprint:teams", team], { groups: { maintainers: ["x"], viewers: [] } }],
      ]);
      expect(await problems("local.platform", cfg)).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^blueprint:teams\\.${team} cannot be a team name: .*"${team}" is a namespace Kubernetes or the platform's add-ons use`,
          ),
        ),
      );
    }
  });

  it("lets only Velero's namespace (and the bucket Job) reach MinIO, on its S3 port, and MinIO reach nothing", () => {
    const policy = spec(getObject(local, "NetworkPolicy", "minio/minio"));
    expect(policy).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "minio" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "velero" } } },
            {
              podSelector: {
                matchLabels: { "app.kubernetes.io/name": "minio-bucket", "app.kubernetes.io/instance": "minio-bucket" },
              },
            },
          ],
          ports: [{ protocol: "TCP", port: 9000 }],
        },
      ],
      egress: [],
    });
    // The Job's pod is not one of MinIO's: the Service and the policy above do not select it.
    const jobLabels = spec(getObject(local, "Job", "minio/minio-bucket")).template.metadata.labels;
    expect(jobLabels["app.kubernetes.io/name"]).not.toBe("minio");
  });

  it("creates the storage location and the Schedule after the chart (its CRDs) and the bucket, so destroy removes them first", () => {
    const release = registration(graph, RELEASE);
    expect([...release.dependsOn]).toEqual(
      expect.arrayContaining([
        "kubernetes:core/v1:Namespace::blueprint-local-velero",
        "kubernetes:core/v1:Secret::blueprint-local-velero-object-store",
      ]),
    );
    expect([...registration(graph, LOCATION).dependsOn]).toEqual(
      expect.arrayContaining([RELEASE, "kubernetes:batch/v1:Job::blueprint-local-minio-bucket"]),
    );
    expect([...registration(graph, SCHEDULE).dependsOn]).toEqual(expect.arrayContaining([RELEASE, LOCATION]));
    expect([...registration(graph, "kubernetes:batch/v1:Job::blueprint-local-minio-bucket").dependsOn]).toContain(
      "kubernetes:apps/v1:Deployment::blueprint-local-minio-server",
    );
  });

  it("has Prometheus scrape Velero's metrics after the operator's CRDs, where the Velero alert rules read them", () => {
    const monitor = getObject(local, "ServiceMonitor", "velero/volume-backups");
    expect(spec(monitor)).toEqual({
      namespaceSelector: { matchNames: ["velero"] },
      selector: { matchLabels: { "app.kubernetes.io/name": "velero", "app.kubernetes.io/instance": "velero" } },
      endpoints: [{ port: "http-monitoring", interval: "30s" }],
    });
    expect([
      ...registration(graph, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor::observability-backup-metrics")
        .dependsOn,
    ]).toContain("kubernetes:helm.sh/v3:Release::observability-operator-crds");
    const rules = JSON.stringify(getObject(local, "PrometheusRule", "monitoring/platform-alerts"));
    expect(rules).toContain("VeleroBackupFailed");
  });

  it("runs no Velero, exports no plan and renders no Velero alerts with objectStore none", async () => {
    const cfg = withEdits(stackConfig("local.platform"), [
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "none" }],
    ]);
    const none = await runStack("local.platform", cfg);
    const namespaces = none.objects.map((o) => (o.metadata as { namespace?: string; name: string }).namespace);
    expect(namespaces).not.toContain("velero");
    expect(namespaces).not.toContain("minio");
    expect(none.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.name)).not.toContain(
      "blueprint-local-velero",
    );
    expect(none.stackOutputs.outputs.volumeBackups).toEqual([]);
    expect(JSON.stringify(getObject(none, "PrometheusRule", "monitoring/platform-alerts"))).not.toContain("Velero");
  });

  it("writes to an S3-compatible bucket instead when one is configured, with no MinIO", async () => {
    const cfg = withS3(stackConfig("local.platform"), {
      type: "s3",
      bucket: "acme-backups",
      region: "eu-west-1",
      url: "https://s3.example.com",
      pathStyle: true,
      prefix: "local",
    });
    const s3 = await runStack("local.platform", cfg);
    expect(spec(getObject(s3, "BackupStorageLocation", "velero/default"))).toMatchObject({
      objectStorage: { bucket: "acme-backups", prefix: "local" },
      config: { region: "eu-west-1", s3ForcePathStyle: "true", s3Url: "https://s3.example.com" },
    });
    expect(s3.objects.filter((o) => (o.metadata as { namespace?: string }).namespace === "minio")).toEqual([]);
    const outputs = JSON.stringify(s3.stackOutputs.outputs);
    expect(outputs).not.toContain("s3cr3t-example-key-value");
    expect(outputs).not.toContain("AKIAEXAMPLEKEY");
    expect(JSON.stringify(s3.objects)).not.toContain("s3cr3t-example-key-value");
  });
});

describe("refusals of the object storage settings, before any resource", () => {
  const LOCAL = "stacks/Pulumi.local.platform.yaml";
  const store = "blueprint:platform.volumeBackups.objectStore";

  it("refuses object storage settings on EKS and GKE, whose backups are AWS Backup's and Backup for GKE's", async () => {
    const eks = withS3(stackConfig("dev.platform"), { type: "s3", bucket: "acme-backups", region: "eu-west-1" });
    expect(await problems("dev.platform", eks)).toEqual([
      `${store} is for an existing cluster's Velero; on EKS the volume backups are AWS Backup's (hourUtc and retentionDays only): remove it`,
      "blueprint:backupStoreCredentials is for an existing cluster's Velero; AWS Backup needs no access key: remove it",
    ]);
    const gke = withEdits(stackConfig("prod-gke.platform"), [
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "minio" }],
    ]);
    expect(await problems("prod-gke.platform", gke)).toEqual([
      `${store} is for an existing cluster's Velero; on GKE the volume backups are Backup for GKE's (hourUtc and retentionDays only): remove it`,
    ]);
  });

  it("refuses an S3 bucket without credentials, and credentials stored in clear", async () => {
    const none = withEdits(stackConfig("local.platform"), [
      [
        ["blueprint:platform", "volumeBackups", "objectStore"],
        { type: "s3", bucket: "acme-backups", region: "eu-west-1" },
      ],
    ]);
    expect(await problems("local.platform", none)).toEqual([
      expect.stringMatching(
        /^blueprint:backupStoreCredentials is required for an objectStore of type s3: set accessKeyId and secretAccessKey with `pulumi config set --secret/,
      ),
    ]);
    const clear = withS3(
      stackConfig("local.platform"),
      { type: "s3", bucket: "acme-backups", region: "eu-west-1" },
      false,
    );
    const found = await problems("local.platform", clear);
    expect(found).toEqual([
      expect.stringMatching(
        /^blueprint:backupStoreCredentials holds secrets but is stored in clear in the stack file: remove it and set each value with `pulumi config set --secret --path 'backupStoreCredentials.accessKeyId'/,
      ),
    ]);
    expect(found.join("\n")).not.toContain("s3cr3t-example-key-value");
  });

  it("refuses MinIO, or no object store, on an existing cluster in production", async () => {
    const minio = withEdits(stackConfig("local.platform"), [
      ["blueprint:production", true],
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "minio" }],
    ]);
    expect(await problems("local.platform", minio)).toContainEqual(
      `${store}.type is "minio", which runs in the cluster it backs up: a production environment needs its backups outside the cluster (type: s3, with a bucket of an S3-compatible store)`,
    );
    const none = withEdits(stackConfig("local.platform"), [
      ["blueprint:production", true],
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "none" }],
    ]);
    expect(await problems("local.platform", none)).toContainEqual(
      `${store}.type is "none", but a production environment backs up its team volumes: name an S3-compatible bucket (type: s3)`,
    );
    const missing = withEdits(stackConfig("local.platform"), [["blueprint:production", true]]);
    expect(await problems("local.platform", missing)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${store.replace(/\./g, "\\.")} is required on an existing cluster in a production environment: name an S3-compatible bucket`,
        ),
      ),
    );
  });

  it("refuses plain HTTP in production and an IP endpoint without path-style addressing", async () => {
    const cfg = withS3(stackConfig("local.platform"), {
      type: "s3",
      bucket: "acme-backups",
      region: "eu-west-1",
      url: "http://10.0.0.5:9000",
    });
    withEdits(cfg, [["blueprint:production", true]]);
    const found = await problems("local.platform", cfg);
    expect(found).toContainEqual(
      `${store}.url is "http://10.0.0.5:9000": a production environment sends its backups over TLS only, give an https:// endpoint`,
    );
    expect(found).toContainEqual(
      `${store}.pathStyle is false, but the endpoint "http://10.0.0.5:9000" is an IP address, which cannot carry the bucket as a subdomain: set pathStyle: true`,
    );
  });

  it("refuses generated MinIO keys given as config, a bad bucket name, an unknown store type and unknown keys", async () => {
    const keys = withS3(stackConfig("local.platform"), { type: "minio" });
    expect(await problems("local.platform", keys)).toEqual([
      "blueprint:backupStoreCredentials is set, but the objectStore is the in-cluster MinIO, whose keys are generated: remove it",
    ]);
    const bad = withS3(stackConfig("local.platform"), { type: "s3", bucket: "Acme_Backups", region: "eu-west-1" });
    expect(await problems("local.platform", bad)).toContainEqual(
      expect.stringMatching(
        /^blueprint:platform\.volumeBackups\.objectStore\.bucket must be an S3 bucket name: 3-63 lowercase letters/,
      ),
    );
    const unknownType = withEdits(stackConfig("local.platform"), [
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "gcs" }],
    ]);
    expect(await problems("local.platform", unknownType)).toEqual([
      `${store}.type Invalid discriminator value. Expected 'none' | 'minio' | 's3', got "gcs"`,
    ]);
    const unknownKey = withEdits(stackConfig("local.platform"), [
      [["blueprint:platform", "volumeBackups", "objectStore"], { type: "minio", bucket: "x" }],
    ]);
    expect(await problems("local.platform", unknownKey)).toEqual([`${store} has unknown key "bucket"`]);
    const noBucket = withS3(stackConfig("local.platform"), { type: "s3", region: "eu-west-1" });
    expect(await problems("local.platform", noBucket)).toEqual([`${store}.bucket is required (string)`]);
    // The stack file is named in the error itself.
    const { parsePlatform } = await import("../../config/load");
    expect(() => parsePlatform(unknownKey.config, "local.platform", "blueprint", new Set())).toThrow(LOCAL);
  });
});
