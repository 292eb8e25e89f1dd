import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
// "../components/index", not the folder: the folder's package.json points at the built package (dist/).
import { PriorityClasses, StorageClass, TeamNamespace, type ClusterHandle } from "../components/index";
import { PlatformObservability } from "../components/observability";
import { AdmissionPolicy } from "../components/admission-policy";
import type { GrantedEgress } from "../components/admission-rules";
import { clusterName, createCluster } from "./cluster";
import { CONTRACT_VERSION, type TeamContract } from "../config/contract";
import { loadPlatform, type PlatformConfig } from "../config/load";
import type { TeamConfig } from "../config/schema";
import { resolveObservability, type ResolvedObservability } from "../config/observability";
import { servicesShared, teamServices, volumeBackups } from "./services";

/** Name of the default StorageClass the platform makes for team volumes. */
const APP_STORAGE = "app-storage";

/**
 * The platform layer: config -> cluster -> storage and priority classes -> team namespaces with
 * their guardrails, RBAC and cloud grants -> admission policy -> one contract per team. Run by
 * the platform team with cloud credentials; team stacks read the contract.
 */
export async function platformProgram(): Promise<Record<string, unknown>> {
  const env = loadPlatform();
  const cluster = await createCluster(env);
  const observability = resolveObservability(env.observability, cluster.cloud, env.production);
  const k8sOpts: pulumi.ComponentResourceOptions = { providers: [cluster.provider] };

  const priorities = new PriorityClasses("priority", k8sOpts);
  const storage = new StorageClass(
    APP_STORAGE,
    {
      name: APP_STORAGE,
      provisioner: cluster.storage.provisioner,
      parameters: cluster.storage.parameters,
      reclaimPolicy: env.platform.reclaimPolicy ?? (env.production ? "Retain" : "Delete"),
      isDefault: cluster.storage.isDefault,
      annotations: cluster.storage.annotations,
    },
    k8sOpts,
  );

  // The registries team pods may pull from: the configured ones, and the mirror this cluster pulls through.
  const allowedRegistries = [
    ...new Set([...env.policy.allowedRegistries, ...(cluster.registry ? [cluster.registry] : [])]),
  ].sort();
  const where = clusterLocation(env, cluster);

  const namespaces: Record<string, pulumi.Output<string>> = {};
  // What the teams' backing services share (a provider, a data key, private services access), made on first use.
  const shared = await servicesShared(env, cluster);
  const contracts: Record<string, pulumi.Output<TeamContract>> = {};
  for (const [teamName, team] of Object.entries(env.teams)) {
    const ns = new TeamNamespace(
      teamName,
      {
        name: teamName,
        podSecurity: team.podSecurity,
        podSecurityVersion: `v${env.cluster.kubernetesVersion}`,
        quota: team.quota,
        limits: team.limits,
        maintainerGroups: team.groups.maintainers,
        viewerGroups: team.groups.viewers,
        protect: env.production,
        monitoring: observability.monitoring,
        // A destroy of the platform while team objects remain deletes each namespace, and what is
        // in it, before the controllers whose finalizers its Ingresses and volumes need.
        finalizerOwners: cluster.finalizerOwners,
      },
      k8sOpts,
    );
    namespaces[teamName] = ns.name;
    const services = teamServices(env, cluster, team.services, {
      team: teamName,
      namespace: ns.name,
      storageClass: storage.name,
      priorityClass: priorities.names.standard,
      k8sOpts: { ...k8sOpts, dependsOn: [ns] },
      shared,
    });
    contracts[teamName] = teamContract(env, cluster, teamName, team, {
      services,
      namespace: ns.name,
      storageClass: storage.name,
      priorities: priorities.names,
      allowedRegistries,
      where,
      observability,
    });
  }

  // Admission in the cluster: team pods must pull allowed, digest-pinned images and meet their Pod Security level.
  const teams = Object.entries(env.teams);
  new AdmissionPolicy(
    "team-pods",
    {
      namespaces: Object.values(namespaces),
      restrictedNamespaces: Object.entries(namespaces)
        .filter(([team]) => env.teams[team].podSecurity === "restricted")
        .map(([, ns]) => ns),
      allowedRegistries,
      podSecurityVersion: env.cluster.kubernetesVersion,
      // A team's namespace is its name (TeamNamespace above).
      ingressHosts: Object.fromEntries(teams.map(([team, t]) => [team, [...t.hosts]])),
      loadBalancerNamespaces: teams.filter(([, t]) => t.quota["services.loadbalancers"] > 0).map(([team]) => team),
      nodePortNamespaces: teams.filter(([, t]) => t.quota["services.nodeports"] > 0).map(([team]) => team),
      grantedEgress: grantedMetadataEgress(cluster.cloudIdentityEgress),
    },
    k8sOpts,
  );

  // Logs, metrics, alerts and dashboards the platform runs for every team (docs/observability.md).
  new PlatformObservability(
    "observability",
    {
      monitoring: observability.monitoring,
      // `monitoring: none` runs no observability stack in the cluster, the log store included.
      logStore: cluster.cloud === "existing" && observability.monitoring !== "none",
      teams: Object.keys(env.teams),
      // Velero's rules where Velero runs (an existing cluster's add-on), and its metrics scraped.
      rules: { velero: cluster.volumeBackups?.kind === "velero", ...observability.rules },
      backupMetrics: cluster.volumeBackups?.metrics,
      metricsDays: observability.metricsDays,
      logsDays: observability.logsDays,
      alerting: observability.alerting,
      podSecurityVersion: `v${env.cluster.kubernetesVersion}`,
      managedControlPlane: cluster.cloud !== "existing",
      protect: env.production,
    },
    k8sOpts,
  );
  // Plain data (names, schedule, retention) for alerting on failed or stale backups; no credential.
  const backups = volumeBackups(env, cluster, shared, Object.keys(env.teams));

  return {
    stack: env.stack,
    volumeBackups: backups,
    // Where this environment is: team stacks report it, and `verify` refuses evidence from elsewhere.
    cluster: where,
    cloud: cluster.cloud,
    clusterName: cluster.name,
    // Never an existing cluster's: that kubeconfig is the platform's own credential, and whoever
    // can read this stack reads its outputs. Teams bring their own (docs/clusters.md).
    kubeconfig: cluster.cloud === "existing" ? null : (cluster.kubeconfig ?? null),
    // What trust policies for app identities are built from (OIDC provider, Workload Identity pool).
    clusterIdentity: cluster.identityOutputs,
    namespaces,
    // Secret as a whole: it carries the kubeconfig (exec authentication, no token).
    contract: pulumi.secret(pulumi.all(contracts)),
  };
}

