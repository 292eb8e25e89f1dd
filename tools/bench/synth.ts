import { createHash } from "node:crypto";
import type { StackConfig } from "../../lib/project";
import { CONTRACT_VERSION, type TeamContract } from "../../config/contract";
import { limitRangeSchema, quotaSchema } from "../../config/schema";
import { platformStackName as stackPlatformName } from "../../lib/stacks";

/**
 * Synthetic environments for the benchmark: N apps in teams of {@link TEAM_SIZE}, every app with
 * plain config, a workload, a Service, a PDB and an HPA. The same description feeds our program
 * (as stack config) and the reference renderings (bare SDK, cdk8s, kustomize).
 */

/** Apps per team. */
export const TEAM_SIZE = 10;
/** Config namespace of the project. */
export const NAMESPACE = "blueprint";
/** Kubernetes minor version of the synthetic cluster. */
export const KUBERNETES_VERSION = "1.36";
/** Release id of every synthetic environment (it becomes the `app.kubernetes.io/version` label). */
export const RELEASE_ID = "bench-1";

/** One synthetic app, in the shape both our config and the references start from. */
export interface SyntheticApp {
  readonly name: string;
  readonly team: string;
  /** Repository without digest (what a kustomize base holds). */
  readonly repository: string;
  /** `sha256:<64 hex>`, derived from the name so every run is identical. */
  readonly digest: string;
  readonly port: number;
  readonly config: Readonly<Record<string, string>>;
  readonly autoscaling: { readonly minReplicas: number; readonly maxReplicas: number };
  readonly resources: {
    readonly requests: Readonly<Record<"cpu" | "memory" | "ephemeral-storage", string>>;
    readonly limits: Readonly<Record<"cpu" | "memory" | "ephemeral-storage", string>>;
  };
}

/** One synthetic team (a namespace). */
export interface SyntheticTeam {
  readonly name: string;
  readonly maintainers: readonly string[];
  readonly viewers: readonly string[];
  /** ResourceQuota values the team sets (the rest are the component's defaults). */
  readonly quota: Readonly<Record<string, string | number>>;
}

/** A whole synthetic environment. */
export interface SyntheticEnvironment {
  readonly stack: string;
  readonly teams: readonly SyntheticTeam[];
  readonly apps: readonly SyntheticApp[];
}

/** Zero-padded index, wide enough for the largest size we run. */
function pad(i: number, width: number): string {
  return String(i).padStart(width, "0");
}

/** A deterministic digest for a name. */
export function fakeDigest(name: string): string {
  return `sha256:${createHash("sha256").update(name).digest("hex")}`;
}

/** The environment with `apps` apps; the last team has fewer than ten when `apps` is not a multiple of ten. */
export function syntheticEnvironment(apps: number): SyntheticEnvironment {
  if (!Number.isInteger(apps) || apps < 1) throw new Error(`bench: app count must be a positive integer, got ${apps}`);
  const teamCount = Math.ceil(apps / TEAM_SIZE);
  const teams: SyntheticTeam[] = [];
  for (let t = 1; t <= teamCount; t++) {
    const name = `team-${pad(t, 4)}`;
    teams.push({
      name,
      maintainers: [`${name}-developers`],
      viewers: [`${name}-support`],
      // Room for ten apps at maximum scale plus surge (10 x (4 + 1) pods).
      quota: {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "12",
        "limits.memory": "16Gi",
        "requests.ephemeral-storage": "20Gi",
        "limits.ephemeral-storage": "40Gi",
        pods: 60,
        services: 20,
      },
    });
  }
  const list: SyntheticApp[] = [];
  for (let i = 1; i <= apps; i++) {
    const name = `app-${pad(i, 5)}`;
    const team = teams[Math.floor((i - 1) / TEAM_SIZE)].name;
    list.push({
      name,
      team,
      repository: `registry.example.com/${team}/${name}`,
      digest: fakeDigest(name),
      port: 8080,
      config: { APP_NAME: name, LOG_LEVEL: "info", UPSTREAM_URL: `http://upstream.${team}.svc.cluster.local` },
      autoscaling: { minReplicas: 2, maxReplicas: 4 },
      resources: {
        requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "128Mi" },
        limits: { cpu: "200m", memory: "128Mi", "ephemeral-storage": "256Mi" },
      },
    });
  }
  return { stack: `bench-${apps}`, teams, apps: list };
}

/** A config map as Pulumi hands it to a program: `blueprint:<key>` (or `<ns>:<key>`) -> text or JSON. */
function configOf(file: string, values: Record<string, unknown>): StackConfig {
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const key = k.includes(":") ? k : `${NAMESPACE}:${k}`;
    config[key] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { file, config, secretKeys: [], placeholders: [] };
}

/** Registry of the synthetic images: what the platform's admission policy must allow. */
export const REGISTRY = "registry.example.com";

/** The platform stack of an environment: `<stack>.platform`. */
export function platformStackName(env: SyntheticEnvironment): string {
  return stackPlatformName(env.stack);
}

/**
 * The environment as its layered stacks, as Pulumi would hand each to the program (the shape
 * `readStackConfig` returns): the platform stack `<stack>.platform` with every team's namespace,
 * and one team stack `<stack>.<team>` per team with its apps and its own release.
 */
