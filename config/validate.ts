import type { ConfigProblem } from "./errors";
import { effectiveResources, peakPods, replicaRange, resolveIntOrPercent } from "./derive";
import { isPinned, parsePinnedImage } from "./images";
import { formatQuantity, parseQuantity, type Quantity } from "./quantity";
import { DNS_LABEL, type EnvironmentSchema } from "./schema";
import { groupResourceName, MAX_CONFIG_BYTES, MAX_CONFIG_KEY } from "./names";
import { validateCluster } from "./cluster-rules";
import { looksLikeCredential } from "../components/app-config";

/** Longest app name: auto-named children append `-secret-` plus an 8-character suffix, and must stay within 63. */
export const MAX_APP_NAME = 63 - "-secret-".length - 8;
/** Environment variable names as POSIX shells accept them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * What the API refuses in an Ingress path of type Prefix or Exact (invalidPathSequences and
 * invalidPathSuffixes, kubernetes/pkg/apis/networking/validation/validation.go). Whitespace, `?`
 * and `#` are refused too: they are never part of a request path, so such a rule matches nothing.
 */
const INGRESS_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INGRESS_PATH_SUFFIXES = ["/..", "/."];
const INGRESS_PATH_NEVER = /[\s?#]/;
/** A PEM private key pasted into plain config. */
const PRIVATE_KEY_VALUE = /-BEGIN\s+.*PRIVATE KEY-/i;

/** An environment whose parts may have failed the schema: those are left out (cluster) or empty. */
export type PartialEnvironment = Omit<EnvironmentSchema, "cluster"> & { readonly cluster?: EnvironmentSchema["cluster"] };

/** Names that exist in the raw config even when their entries failed the schema. */
export interface KnownNames {
  readonly teams: ReadonlySet<string>;
  readonly images: ReadonlySet<string>;
}

/**
 * Cross-field rules that a schema cannot express. Runs on schema-valid config and returns every
 * problem found; an empty list means the environment can be deployed.
 */
export function validateEnvironment(env: PartialEnvironment, names?: KnownNames): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key: `blueprint:${key}`, message });
  const teamNames = names?.teams ?? new Set(Object.keys(env.teams));
  const imageNames = names?.images ?? new Set(Object.keys(env.release.images));

  if (env.cluster) problems.push(...validateCluster(env.cluster, { production: env.production, teams: env.teams, apps: env.apps }));
  if (env.cluster?.cloud === "existing" && env.cluster.existing && !env.cluster.existing.context && !env.kubeconfig) {
    add("kubeconfig", "is required when blueprint:cluster.existing has no context: set it with `pulumi config set --secret kubeconfig < kubeconfig.yaml`");
  }

  for (const [name, ref] of Object.entries(env.release.images)) {
    const parsed = parsePinnedImage(ref);
    if (!isPinned(parsed)) add(`release.images.${name}`, parsed.error);
    if (!DNS_LABEL.test(name)) add(`release.images.${name}`, "image name must be a DNS label (lowercase letters, digits, '-')");
  }

  // index.ts names each volume's Pulumi resource `<team>-<volume>`: team "a-b" with volume "c" and
  // team "a" with volume "b-c" would register the same URN, which `pulumi up` refuses.
  const volumeResources = new Map<string, string>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const volName of Object.keys(team.volumes)) {
      const other = volumeResources.get(`${teamName}-${volName}`);
      if (other) add(`teams.${teamName}.volumes.${volName}`, `shares its resource name "${teamName}-${volName}" with ${other}; rename one of the volumes`);
      else volumeResources.set(`${teamName}-${volName}`, `teams.${teamName}.volumes.${volName}`);
    }
  }
  for (const [teamName, team] of Object.entries(env.teams)) {
    if (!DNS_LABEL.test(teamName) || teamName.length > 63) {
      add(`teams.${teamName}`, "team name is the namespace name: it must be a DNS label of at most 63 characters");
    }
    for (const [volName, vol] of Object.entries(team.volumes)) {
      const key = `teams.${teamName}.volumes.${volName}`;
      if (!DNS_LABEL.test(volName) || volName.length > 63) add(key, "volume name must be a DNS label of at most 63 characters");
      const size = q(vol.size);
      if (size < q(team.limits.pvcMin) || size > q(team.limits.pvcMax)) {
        add(`${key}.size`, `must be between the team's limits.pvcMin (${team.limits.pvcMin}) and limits.pvcMax (${team.limits.pvcMax}), got ${vol.size}`);
      }
    }
    checkLimitRange(teamName, team, add);
  }

  const hosts = new Map<string, { path: string; app: string }[]>();
  for (const [appName, app] of Object.entries(env.apps)) {
    const key = `apps.${appName}`;
    if (!DNS_LABEL.test(appName) || appName.length > MAX_APP_NAME) {
      add(key, `app name must be a DNS-1035 label of at most ${MAX_APP_NAME} characters (auto-named ConfigMaps and Secrets add up to 16), got "${appName}"`);
    }
    if (!imageNames.has(app.image)) {
      add(`${key}.image`, `names an image that is not in blueprint:release.images (known: ${list([...imageNames])}), got "${app.image}"`);
    }
    const team = env.teams[app.team];
    if (!teamNames.has(app.team)) {
      add(`${key}.team`, `names a team that is not in blueprint:teams (known: ${list([...teamNames])}), got "${app.team}"`);
    }
    if (app.replicas !== undefined && app.autoscaling) {
      add(key, "set either replicas or autoscaling, not both (an HPA owns the replica count)");
    }
    if (app.autoscaling && app.autoscaling.minReplicas >= app.autoscaling.maxReplicas) {
      add(`${key}.autoscaling`, `minReplicas (${app.autoscaling.minReplicas}) must be below maxReplicas (${app.autoscaling.maxReplicas}); for a fixed count use replicas instead`);
    }
    const { min, max } = replicaRange(app);
    if (env.production && min < 2) {
      add(`${key}.${app.autoscaling ? "autoscaling.minReplicas" : "replicas"}`, `must be at least 2 in a production environment (blueprint:production is true), got ${min}`);
    }
    const surge = resolveIntOrPercent(app.rollingUpdate.maxSurge, max, true);
    const unavailable = resolveIntOrPercent(app.rollingUpdate.maxUnavailable, max, false);
    if (surge === 0 && unavailable === 0) {
      add(`${key}.rollingUpdate`, "maxSurge and maxUnavailable cannot both be 0: the rollout could never progress");
    }
    if (app.preStopSeconds >= app.terminationGracePeriodSeconds) {
      add(`${key}.preStopSeconds`, `must be less than terminationGracePeriodSeconds (${app.terminationGracePeriodSeconds}) so the app has time to drain after the pause, got ${app.preStopSeconds}`);
    }
    const { readiness, liveness } = app.probes;
    if (readiness.path === liveness.path && (readiness.port ?? app.port) === (liveness.port ?? app.port)) {
      add(`${key}.probes.liveness`, `must differ from the readiness probe (a failing dependency would restart every pod), both are ${liveness.path}`);
    }

    let configBytes = 0;
    for (const [k, v] of Object.entries(app.config)) {
      configBytes += Buffer.byteLength(v);
      if (PRIVATE_KEY_VALUE.test(v)) add(`${key}.config.${k}`, "holds a private key: move it to blueprint:secrets");
      if (k.length > MAX_CONFIG_KEY) add(`${key}.config.${k.slice(0, 40)}...`, `is ${k.length} characters long: ConfigMap keys have at most ${MAX_CONFIG_KEY}`);
      else if (!ENV_NAME.test(k)) add(`${key}.config.${k}`, "must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      else if (looksLikeCredential(k)) {
        add(`${key}.config.${k}`, `looks like a credential: declare it in apps.${appName}.secrets and set it with \`pulumi config set --secret --path 'secrets.${appName}.${k}' <value>\``);
      }
    }
    if (configBytes > MAX_CONFIG_BYTES) {
      add(`${key}.config`, `adds up to ${configBytes} bytes: a ConfigMap holds at most ${MAX_CONFIG_BYTES} (1 MiB); move large content into the image or a volume`);
    }
    const declared = new Set(app.secrets);
    for (const s of app.secrets) {
      if (s.length > MAX_CONFIG_KEY) add(`${key}.secrets`, `"${s.slice(0, 40)}..." is ${s.length} characters long: Secret keys have at most ${MAX_CONFIG_KEY}`);
      else if (!ENV_NAME.test(s)) add(`${key}.secrets`, `"${s}" must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)`);
      if (s in app.config) add(`${key}.secrets`, `"${s}" is also a plain config key; a variable is either config or secret`);
      if (env.secrets[appName]?.[s] === undefined) {
        add(`secrets.${appName}.${s}`, `has no value: set it with \`pulumi config set --secret --path 'secrets.${appName}.${s}' <value>\``);
      }
    }
    let secretBytes = 0;
    for (const [s, v] of Object.entries(env.secrets[appName] ?? {})) {
      secretBytes += Buffer.byteLength(v);
      if (!declared.has(s)) add(`secrets.${appName}.${s}`, `is not declared in apps.${appName}.secrets (declared: ${list(app.secrets)})`);
    }
    // The values are not shown: they are secrets.
    if (secretBytes > MAX_CONFIG_BYTES) add(`secrets.${appName}`, `values add up to ${secretBytes} bytes: a Secret holds at most ${MAX_CONFIG_BYTES} (1 MiB)`);

    if (app.ingress) {
      const { host, path } = app.ingress;
      const bad = INGRESS_PATH_SEQUENCES.find((q) => path.includes(q)) ?? INGRESS_PATH_SUFFIXES.find((q) => path.endsWith(q));
      if (bad) add(`${key}.ingress.path`, `must not contain "${bad}" (the Kubernetes API refuses such Prefix paths), got "${path}"`);
      else if (INGRESS_PATH_NEVER.test(path)) add(`${key}.ingress.path`, `must not contain whitespace, "?" or "#" (they are never part of a request path), got ${JSON.stringify(path)}`);
      const routes = hosts.get(host) ?? [];
      for (const other of routes) {
        if (other.path === path) add(`${key}.ingress.host`, `${host}${path} is already routed to app "${other.app}"`);
        else if (prefixOverlaps(other.path, path)) {
          add(`${key}.ingress.path`, `${host}${path} overlaps ${host}${other.path} of app "${other.app}" (Prefix paths match whole path elements, so one app's requests would reach the other); give the apps different hosts or disjoint paths`);
        }
      }
      routes.push({ path, app: appName });
      hosts.set(host, routes);
    }

    if (!team) continue;
    const res = effectiveResources(app, team);
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      const req = q(res.requests[r]);
      const lim = q(res.limits[r]);
      if (req > lim) add(`${key}.resources.requests.${r}`, `must not exceed the limit (${res.limits[r]}), got ${res.requests[r]}`);
      const max = team.limits.max[r];
      if (max !== undefined && lim > q(max)) {
        add(`${key}.resources.limits.${r}`, `must not exceed the team's limits.max.${r} (${max}), got ${res.limits[r]}`);
      }
      const ratio = r === "ephemeral-storage" ? undefined : team.limits.maxLimitRequestRatio[r];
      if (ratio !== undefined && req > 0 && lim / req > q(ratio)) {
        add(`${key}.resources.limits.${r}`, `is more than ${ratio}x the request (the team's limits.maxLimitRequestRatio.${r}): ${res.limits[r]} / ${res.requests[r]}`);
      }
    }
    if (q(app.tmpSize) > q(res.limits["ephemeral-storage"])) {
      add(`${key}.tmpSize`, `must fit in the container's ephemeral-storage limit (${res.limits["ephemeral-storage"]}), got ${app.tmpSize}`);
    }
    for (const [vol, path] of Object.entries(app.volumeMounts)) {
      const v = team.volumes[vol];
      if (!v) {
        add(`${key}.volumeMounts.${vol}`, `names a volume that is not in teams.${app.team}.volumes (known: ${list(Object.keys(team.volumes))})`);
      } else if ((v.accessMode === "ReadWriteOnce" || v.accessMode === "ReadWriteOncePod") && max > 1) {
        add(`${key}.volumeMounts.${vol}`, `volume is ${v.accessMode} but the app runs up to ${max} replicas on different nodes; use ReadWriteMany or one replica`);
      }
      if (path === "/tmp") add(`${key}.volumeMounts.${vol}`, "/tmp is the app's own emptyDir; choose another mount path");
    }
  }

  checkQuotas(env, add);
  checkGroupCollisions(env, problems);
  return problems;
}

