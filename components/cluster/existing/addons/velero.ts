import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AddOn } from "../../addon";
import type { ClusterVolumeBackups } from "../../handle";
import type { ExistingKubernetesContext, VeleroBackupArgs } from "../context";
import { deployMinio } from "./minio";

/**
 * Velero: daily backups of the team namespaces to object storage, with file-system backup of
 * their volumes (kopia, run by the node-agent DaemonSet), since an existing cluster's volumes
 * (kind's local-path) cannot be snapshotted
 * (https://velero.io/docs/v1.18/file-system-backup/). Writes to an S3-compatible bucket, or to
 * MinIO in the cluster (./minio.ts) on local and dev. A restore is judged by its data, not its
 * phase: a "Completed" restore can hold no data (velero#6693); docs/backups.md shows how.
 */

/**
 * The upstream chart (https://github.com/vmware-tanzu/helm-charts, tag velero-12.1.0: Velero
 * v1.18.1). Upgrades are explicit: bump here, read the chart's values.yaml for renamed keys, and
 * the plugin below with it.
 */
export const veleroChart = {
  repo: "https://vmware-tanzu.github.io/helm-charts",
  chart: "velero",
  version: "12.1.0",
} as const;

/**
 * The server image is the chart's own version, v1.18.1, pinned by the digest Docker Hub's tag API
 * gave for it (as a public project recorded it, 2026-08-20); the chart puts the digest in place of
 * the tag. The AWS object-store plugin v1.14.2 is the line paired with Velero 1.18
 * (velero-plugin-for-aws README compatibility table), pinned by the digest several public Velero
 * deployments run it at (v1.14.2 carries the CVE fixes of the 1.14 line).
 */
export const veleroImages = {
  server: {
    repository: "docker.io/velero/velero",
    tag: "v1.18.1",
    digest: "sha256:11459094b1b21ec7c817b08f8067d9e89380835547915cac9c4132ff05b55b90",
  },
  awsPlugin:
    "docker.io/velero/velero-plugin-for-aws:v1.14.2@sha256:0751144c1c8e52d52c48717fbd13ad5a3061e612ae4d7ad744a946cd5b139d1a",
} as const;

/**
 * Velero's namespace, Pod Security `privileged`: the node-agent mounts the kubelet's pod
 * directory (hostPath /var/lib/kubelet/pods) as root to read every pod's volumes, which no lower
 * level admits. No team may take it (lib/namespaces.ts), and nothing else runs there.
 */
export const VELERO_NAMESPACE = "velero";
/** The Secret holding the object store's access key, in the AWS credentials-file format the plugin reads. */
const CREDENTIALS_SECRET = "velero-object-store";
/** The BackupStorageLocation every backup goes to. */
const STORAGE_LOCATION = "default";
/** Non-root user of Velero's server and of the restore helper (the images run as any user). */
const VELERO_UID = 65532;

/** Velero's cron for a daily backup at `hourUtc`: the server's clock is UTC (the image sets no time zone). */
export function veleroSchedule(hourUtc: number): string {
  return `0 ${hourUtc} * * *`;
}

/** A Backup's TTL (a Go duration) for `retentionDays`: Velero deletes the backup and its data after it. */
export function veleroTtl(retentionDays: number): string {
  return `${retentionDays * 24}h0m0s`;
}

/** What the Velero add-on backs up when, as plain data (the stack output `volumeBackups`, alerting). */
export function veleroPlan(clusterName: string, args: VeleroBackupArgs): ClusterVolumeBackups {
  const store = args.objectStore;
  return {
    kind: "velero",
    name: scheduleName(clusterName),
    target:
      store.type === "minio"
        ? `s3://velero (MinIO in namespace minio)`
        : `s3://${store.bucket}${store.prefix ? `/${store.prefix}` : ""}${store.url ? ` at ${store.url}` : ""}`,
    schedule: veleroSchedule(args.hourUtc),
    hourUtc: args.hourUtc,
    retentionDays: args.retentionDays,
    namespaces: [...args.namespaces],
    // The chart's metrics Service (templates/service.yaml): named and labelled after the release.
    metrics: {
      namespace: VELERO_NAMESPACE,
      selector: { "app.kubernetes.io/name": "velero", "app.kubernetes.io/instance": "velero" },
      port: "http-monitoring",
    },
  };
}

function scheduleName(clusterName: string): string {
  return `${clusterName}-volumes`;
}

