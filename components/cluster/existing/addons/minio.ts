import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from "../../../pod-security";
import type { ExistingKubernetesContext } from "../context";

/**
 * MinIO in the cluster: the object store of the Velero add-on (./velero.ts) on local and dev
 * clusters, which have no bucket of their own. One replica on a volume, non-root with a read-only
 * root filesystem, reached by Velero's namespace only. Production refuses it (config/backups.ts):
 * backups that live in the cluster they protect are lost with it.
 */

/** MinIO's namespace: Pod Security `restricted`, a platform namespace no team may take (lib/namespaces.ts). */
export const MINIO_NAMESPACE = "minio";

/**
 * `minio/minio:RELEASE.2025-09-07T16-13-09Z`, pinned by digest as public projects pin it (the
 * same digest in several unrelated repositories' compose files and tests). MinIO stopped
 * publishing community images after this release, so the tag will not move; pull it once into a
 * registry of your own (`skopeo copy --all --preserve-digests`) if Docker Hub refuses anonymous
 * pulls. Platform-owned: it runs in {@link MINIO_NAMESPACE}, outside the team allow-list's reach.
 * The image carries the `mc` client too (MinIO's Dockerfile.release copies it to /usr/bin/mc).
 */
export const minioImage =
  "docker.io/minio/minio@sha256:14cea493d9a34af32f524e538b8346cf79f3321eff8e708c1e2960462bd8936e";

/** The bucket Velero writes to, and MinIO's S3 port. */
export const minioDefaults = {
  bucket: "velero",
  port: 9000,
  /** Any region: MinIO ignores it, the AWS plugin needs one with path-style addressing. */
  region: "minio",
  uid: 10001,
  resources: {
    requests: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "64Mi" },
    limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "256Mi" },
  },
  jobResources: {
    requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "16Mi" },
    limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "64Mi" },
  },
} as const;

/** What Velero needs from the object store MinIO gives it. */
export interface MinioStore {
  /** `http://minio.minio.svc.cluster.local:9000`: plain HTTP inside the cluster, reached from Velero's namespace only. */
  readonly url: string;
  readonly bucket: string;
  readonly region: string;
  /** Generated access key (Pulumi secrets). */
  readonly credentials: pulumi.Output<{ readonly accessKeyId: string; readonly secretAccessKey: string }>;
  /** What must exist before Velero's BackupStorageLocation: the bucket. */
  readonly ready: readonly pulumi.Resource[];
}

/**
 * Deploys MinIO with its bucket for Velero in `clientNamespace`. Names start with the cluster's
 * (`ctx.name`).
 */