/** Is one Prefix path a path-element prefix of the other (`/api` and `/api/v1`, or `/` and anything)? */
function prefixOverlaps(a: string, b: string): boolean {
  const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/, "") : p);
  const [x, y] = [trim(a), trim(b)];
  const covers = (p: string, q: string) => p === "/" || q === p || q.startsWith(`${p}/`);
  return covers(x, y) || covers(y, x);
}

/**
 * Identity-provider groups that differ only by case (or, on EKS, by characters the role name
 * drops) become the same IAM role and access entry: IAM role names are unique regardless of case
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html), and Google groups
 * are email addresses, which are case-insensitive. Two teams naming the "same" group differently
 * would share, or fight over, one identity.
 */
function checkGroupCollisions(env: PartialEnvironment, problems: ConfigProblem[]): void {
  const normalise = env.cluster?.cloud === "aws" ? groupResourceName : (g: string) => g.toLowerCase();
  const seen = new Map<string, string>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const role of ["maintainers", "viewers"] as const) {
      for (const group of team.groups[role]) {
        const norm = normalise(group);
        const first = seen.get(norm);
        if (first === undefined) seen.set(norm, group);
        else if (first !== group) {
          problems.push({ key: `blueprint:teams.${teamName}.groups.${role}`, message: `"${group}" and "${first}" would become the same cloud identity (${env.cluster?.cloud === "aws" ? `IAM role and access entry "${norm}"` : "group names are compared without case"}); spell the group the same way everywhere` });
        }
      }
    }
  }
}

