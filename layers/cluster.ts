import { ConfigError } from "../lib/errors";
import { placeholderProblems, validateCluster } from "../config/cluster-rules";
import type { PlatformConfig } from "../config/load";
import { clusterContext } from "../config/validate";
import { resolveObservability } from "../config/observability";
import { objectStoreSchema } from "../config/schema";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterHandle, VeleroBackupArgs } from "../components/cluster";

/**
 * The one seam between an environment and its cluster: returns the {@link ClusterHandle} for the
 * stack's `blueprint:cluster`. Cloud SDKs are imported lazily, so a stack on one cloud never
 * loads the other's (and start-up stays fast).
 */
export async function createCluster(
  env: PlatformConfig,
  opts: { readonly offline?: boolean } = {},
): Promise<ClusterHandle> {
  // The rules that need the whole environment (production, teams, apps), before any resource.
  const context = clusterContext(env);
  const problems = validateCluster(env.cluster, context);
  // The shipped stacks' stand-in values render offline, but must never reach a real cloud.
  if (!(opts.offline ?? isOfflineRun())) problems.push(...placeholderProblems(env.cluster, context));
  if (problems.length > 0) throw new ConfigError(env.file, problems);

  // Named after the environment, not the stack: `dev.platform` is not a valid cluster name, and
  // the cluster keeps the name it had before the environment was split into layers.
  const name = clusterName(env);
  const teamGroups = Object.values(env.teams).flatMap((t) => [...t.groups.maintainers, ...t.groups.viewers]);
  const tags = { "blueprint:project": env.project, "blueprint:stack": env.stack };
  switch (env.cluster.cloud) {
    case "aws": {
      const { eksCluster } = await import("../components/cluster/eks");
      const aws = env.cluster.aws!;
      const containerLogRetentionDays = resolveObservability(env.observability, "aws", env.production).logsDays;
      return eksCluster({
        name,
        kubernetesVersion: env.cluster.kubernetesVersion,
        production: env.production,
        aws: { ...aws, region: aws.region! },
        teamGroups,
        tags,
        configFile: env.file,
        extendedSupport: env.cluster.extendedSupport,
        containerLogRetentionDays,
      });
    }
    case "gcp": {
      const { gkeCluster } = await import("../components/cluster/gke");
      const gcp = env.cluster.gcp!;
      return gkeCluster({
        name,
        kubernetesVersion: env.cluster.kubernetesVersion,
        production: env.production,
        gcp: { ...gcp, project: gcp.project!, region: gcp.region! },
        labels: { "blueprint-project": labelValue(env.project), "blueprint-stack": labelValue(env.stack) },
        logsRetentionDays: resolveObservability(env.observability, "gcp", env.production).logsDays,
        teamGroups,
      });
    }
    case "existing": {
      const { existingCluster } = await import("../components/cluster/existing");
      const ex = env.cluster.existing!;
      return existingCluster({
        name,
        context: ex.context,
        kubeconfig: ex.context ? undefined : env.kubeconfig,
        storageProvisioner: ex.storageProvisioner,
        storageParameters: ex.storageParameters,
        ingressClass: ex.ingressClass,
        ingressNamespace: ex.ingressNamespace,
        certificateIssuer: ex.certificateIssuer,
        volumeBackups: veleroBackups(env),
      });
    }
  }
}

/**
 * Velero's backups of an existing cluster's team namespaces: schedule and retention from
 * `blueprint:platform.volumeBackups`, into its objectStore (MinIO in the cluster when none is
 * named; config/backups.ts refuses that in production). None without teams, or with `type: none`.
 */
function veleroBackups(env: PlatformConfig): VeleroBackupArgs | undefined {
  const namespaces = Object.keys(env.teams);
  if (namespaces.length === 0) return undefined;
  const { hourUtc, retentionDays, objectStore } = env.platform.volumeBackups;
  const store = objectStore ?? objectStoreSchema.parse({ type: "minio" });
  if (store.type === "none") return undefined;
  return {
    hourUtc,
    retentionDays,
    namespaces,
    podSecurityVersion: `v${env.cluster.kubernetesVersion}`,
    objectStore:
      store.type === "minio"
        ? { type: "minio", storage: String(store.storage) }
        : {
            type: "s3",
            bucket: store.bucket,
            region: store.region,
            url: store.url,
            pathStyle: store.pathStyle,
            prefix: store.prefix,
            // config/backups.ts refuses an s3 store without them, before any resource.
            credentials: pulumi.secret({ ...env.backupStoreCredentials! }),
          },
  };
}

/** The cluster's name: `blueprint:cluster.name`, else `<project>-<environment>`. */
export function clusterName(env: Pick<PlatformConfig, "cluster" | "project" | "environment">): string {
  return env.cluster.name ?? `${env.project}-${env.environment}`;
}

/** Google label values: lowercase letters, digits, '-' and '_', at most 63 characters. */
function labelValue(v: string): string {
  return v
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 63);
}

/** Is the program running under Pulumi's mock engine (the offline render), not a real deployment? */
export function isOfflineRun(): boolean {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { getMonitor } = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (...args: never[]) => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return getMonitor() instanceof MockMonitor;
}