/** A container security context without privilege, capabilities or a writable root. */
const lockedDown = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/**
 * The chart's values (keys as in charts/velero/values.yaml of velero-12.1.0). The storage
 * location and the Schedule are Pulumi resources of their own (ordered after the chart's CRDs),
 * not chart values; the credentials are an existing Secret, so they are never Helm values.
 */
export function veleroValues(): Record<string, unknown> {
  return {
    image: { ...veleroImages.server, pullPolicy: "IfNotPresent" },
    // The object-store plugin for S3 and S3-compatible stores (MinIO), copied into the server's
    // plugin directory by an init container (chart README, "Option 1").
    initContainers: [
      {
        name: "velero-plugin-for-aws",
        image: veleroImages.awsPlugin,
        imagePullPolicy: "IfNotPresent",
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
        securityContext: { ...lockedDown, runAsUser: VELERO_UID },
        resources: {
          requests: { cpu: "10m", memory: "32Mi" },
          limits: { cpu: "100m", memory: "64Mi" },
        },
      },
    ],
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: VELERO_UID,
      runAsGroup: VELERO_UID,
      fsGroup: VELERO_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containerSecurityContext: lockedDown,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    // The storage location is ours (below); no volume snapshots: local-path and most existing
    // clusters' volumes have no snapshot API, file-system backup copies them instead.
    backupsEnabled: false,
    snapshotsEnabled: false,
    credentials: { useSecret: true, existingSecret: CREDENTIALS_SECRET },
    configuration: {
      uploaderType: "kopia",
      defaultBackupStorageLocation: STORAGE_LOCATION,
      // Every pod volume of a backup is copied by the node-agent unless the pod opts a volume out
      // (backup.velero.io/backup-volumes-excludes): teams need no annotation.
      defaultVolumesToFsBackup: true,
    },
    // The node-agent DaemonSet: kopia reads each pod's volumes from the node. It mounts the
    // kubelet's pod directory through hostPath and runs as root (the chart's default), not
    // privileged: Velero needs privileged fs-backup pods only for some platforms such as
    // OpenShift (https://velero.io/docs/v1.18/customize-installation/#enable-file-system-backup).
    // hostPath alone already fails Pod Security baseline (rackerlabs/openCenter-gitops-base#48
    // shows the DaemonSet refused), hence the namespace's `privileged` level.
    deployNodeAgent: true,
    nodeAgent: {
      podVolumePath: "/var/lib/kubelet/pods",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      containerSecurityContext: { allowPrivilegeEscalation: false, privileged: false },
    },
    // Metrics on, scraped by the platform's Prometheus (components/observability.ts makes the
    // ServiceMonitor once the operator's CRDs exist): the chart's autodetection would look for
    // them before they are installed.
    metrics: { enabled: true, serviceMonitor: { enabled: false }, nodeAgentPodMonitor: { enabled: false } },
    // A restore of file-system backups adds an init container to each restored pod; in a
    // restricted namespace it must itself be restricted (https://velero.io/docs/v1.18/file-system-backup/#customize-restore-helper-container).
    configMaps: {
      "fs-restore-action-config": {
        labels: { "velero.io/plugin-config": "", "velero.io/pod-volume-restore": "RestoreItemAction" },
        data: {
          // The server's own image, by digest (Velero uses a reference with a tag or digest as written).
          image: `${veleroImages.server.repository}@${veleroImages.server.digest}`,
          cpuRequest: "100m",
          memRequest: "128Mi",
          cpuLimit: "500m",
          memLimit: "256Mi",
          secCtx: [
            "allowPrivilegeEscalation: false",
            "readOnlyRootFilesystem: true",
            "runAsNonRoot: true",
            `runAsUser: ${VELERO_UID}`,
            "capabilities:",
            "  drop: [ALL]",
            "seccompProfile:",
            "  type: RuntimeDefault",
            "",
          ].join("\n"),
        },
      },
    },
  };
}

/** The credentials file of the AWS plugin (https://github.com/vmware-tanzu/velero-plugin-for-aws#set-permissions-for-velero). */
function credentialsFile(c: { readonly accessKeyId: string; readonly secretAccessKey: string }): string {
  return `[default]\naws_access_key_id=${c.accessKeyId}\naws_secret_access_key=${c.secretAccessKey}\n`;
}

/**
 * Velero on an existing cluster: its namespace, the object store's credentials, the chart, then
 * the BackupStorageLocation and the Schedule over the team namespaces. Off without `volumeBackups`.
 *
 * Order: the storage location and the Schedule depend on the Release (whose crds/ folder Helm
 * installs first), so they are created after their CRDs and deleted before the controller. Team
 * namespaces do not wait for Velero, nor Velero for them: Velero puts no finalizer on team
 * objects (its finalizers are on its own Restores and data movements, in its namespace), so a
 * destroy that removes Velero first leaves nothing in a team namespace hanging, and a Schedule
 * naming a namespace that does not exist yet backs up what exists when it runs.
 */