/**
 * The cluster's identity egress that reaches a metadata range: on GKE, the GKE metadata server,
 * which with Workload Identity answers with the pod's own identity, not the node's
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#metadata_server).
 * The team admission policy allows exactly these blocks and ports.
 */
function grantedMetadataEgress(rules: ClusterHandle["cloudIdentityEgress"]): GrantedEgress[] {
  const out: GrantedEgress[] = [];
  for (const r of rules as {
    to?: { ipBlock?: { cidr?: unknown; except?: unknown } }[];
    ports?: { port?: unknown; protocol?: unknown }[];
  }[]) {
    for (const p of r.to ?? []) {
      const cidr = p.ipBlock?.cidr;
      if (typeof cidr !== "string" || !cidr.startsWith("169.254.") || p.ipBlock?.except !== undefined) continue;
      out.push({
        cidr,
        ports: (r.ports ?? []).map((q) => ({ port: Number(q.port), protocol: q.protocol === "UDP" ? "UDP" : "TCP" })),
      });
    }
  }
  return out;
}

/** `<cloud>/<region, project/region or context>/<cluster name>`: the same string for every stack of the environment. */
function clusterLocation(env: PlatformConfig, cluster: ClusterHandle): string {
  const c = env.cluster;
  const place =
    c.cloud === "aws"
      ? c.aws?.region
      : c.cloud === "gcp"
        ? `${c.gcp?.project}/${c.gcp?.region}`
        : (c.existing?.context ?? "blueprint:kubeconfig");
  return `${cluster.cloud}/${place}/${clusterName(env)}`;
}

/** A DNS label naming one host's platform resources: its first label and a short hash of the whole name (unique, at most 40 characters). */
export function hostResourceName(host: string): string {
  const hash = createHash("sha256").update(host).digest("hex").slice(0, 8);
  return `${host.split(".")[0].slice(0, 30).replace(/-+$/, "")}-${hash}`;
}

interface TeamParts {
  /** The team's backing services, as the contract names them. */
  readonly services: Readonly<Record<string, pulumi.Output<TeamContract["services"][string]>>>;
  readonly namespace: pulumi.Output<string>;
  readonly storageClass: pulumi.Output<string>;
  readonly priorities: Readonly<Record<"critical" | "standard" | "low", pulumi.Output<string>>>;
  readonly allowedRegistries: readonly string[];
  readonly where: string;
  readonly observability: ResolvedObservability;
}