export function deployMinio(
  ctx: ExistingKubernetesContext,
  parent: pulumi.Resource,
  args: { readonly storage: string; readonly clientNamespace: string; readonly podSecurityVersion: string },
): MinioStore {
  const d = minioDefaults;
  const opts = { parent, provider: ctx.provider };
  const name = `${ctx.name}-minio`;
  const selector = { "app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "minio" };
  const common = {
    "app.kubernetes.io/component": "backup-store",
    "app.kubernetes.io/part-of": "platform",
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const labels = { ...selector, ...common };
  const ns = new k8s.core.v1.Namespace(
    name,
    {
      metadata: {
        name: MINIO_NAMESPACE,
        labels: {
          "app.kubernetes.io/managed-by": "pulumi",
          "app.kubernetes.io/part-of": "platform",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": args.podSecurityVersion,
        },
      },
    },
    opts,
  );
  const meta = (n: string) => ({ name: n, namespace: ns.metadata.name, labels });
  const inNs = { ...opts, dependsOn: [ns] };

  // The access key is MinIO's root user: the only user, used by Velero alone.
  const randomProvider = new random.Provider(`${name}-random`, {}, { parent });
  const key = (suffix: string, length: number) =>
    new random.RandomPassword(
      `${name}-${suffix}`,
      { length, special: false, upper: false, minLower: 4, minNumeric: 4 },
      { parent, provider: randomProvider },
    ).result;
  const accessKeyId = key("access-key", 20);
  const secretAccessKey = key("secret-key", 40);
  const host = `minio.${MINIO_NAMESPACE}.svc.cluster.local`;
  const url = `http://${host}:${d.port}`;

  const secret = new k8s.core.v1.Secret(
    `${name}-root`,
    {
      metadata: meta("minio-root"),
      type: "Opaque",
      stringData: pulumi.secret(
        pulumi.all([accessKeyId, secretAccessKey]).apply(([user, password]) => ({
          MINIO_ROOT_USER: user,
          MINIO_ROOT_PASSWORD: password,
          // The mc client reads an alias from MC_HOST_<alias> (https://min.io/docs/minio/linux/reference/minio-mc.html#envvar.MC_HOST_ALIAS):
          // the bucket Job needs no shell. Both keys are lowercase letters and digits, safe in a URL.
          MC_HOST_store: `http://${user}:${password}@${host}:${d.port}`,
        })),
      ),
    },
    inNs,
  );

  const pvc = new k8s.core.v1.PersistentVolumeClaim(
    `${name}-data`,
    {
      metadata: meta("minio-data"),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.storage } } },
    },
    // On the cluster's default class; local-path binds when the pod is scheduled
    // (WaitForFirstConsumer), which the provider's await accepts as ready (pulumi-kubernetes#3130).
    inNs,
  );

  const service = new k8s.core.v1.Service(
    `${name}-service`,
    {
      metadata: meta("minio"),
      spec: { type: "ClusterIP", selector, ports: [{ name: "s3", port: d.port, targetPort: "s3", protocol: "TCP" }] },
    },
    inNs,
  );

  // Only Velero's namespace (its server and node-agent upload with kopia) and the bucket Job reach
  // MinIO's port; MinIO itself reaches nothing. The Job reaches MinIO and DNS only.
  // Not MinIO's selector labels: the Service and MinIO's policy must not pick the Job's pod.
  const jobSelector = { "app.kubernetes.io/name": "minio-bucket", "app.kubernetes.io/instance": "minio-bucket" };
  const jobLabels = { ...jobSelector, ...common };
  new k8s.networking.v1.NetworkPolicy(
    `${name}-ingress`,
    {
      metadata: meta("minio"),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.clientNamespace } } },
              { podSelector: { matchLabels: jobSelector } },
            ],
            ports: [{ protocol: "TCP", port: d.port }],
          },
        ],
        egress: [],
      },
    },
    inNs,
  );
  new k8s.networking.v1.NetworkPolicy(
    `${name}-bucket-egress`,
    {
      metadata: { name: "minio-bucket", namespace: ns.metadata.name, labels: jobLabels },
      spec: {
        podSelector: { matchLabels: jobSelector },
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: [
          { to: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: d.port }] },
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
    inNs,
  );

  const tmp = { name: "tmp", emptyDir: { sizeLimit: "64Mi" } };
  const podSecurity = restrictedPodSecurityContext(d.uid);
  const deployment = new k8s.apps.v1.Deployment(
    `${name}-server`,
    {
      metadata: meta("minio"),
      spec: {
        replicas: 1,
        // One ReadWriteOnce volume: the old pod must let go of it before the new one starts.
        strategy: { type: "Recreate" },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // Endpoint removal and SIGTERM happen together: the pause lets Velero's connections
            // move off before MinIO stops, and MinIO then finishes its requests.
            terminationGracePeriodSeconds: 30,
            securityContext: podSecurity,
            containers: [
              {
                name: "minio",
                lifecycle: { preStop: { sleep: { seconds: 5 } } },
                image: minioImage,
                imagePullPolicy: "IfNotPresent",
                command: ["minio"],
                // Certificates and MinIO's own state go to the writable emptyDir and the volume; the root stays read-only.
                args: ["server", "/data", "--address", `:${d.port}`, "--certs-dir", "/tmp/certs"],
                env: [
                  { name: "HOME", value: "/tmp" },
                  // No web console: only Velero speaks to this store, over S3.
                  { name: "MINIO_BROWSER", value: "false" },
                ],
                envFrom: [{ secretRef: { name: secret.metadata.name } }],
                ports: [{ name: "s3", containerPort: d.port, protocol: "TCP" }],
                // MinIO's health endpoints (https://min.io/docs/minio/linux/operations/monitoring/healthcheck-probe.html).
                livenessProbe: {
                  httpGet: { path: "/minio/health/live", port: "s3" },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                  timeoutSeconds: 5,
                },
                readinessProbe: {
                  httpGet: { path: "/minio/health/ready", port: "s3" },
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                },
                resources: containerResources(d.resources),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "data", mountPath: "/data" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [{ name: "data", persistentVolumeClaim: { claimName: pvc.metadata.name } }, tmp],
          },
        },
      },
    },
    { ...inNs, dependsOn: [ns, pvc] },
  );

  // One replica: a drain may evict it (a backup then retries), but never leaves an unhealthy pod stuck.
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-pdb`,
    {
      metadata: meta("minio"),
      spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow", selector: { matchLabels: selector } },
    },
    inNs,
  );

  // Pulumi waits for the Job to complete, so the bucket exists before Velero's storage location
  // is validated. `mc mb --ignore-existing` makes it idempotent; `--with-lock` is not used (Velero
  // deletes expired backups itself, by TTL).
  const bucketJob = new k8s.batch.v1.Job(
    `${name}-bucket`,
    {
      metadata: { name: "minio-bucket", namespace: ns.metadata.name, labels: jobLabels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 600,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: jobLabels },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: podSecurity,
            containers: [
              {
                name: "mc",
                image: minioImage,
                imagePullPolicy: "IfNotPresent",
                command: ["mc"],
                args: ["mb", "--ignore-existing", `store/${d.bucket}`],
                env: [
                  { name: "HOME", value: "/tmp" },
                  { name: "MC_CONFIG_DIR", value: "/tmp/.mc" },
                  {
                    name: "MC_HOST_store",
                    valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "MC_HOST_store" } },
                  },
                ],
                resources: containerResources(d.jobResources),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [tmp],
          },
        },
      },
    },
    { ...inNs, dependsOn: [deployment, service] },
  );

  return {
    url,
    bucket: d.bucket,
    region: d.region,
    credentials: pulumi.secret(
      pulumi.all([accessKeyId, secretAccessKey]).apply(([a, s]) => ({ accessKeyId: a, secretAccessKey: s })),
    ),
    ready: [bucketJob],
  };
}