export const velero: AddOn<ExistingKubernetesContext> = {
  name: "velero",
  deploy(ctx, parent) {
    const args = ctx.volumeBackups;
    if (!args) return {};
    const opts = { parent, provider: ctx.provider };
    const name = `${ctx.name}-velero`;
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "platform" };
    const ns = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: VELERO_NAMESPACE,
          labels: {
            ...labels,
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/enforce-version": args.podSecurityVersion,
            // Warn on what the node-agent needs, so anything else that lands here stands out.
            "pod-security.kubernetes.io/warn": "baseline",
            "pod-security.kubernetes.io/warn-version": args.podSecurityVersion,
          },
        },
      },
      opts,
    );

    const store =
      args.objectStore.type === "minio"
        ? deployMinio(ctx, parent, {
            storage: args.objectStore.storage,
            clientNamespace: VELERO_NAMESPACE,
            podSecurityVersion: args.podSecurityVersion,
          })
        : {
            url: args.objectStore.url,
            bucket: args.objectStore.bucket,
            region: args.objectStore.region,
            prefix: args.objectStore.prefix,
            pathStyle: args.objectStore.pathStyle,
            credentials: pulumi.secret(pulumi.output(args.objectStore.credentials)),
            ready: [] as readonly pulumi.Resource[],
          };
    const pathStyle = args.objectStore.type === "minio" ? true : args.objectStore.pathStyle;
    const prefix = args.objectStore.type === "s3" ? args.objectStore.prefix : undefined;

    const secret = new k8s.core.v1.Secret(
      `${name}-object-store`,
      {
        metadata: { name: CREDENTIALS_SECRET, namespace: ns.metadata.name, labels },
        type: "Opaque",
        stringData: pulumi.secret(pulumi.output(store.credentials).apply((c) => ({ cloud: credentialsFile(c) }))),
      },
      { ...opts, dependsOn: [ns] },
    );

    const release = new k8s.helm.v3.Release(
      name,
      {
        name: "velero",
        chart: veleroChart.chart,
        version: veleroChart.version,
        repositoryOpts: { repo: veleroChart.repo },
        namespace: ns.metadata.name,
        values: veleroValues(),
        // Helm waits for the node-agent on every node and runs the CRD hook: more than the default 300 s on a cold kind node.
        timeout: 600,
      },
      { ...opts, dependsOn: [ns, secret] },
    );

    const location = new k8s.apiextensions.CustomResource(
      `${name}-location`,
      {
        apiVersion: "velero.io/v1",
        kind: "BackupStorageLocation",
        metadata: { name: STORAGE_LOCATION, namespace: VELERO_NAMESPACE, labels },
        spec: {
          provider: "aws",
          default: true,
          objectStorage: { bucket: store.bucket, ...(prefix ? { prefix } : {}) },
          credential: { name: CREDENTIALS_SECRET, key: "cloud" },
          // The AWS plugin's BackupStorageLocation config (velero-plugin-for-aws
          // backupstoragelocation.md): values are strings. A store other than AWS S3 gets no
          // upload checksum, which S3-compatible stores often reject (the same page).
          config: {
            region: store.region,
            s3ForcePathStyle: String(pathStyle),
            ...(store.url ? { s3Url: store.url, checksumAlgorithm: "" } : {}),
          },
        },
      },
      { ...opts, dependsOn: [release, secret, ...store.ready] },
    );

    new k8s.apiextensions.CustomResource(
      `${name}-schedule`,
      {
        apiVersion: "velero.io/v1",
        kind: "Schedule",
        metadata: { name: scheduleName(ctx.name), namespace: VELERO_NAMESPACE, labels },
        spec: {
          schedule: veleroSchedule(args.hourUtc),
          // Backups outlive the Schedule: deleting it (or the stack) must not delete them.
          useOwnerReferencesInBackup: false,
          template: {
            includedNamespaces: [...args.namespaces],
            // Volumes by file-system backup; there is no snapshot location to use.
            defaultVolumesToFsBackup: true,
            snapshotVolumes: false,
            storageLocation: STORAGE_LOCATION,
            ttl: veleroTtl(args.retentionDays),
          },
        },
      },
      { ...opts, dependsOn: [release, location] },
    );
    return {};
  },
};