/**
 * What one team's stack needs from the platform, and the cloud things made for it here: the
 * certificate (and address) of each host it may serve, and the Workload Identity grants of each
 * identity it may bind.
 */
function teamContract(
  env: PlatformConfig,
  cluster: ClusterHandle,
  teamName: string,
  team: TeamConfig,
  parts: TeamParts,
): pulumi.Output<TeamContract> {
  const hosts = Object.fromEntries(
    team.hosts.map((host) => {
      const made = cluster.ingress.host({ name: hostResourceName(host), namespace: parts.namespace, host });
      return [
        host,
        pulumi
          .output(made.annotations)
          .apply((annotations) => ({ annotations: { ...annotations } as Record<string, string>, tls: made.tls })),
      ];
    }),
  );
  const identities = Object.fromEntries(
    Object.entries(team.identities).map(([name, id]) => {
      const annotations = id.serviceAccounts.map((serviceAccount) =>
        cluster.bindWorkloadIdentity({ namespace: teamName, serviceAccount, cloudIdentity: id.cloudIdentity }),
      );
      return [
        name,
        pulumi.output(annotations[0] ?? {}).apply((a) => ({
          annotations: { ...a } as Record<string, string>,
          serviceAccounts: [...id.serviceAccounts],
          egress: JSON.parse(
            JSON.stringify(cluster.cloudIdentityEgress),
          ) as TeamContract["identities"][string]["egress"],
        })),
      ];
    }),
  );
  // An existing cluster's kubeconfig is the platform's own credential: its teams reach the cluster
  // with theirs (the context, or their ambient default), never through the contract.
  const kubeconfig: pulumi.Output<string | null> =
    cluster.cloud !== "existing" && cluster.kubeconfig ? cluster.kubeconfig : pulumi.output(null);
  const where = pulumi.all([kubeconfig, cluster.name, cluster.clusterIdentifier, parts.namespace, parts.storageClass]);
  const teamGroups = [...new Set([...team.groups.maintainers, ...team.groups.viewers])];
  const access = pulumi.all(
    Object.fromEntries(
      teamGroups
        .filter((g) => cluster.groupAccess[g] !== undefined)
        .map((g) => [g, pulumi.output(cluster.groupAccess[g])]),
    ),
  );
  const classes = pulumi.all([parts.priorities.critical, parts.priorities.standard, parts.priorities.low]);
  const grants = pulumi.all([pulumi.all(hosts), pulumi.all(identities), access, pulumi.all(parts.services)]);
  return pulumi
    .all([where, classes, grants])
    .apply(
      ([
        [kube, name, clusterIdentifier, namespace, storageClass],
        [critical, standard, low],
        [hostSpecs, identitySpecs, groupAccess, serviceSpecs],
      ]): TeamContract => ({
        version: CONTRACT_VERSION,
        platformStack: env.stack,
        environment: env.environment,
        production: env.production,
        cloud: cluster.cloud,
        cluster: { identity: parts.where, name: name },
        kubeconfig: kube,
        context: cluster.context ?? null,
        clusterIdentifier,
        namespace,
        podSecurity: team.podSecurity,
        kubernetesVersion: env.cluster.kubernetesVersion,
        quota: team.quota,
        limits: team.limits,
        // Team volumes default to the platform's class; the cluster's own default (an existing
        // cluster keeps it) is not offered, so volumes land on a class the platform chose.
        storageClasses: { names: [storageClass], default: storageClass },
        priorityClasses: { critical, standard, low },
        ingress: {
          className: cluster.ingress.className ?? null,
          annotations: { ...cluster.ingress.annotations },
          allowFrom: JSON.parse(JSON.stringify(cluster.ingress.allowFrom)) as Record<string, unknown>[],
          serviceAnnotations: { ...cluster.ingress.serviceAnnotations },
          healthCheck: cluster.ingress.healthCheck ? { ...cluster.ingress.healthCheck } : null,
          hosts: hostSpecs,
        },
        registry: { mirrors: { ...cluster.mirrors } },
        allowedRegistries: [...parts.allowedRegistries],
        identities: identitySpecs,
        customTimeouts: { ...env.platform.customTimeouts },
        monitoring: parts.observability.monitoring,
        services: serviceSpecs,
        access: { groups: { ...groupAccess } as Record<string, string> },
      }),
    );
}