export function toLayeredStacks(env: SyntheticEnvironment): Map<string, StackConfig> {
  const teams: Record<string, unknown> = {};
  for (const t of env.teams)
    teams[t.name] = { groups: { maintainers: [...t.maintainers], viewers: [...t.viewers] }, quota: { ...t.quota } };
  const out = new Map<string, StackConfig>();
  const platform = platformStackName(env);
  out.set(
    platform,
    configOf(`stacks/Pulumi.${platform}.yaml`, {
      "pulumi:disable-default-providers": ["kubernetes"],
      layer: "platform",
      cluster: { cloud: "existing", kubernetesVersion: KUBERNETES_VERSION, existing: { context: "bench" } },
      production: false,
      policy: { allowedRegistries: [REGISTRY] },
      // The bench measures the platform's guardrails and the teams' apps, not an in-cluster monitoring and log stack,
      // nor volume backups.
      observability: { monitoring: "none" },
      platform: { volumeBackups: { objectStore: { type: "none" } } },
      teams,
    }),
  );
  for (const t of env.teams) {
    const images: Record<string, string> = {};
    const apps: Record<string, unknown> = {};
    for (const a of env.apps.filter((x) => x.team === t.name)) {
      images[a.name] = `${a.repository}@${a.digest}`;
      apps[a.name] = appConfig(a);
    }
    const stack = `${env.stack}.${t.name}`;
    out.set(
      stack,
      configOf(`stacks/Pulumi.${stack}.yaml`, {
        "pulumi:disable-default-providers": ["kubernetes"],
        layer: "team",
        team: t.name,
        production: false,
        release: { id: RELEASE_ID, images },
        apps,
      }),
    );
  }
  return out;
}

function appConfig(a: SyntheticApp): Record<string, unknown> {
  return {
    image: a.name,
    port: a.port,
    autoscaling: { ...a.autoscaling },
    resources: { requests: { ...a.resources.requests }, limits: { ...a.resources.limits } },
    config: { ...a.config },
    probes: { readiness: { path: "/readyz" }, liveness: { path: "/healthz" } },
  };
}

/**
 * The environment as one stack in the shape the program took before the layers (every team and
 * app in one stack file, apps naming their team): what the bench renders with the previous
 * version of the program, for the comparison with the layered render.
 */
export function toSingleStackConfig(env: SyntheticEnvironment): StackConfig {
  const teams: Record<string, unknown> = {};
  for (const t of env.teams)
    teams[t.name] = { groups: { maintainers: [...t.maintainers], viewers: [...t.viewers] }, quota: { ...t.quota } };
  const images: Record<string, string> = {};
  const apps: Record<string, unknown> = {};
  for (const a of env.apps) {
    images[a.name] = `${a.repository}@${a.digest}`;
    apps[a.name] = { team: a.team, ...appConfig(a) };
  }
  return configOf(`stacks/Pulumi.${env.stack}.yaml`, {
    "pulumi:disable-default-providers": ["kubernetes"],
    cluster: { cloud: "existing", kubernetesVersion: KUBERNETES_VERSION, existing: { context: "bench" } },
    production: false,
    release: { id: RELEASE_ID, images },
    teams,
    apps,
  });
}

/**
 * The contract the platform of a synthetic environment exports for one team (what a team stack
 * validates its config against), as plain data: it needs no platform run.
 */
export function syntheticContract(env: SyntheticEnvironment, team: string): TeamContract {
  const t = env.teams.find((x) => x.name === team);
  if (!t) throw new Error(`bench: no team ${team}`);
  return {
    version: CONTRACT_VERSION,
    platformStack: platformStackName(env),
    environment: env.stack,
    production: false,
    cloud: "existing",
    cluster: { identity: `existing/bench/blueprint-${env.stack}`, name: `blueprint-${env.stack}` },
    kubeconfig: null,
    context: "bench",
    clusterIdentifier: `blueprint-${env.stack}`,
    namespace: team,
    podSecurity: "restricted",
    kubernetesVersion: KUBERNETES_VERSION,
    quota: quotaSchema.parse(t.quota),
    limits: limitRangeSchema.parse({}),
    storageClasses: { names: ["app-storage"], default: "app-storage" },
    priorityClasses: { critical: "blueprint-critical", standard: "blueprint-standard", low: "blueprint-low" },
    ingress: {
      className: "nginx",
      annotations: {},
      allowFrom: [],
      serviceAnnotations: {},
      healthCheck: null,
      hosts: {},
    },
    registry: { mirrors: {} },
    allowedRegistries: [REGISTRY],
    identities: {},
    customTimeouts: {},
    monitoring: "none",
    services: {},
  };
}

/** A stack config as a `Pulumi.<stack>.yaml` document (for running the real render command). */
export function toStackFile(cfg: StackConfig): string {
  const lines = ["config:"];
  for (const [k, v] of Object.entries(cfg.config)) lines.push(`  ${k}: ${/^[[{]/.test(v) ? v : JSON.stringify(v)}`);
  return `${lines.join("\n")}\n`;
}