function checkLimitRange(teamName: string, team: EnvironmentSchema["teams"][string], add: (k: string, m: string) => void): void {
  for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
    const req = team.limits.defaultRequest[r];
    const def = team.limits.default[r];
    const max = team.limits.max[r];
    if (req !== undefined && def !== undefined && q(req) > q(def)) {
      add(`teams.${teamName}.limits.defaultRequest.${r}`, `must not exceed limits.default.${r} (${def}), got ${req}`);
    }
    if (def !== undefined && max !== undefined && q(def) > q(max)) {
      add(`teams.${teamName}.limits.default.${r}`, `must not exceed limits.max.${r} (${max}), got ${def}`);
    }
  }
}

/** The namespace quota must admit every app at its maximum scale plus rollout surge, at the same time. */
function checkQuotas(env: PartialEnvironment, add: (k: string, m: string) => void): void {
  const appsByTeam = new Map<string, PartialEnvironment["apps"][string][]>();
  for (const app of Object.values(env.apps)) {
    const list = appsByTeam.get(app.team);
    if (list) list.push(app);
    else appsByTeam.set(app.team, [app]);
  }
  for (const [teamName, team] of Object.entries(env.teams)) {
    const apps = appsByTeam.get(teamName) ?? [];
    const need = { pods: 0, services: 0, cpuReq: 0, memReq: 0, ephReq: 0, cpuLim: 0, memLim: 0, ephLim: 0 };
    for (const app of apps) {
      const pods = peakPods(app, team);
      const r = effectiveResources(app, team);
      need.pods += pods;
      need.services += 1;
      need.cpuReq += pods * q(r.requests.cpu);
      need.memReq += pods * q(r.requests.memory);
      need.ephReq += pods * q(r.requests["ephemeral-storage"]);
      need.cpuLim += pods * q(r.limits.cpu);
      need.memLim += pods * q(r.limits.memory);
      need.ephLim += pods * q(r.limits["ephemeral-storage"]);
    }
    const vols = Object.values(team.volumes);
    const quota = team.quota;
    const checks: [string, number, Quantity, "cpu" | "bytes" | "count"][] = [
      ["pods", need.pods, quota.pods, "count"],
      ["services", need.services, quota.services, "count"],
      ["requests.cpu", need.cpuReq, quota["requests.cpu"], "cpu"],
      ["requests.memory", need.memReq, quota["requests.memory"], "bytes"],
      ["requests.ephemeral-storage", need.ephReq, quota["requests.ephemeral-storage"], "bytes"],
      ["limits.cpu", need.cpuLim, quota["limits.cpu"], "cpu"],
      ["limits.memory", need.memLim, quota["limits.memory"], "bytes"],
      ["limits.ephemeral-storage", need.ephLim, quota["limits.ephemeral-storage"], "bytes"],
      ["persistentvolumeclaims", vols.length, quota.persistentvolumeclaims, "count"],
      ["requests.storage", vols.reduce((s, v) => s + q(v.size), 0), quota["requests.storage"], "bytes"],
    ];
    for (const [res, needed, hard, kind] of checks) {
      // Tolerate float rounding of decimal quantities (e.g. 0.1 cpu x 3).
      if (needed > q(hard) * (1 + 1e-9)) {
        add(`teams.${teamName}.quota.${res}`, `is too small for the team's apps at maximum scale plus rollout surge: needs ${formatQuantity(needed, kind)}, quota is ${hard}`);
      }
    }
  }
}

function q(v: Quantity): number {
  return parseQuantity(v) ?? 0;
}

function list(items: readonly string[]): string {
  return items.length ? items.join(", ") : "none";
}
