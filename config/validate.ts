import type { ConfigProblem } from "../lib/errors";
import { effectiveResources, peakPods, replicaRange, resolveIntOrPercent } from "./derive";
import { isPinned, parsePinnedImage } from "../lib/images";
import { formatQuantity, parseQuantity, type Quantity } from "../lib/quantity";
import { DNS_LABEL, type PlatformStackSchema, type TeamScope, type TeamStackSchema } from "./schema";
import { groupResourceName, MAX_CONFIG_BYTES, MAX_CONFIG_KEY } from "../lib/names";
import { egressProblems, validateCluster, type ClusterRuleContext } from "./cluster-rules";
import type { TeamContract } from "./contract";
import { isAllowedImage } from "../lib/registries";
import { pullReferenceFor } from "../lib/mirrors";
import { looksLikeCredential } from "../lib/credentials";
import { appObservabilityProblems, observabilityProblems } from "./observability";
import { bindingProblems, serviceProblems, type ServiceEnvironment } from "./services";
import { backupStoreProblems } from "./backups";
import { PRODUCTION_MIN_BACKUP_DAYS } from "../lib/services";
import { isSystemIdentity, reservedNamespaceProblem } from "../lib/namespaces";

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

/** A platform stack whose parts may have failed the schema: those are left out (cluster) or empty. */
export type PartialPlatform = Omit<PlatformStackSchema, "cluster" | "layer"> & {
  readonly cluster?: PlatformStackSchema["cluster"];
  /** `platform.volumeBackups.objectStore` is in the stack file but failed the schema (already reported). */
  readonly objectStoreUnreadable?: boolean;
};
/** A team stack whose parts may have failed the schema: those are empty. */
export type PartialTeam = Omit<TeamStackSchema, "layer">;

/** Names that exist in the raw config even when their entries failed the schema. */
export interface KnownNames {
  readonly images: ReadonlySet<string>;
}

/** A team name that is not a namespace of its own: `<env>.platform` is the platform's stack. */
export const RESERVED_TEAM_NAMES = new Set(["platform"]);

/**
 * Cross-field rules of a platform stack that a schema cannot express. Returns every problem
 * found; an empty list means the platform can be deployed.
 */
export function validatePlatform(env: PartialPlatform): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key: `blueprint:${key}`, message });
  if (env.cluster) problems.push(...validateCluster(env.cluster, clusterContext(env)));
  if (env.cluster?.cloud === "existing" && env.cluster.existing && !env.cluster.existing.context && !env.kubeconfig) {
    add(
      "kubeconfig",
      "is required when blueprint:cluster.existing has no context: set it with `pulumi config set --secret kubeconfig < kubeconfig.yaml`",
    );
  }
  const hostOwner = new Map<string, string>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    if (!DNS_LABEL.test(teamName) || teamName.length > 63) {
      add(`teams.${teamName}`, "team name is the namespace name: it must be a DNS label of at most 63 characters");
    } else if (RESERVED_TEAM_NAMES.has(teamName)) {
      add(
        `teams.${teamName}`,
        `"${teamName}" cannot be a team name: the stack <env>.${teamName} is the platform's own`,
      );
    } else {
      const reserved = reservedNamespaceProblem(teamName, env.cluster);
      if (reserved)
        add(`teams.${teamName}`, `cannot be a team name: the team's name is its namespace, and ${reserved}`);
    }
    for (const role of ["maintainers", "viewers"] as const) {
      for (const g of team.groups[role]) {
        if (isSystemIdentity(g)) {
          add(
            `teams.${teamName}.groups.${role}`,
            `"${g}" is a Kubernetes system identity (names starting with "system:" are granted by Kubernetes itself, e.g. system:authenticated to every signed-in user): name the identity provider's group of the team`,
          );
        }
      }
    }
    checkLimitRange(teamName, team, add);
    for (const host of team.hosts) {
      const owner = hostOwner.get(host);
      if (owner !== undefined && owner !== teamName)
        add(`teams.${teamName}.hosts`, `"${host}" is already a host of team "${owner}": a host is served by one team`);
      else hostOwner.set(host, teamName);
    }
  }
  checkGroupCollisions(env, problems);
  problems.push(
    ...observabilityProblems(env.observability, env.cluster?.cloud, env.production, Object.keys(env.teams)),
  );
  checkServiceAccountJoins(env, problems);
  problems.push(...serviceProblems(serviceEnvironment(env)));
  if (!env.objectStoreUnreadable)
    problems.push(
      ...backupStoreProblems({
        cloud: env.cluster?.cloud,
        production: env.production,
        objectStore: env.platform.volumeBackups.objectStore,
        hasCredentials: env.backupStoreCredentials !== undefined,
      }),
    );
  if (env.production && env.platform.volumeBackups.retentionDays < PRODUCTION_MIN_BACKUP_DAYS) {
    add(
      "platform.volumeBackups.retentionDays",
      `must be at least ${PRODUCTION_MIN_BACKUP_DAYS} in a production environment, got ${env.platform.volumeBackups.retentionDays}`,
    );
  }
  return problems;
}

/** What the backing-service rules need from a platform stack. */
export function serviceEnvironment(env: PartialPlatform): ServiceEnvironment {
  const mirror = env.cluster?.aws?.registryMirror?.upstream ?? env.cluster?.gcp?.registryMirror?.upstream;
  return {
    cloud: env.cluster?.cloud,
    awsRegion: env.cluster?.aws?.region,
    production: env.production,
    teams: env.teams,
    // A mirror's registry joins the allow-list by itself (layers/platform.ts), so what it mirrors is allowed.
    allowedRegistries: [...env.policy.allowedRegistries, ...(mirror ? [mirror] : [])],
    mirrors: {},
    externalUrls: Object.fromEntries(Object.entries(env.serviceUrls).map(([team, urls]) => [team, Object.keys(urls)])),
  };
}

/**
 * Each identity binding is one ServiceAccount of one team namespace, and on GKE one IAM binding
 * whose resource name joins the two (`<cluster>-wi-<team>-<serviceAccount>`). A ServiceAccount
 * bound to two identities would carry two conflicting annotations, and two pairs that join to the
 * same text (team `shop` with `api-x`, team `shop-api` with `x`) would be two resources of one
 * name: both are refused here, before any resource.
 */
function checkServiceAccountJoins(env: PartialPlatform, problems: ConfigProblem[]): void {
  const joined = new Map<string, string>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const [idName, id] of Object.entries(team.identities)) {
      const key = `blueprint:teams.${teamName}.identities.${idName}.serviceAccounts`;
      for (const sa of id.serviceAccounts) {
        const join = `${teamName}-${sa}`;
        const first = joined.get(join);
        const where = `teams.${teamName}.identities.${idName} ServiceAccount "${sa}"`;
        if (first === undefined) joined.set(join, where);
        else if (first.startsWith(`teams.${teamName}.identities.`) && first.endsWith(` ServiceAccount "${sa}"`)) {
          problems.push({
            key,
            message: `"${sa}" is already bound by ${first}: a ServiceAccount carries one cloud identity`,
          });
        } else {
          problems.push({
            key,
            message: `"${sa}" of team "${teamName}" and ${first} join to the same name "${join}" (the identity binding's resource name): rename one of the ServiceAccounts`,
          });
        }
      }
    }
  }
}

/** What the cluster rules need from a platform stack: production, groups, identities and hosts, each with its key. */
export function clusterContext(env: Pick<PartialPlatform, "production" | "teams">): ClusterRuleContext {
  const identities: [string, string][] = [];
  const hosts: [string, string][] = [];
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const [name, id] of Object.entries(team.identities))
      identities.push([`blueprint:teams.${teamName}.identities.${name}.cloudIdentity`, id.cloudIdentity]);
    for (const host of team.hosts) hosts.push([`blueprint:teams.${teamName}.hosts`, host]);
  }
  return { production: env.production, teams: env.teams, identities, hosts };
}

/**
 * Cross-field rules of a team stack: its own (apps, volumes, secrets, release) and, once the
 * platform's contract is read, those that cross the layers (quota and limits, hosts, identities,
 * storage classes, registries, production). Returns every problem found.
 */
export function validateTeamStack(
  env: PartialTeam,
  contract: TeamContract | undefined,
  platformStack: string,
  names?: KnownNames,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key: `blueprint:${key}`, message });
  const imageNames = names?.images ?? new Set(Object.keys(env.release.images));
  const where = `the platform stack "${platformStack}"`;

  for (const [name, ref] of Object.entries(env.release.images)) {
    const parsed = parsePinnedImage(ref);
    if (!isPinned(parsed)) add(`release.images.${name}`, parsed.error);
    if (!DNS_LABEL.test(name))
      add(`release.images.${name}`, "image name must be a DNS label (lowercase letters, digits, '-')");
    else if (contract && isPinned(parsed)) {
      const pulled = pullReferenceFor(ref, contract.registry.mirrors);
      if (!isAllowedImage(pulled, contract.allowedRegistries)) {
        add(
          `release.images.${name}`,
          `is pulled as ${pulled}, which the cluster's admission policy refuses: ${where} allows ${list(contract.allowedRegistries)} (its blueprint:policy.allowedRegistries)`,
        );
      }
    }
  }
  problems.push(...egressProblems(env.apps));
  problems.push(...bindingProblems(env.apps, contract?.services, where));

  if (contract) {
    if (contract.production !== env.production) {
      add(
        "production",
        `must equal the platform's: ${where} has blueprint:production ${contract.production}, this stack ${env.production}`,
      );
    }
  }
  const team: TeamScope | undefined = contract && {
    quota: contract.quota,
    limits: contract.limits,
    volumes: env.volumes,
  };
  for (const [volName, vol] of Object.entries(env.volumes)) {
    const key = `volumes.${volName}`;
    if (!DNS_LABEL.test(volName) || volName.length > 63)
      add(key, "volume name must be a DNS label of at most 63 characters");
    if (!team || !contract) continue;
    const size = q(vol.size);
    if (size < q(team.limits.pvcMin) || size > q(team.limits.pvcMax)) {
      add(
        `${key}.size`,
        `must be between the team's limits.pvcMin (${team.limits.pvcMin}) and limits.pvcMax (${team.limits.pvcMax}) set in ${where}, got ${vol.size}`,
      );
    }
    if (vol.storageClass !== undefined && !contract.storageClasses.names.includes(vol.storageClass)) {
      add(
        `${key}.storageClass`,
        `names a StorageClass ${where} does not offer (offered: ${list(contract.storageClasses.names)}), got "${vol.storageClass}"`,
      );
    }
  }

  const hosts = new Map<string, { path: string; app: string }[]>();
  const jobAccounts = new Map(
    Object.entries(env.apps)
      .filter(([, a]) => a.releaseJob)
      .map(([n]) => [`${n}-admin`, n]),
  );
  for (const [appName, app] of Object.entries(env.apps)) {
    const key = `apps.${appName}`;
    // Each app's ServiceAccount is named after it, its release Job's `<app>-admin`.
    const jobOf = jobAccounts.get(appName);
    if (jobOf !== undefined)
      add(
        key,
        `app name "${appName}" is also the ServiceAccount of app "${jobOf}"'s release Job (<app>-admin): two ServiceAccounts of one name; rename the app`,
      );
    if (appName === "default")
      add(
        key,
        `app name "default" is the namespace's own ServiceAccount, which Kubernetes creates in every namespace; rename the app`,
      );
    if (!DNS_LABEL.test(appName) || appName.length > MAX_APP_NAME) {
      add(
        key,
        `app name must be a DNS-1035 label of at most ${MAX_APP_NAME} characters (auto-named ConfigMaps and Secrets add up to 16), got "${appName}"`,
      );
    }
    if (!imageNames.has(app.image)) {
      add(
        `${key}.image`,
        `names an image that is not in blueprint:release.images (known: ${list([...imageNames])}), got "${app.image}"`,
      );
    }
    if (contract && app.identity !== undefined) {
      const id = contract.identities[app.identity];
      if (!id)
        add(
          `${key}.identity`,
          `names an identity ${where} does not let the team bind (identities: ${list(Object.keys(contract.identities))}), got "${app.identity}"`,
        );
      else {
        const accounts = [appName, ...(app.releaseJob ? [`${appName}-admin`] : [])].filter(
          (sa) => !id.serviceAccounts.includes(sa),
        );
        if (accounts.length)
          add(
            `${key}.identity`,
            `"${app.identity}" may be bound by the ServiceAccounts ${list(id.serviceAccounts)} in ${where}, not by ${list(accounts)}`,
          );
      }
    }
    problems.push(...appObservabilityProblems(key, app, contract?.monitoring));
    if (app.replicas !== undefined && app.autoscaling) {
      add(key, "set either replicas or autoscaling, not both (an HPA owns the replica count)");
    }
    if (app.autoscaling && app.autoscaling.minReplicas >= app.autoscaling.maxReplicas) {
      add(
        `${key}.autoscaling`,
        `minReplicas (${app.autoscaling.minReplicas}) must be below maxReplicas (${app.autoscaling.maxReplicas}); for a fixed count use replicas instead`,
      );
    }
    const { min, max } = replicaRange(app);
    if (env.production && min < 2) {
      add(
        `${key}.${app.autoscaling ? "autoscaling.minReplicas" : "replicas"}`,
        `must be at least 2 in a production environment (blueprint:production is true), got ${min}`,
      );
    }
    const surge = resolveIntOrPercent(app.rollingUpdate.maxSurge, max, true);
    const unavailable = resolveIntOrPercent(app.rollingUpdate.maxUnavailable, max, false);
    if (surge === 0 && unavailable === 0) {
      add(`${key}.rollingUpdate`, "maxSurge and maxUnavailable cannot both be 0: the rollout could never progress");
    }
    if (app.preStopSeconds >= app.terminationGracePeriodSeconds) {
      add(
        `${key}.preStopSeconds`,
        `must be less than terminationGracePeriodSeconds (${app.terminationGracePeriodSeconds}) so the app has time to drain after the pause, got ${app.preStopSeconds}`,
      );
    }
    const { readiness, liveness } = app.probes;
    if (readiness.path === liveness.path && (readiness.port ?? app.port) === (liveness.port ?? app.port)) {
      add(
        `${key}.probes.liveness`,
        `must differ from the readiness probe (a failing dependency would restart every pod), both are ${liveness.path}`,
      );
    }

    let configBytes = 0;
    for (const [k, v] of Object.entries(app.config)) {
      configBytes += Buffer.byteLength(v);
      if (PRIVATE_KEY_VALUE.test(v)) add(`${key}.config.${k}`, "holds a private key: move it to blueprint:secrets");
      if (k.length > MAX_CONFIG_KEY)
        add(
          `${key}.config.${k.slice(0, 40)}...`,
          `is ${k.length} characters long: ConfigMap keys have at most ${MAX_CONFIG_KEY}`,
        );
      else if (!ENV_NAME.test(k))
        add(`${key}.config.${k}`, "must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      else if (looksLikeCredential(k)) {
        add(
          `${key}.config.${k}`,
          `looks like a credential: declare it in apps.${appName}.secrets and set it with \`pulumi config set --secret --path 'secrets.${appName}.${k}' <value>\``,
        );
      }
    }
    if (configBytes > MAX_CONFIG_BYTES) {
      add(
        `${key}.config`,
        `adds up to ${configBytes} bytes: a ConfigMap holds at most ${MAX_CONFIG_BYTES} (1 MiB); move large content into the image or a volume`,
      );
    }
    const declared = new Set(app.secrets);
    for (const s of app.secrets) {
      if (s.length > MAX_CONFIG_KEY)
        add(
          `${key}.secrets`,
          `"${s.slice(0, 40)}..." is ${s.length} characters long: Secret keys have at most ${MAX_CONFIG_KEY}`,
        );
      else if (!ENV_NAME.test(s))
        add(`${key}.secrets`, `"${s}" must be a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)`);
      if (s in app.config)
        add(`${key}.secrets`, `"${s}" is also a plain config key; a variable is either config or secret`);
      if (env.secrets[appName]?.[s] === undefined) {
        add(
          `secrets.${appName}.${s}`,
          `has no value: set it with \`pulumi config set --secret --path 'secrets.${appName}.${s}' <value>\``,
        );
      }
    }
    let secretBytes = 0;
    for (const [s, v] of Object.entries(env.secrets[appName] ?? {})) {
      secretBytes += Buffer.byteLength(v);
      if (!declared.has(s))
        add(`secrets.${appName}.${s}`, `is not declared in apps.${appName}.secrets (declared: ${list(app.secrets)})`);
    }
    // The values are not shown: they are secrets.
    if (secretBytes > MAX_CONFIG_BYTES)
      add(
        `secrets.${appName}`,
        `values add up to ${secretBytes} bytes: a Secret holds at most ${MAX_CONFIG_BYTES} (1 MiB)`,
      );

    if (app.ingress) {
      const { host, path } = app.ingress;
      const bad =
        INGRESS_PATH_SEQUENCES.find((q) => path.includes(q)) ?? INGRESS_PATH_SUFFIXES.find((q) => path.endsWith(q));
      if (bad)
        add(
          `${key}.ingress.path`,
          `must not contain "${bad}" (the Kubernetes API refuses such Prefix paths), got "${path}"`,
        );
      else if (INGRESS_PATH_NEVER.test(path))
        add(
          `${key}.ingress.path`,
          `must not contain whitespace, "?" or "#" (they are never part of a request path), got ${JSON.stringify(path)}`,
        );
      const routes = hosts.get(host) ?? [];
      for (const other of routes) {
        if (other.path === path) add(`${key}.ingress.host`, `${host}${path} is already routed to app "${other.app}"`);
        else if (prefixOverlaps(other.path, path)) {
          add(
            `${key}.ingress.path`,
            `${host}${path} overlaps ${host}${other.path} of app "${other.app}" (Prefix paths match whole path elements, so one app's requests would reach the other); give the apps different hosts or disjoint paths`,
          );
        }
      }
      routes.push({ path, app: appName });
      hosts.set(host, routes);
      if (contract && !Object.hasOwn(contract.ingress.hosts, host)) {
        add(
          `${key}.ingress.host`,
          `"${host}" is not a host ${where} lets the team serve (hosts: ${list(Object.keys(contract.ingress.hosts))}); add it to blueprint:teams.${contract.namespace}.hosts there`,
        );
      }
    }

    if (!team) continue;
    const res = effectiveResources(app, team);
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      const req = q(res.requests[r]);
      const lim = q(res.limits[r]);
      if (req > lim)
        add(`${key}.resources.requests.${r}`, `must not exceed the limit (${res.limits[r]}), got ${res.requests[r]}`);
      const max = team.limits.max[r];
      if (max !== undefined && lim > q(max)) {
        add(
          `${key}.resources.limits.${r}`,
          `must not exceed the team's limits.max.${r} (${max}) set in ${where}, got ${res.limits[r]}`,
        );
      }
      const ratio = r === "ephemeral-storage" ? undefined : team.limits.maxLimitRequestRatio[r];
      if (ratio !== undefined && req > 0 && lim / req > q(ratio)) {
        add(
          `${key}.resources.limits.${r}`,
          `is more than ${ratio}x the request (the team's limits.maxLimitRequestRatio.${r} set in ${where}): ${res.limits[r]} / ${res.requests[r]}`,
        );
      }
    }
    if (q(app.tmpSize) > q(res.limits["ephemeral-storage"])) {
      add(
        `${key}.tmpSize`,
        `must fit in the container's ephemeral-storage limit (${res.limits["ephemeral-storage"]}), got ${app.tmpSize}`,
      );
    }
    for (const [vol, path] of Object.entries(app.volumeMounts)) {
      const v = team.volumes[vol];
      if (!v) {
        add(
          `${key}.volumeMounts.${vol}`,
          `names a volume that is not in blueprint:volumes (known: ${list(Object.keys(team.volumes))})`,
        );
      } else if ((v.accessMode === "ReadWriteOnce" || v.accessMode === "ReadWriteOncePod") && max > 1) {
        add(
          `${key}.volumeMounts.${vol}`,
          `volume is ${v.accessMode} but the app runs up to ${max} replicas on different nodes; use ReadWriteMany or one replica`,
        );
      }
      if (path === "/tmp")
        add(`${key}.volumeMounts.${vol}`, "/tmp is the app's own emptyDir; choose another mount path");
    }
  }

  if (team && contract) checkQuota(env, team, contract.namespace, where, add, contract.services);
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
function checkGroupCollisions(env: PartialPlatform, problems: ConfigProblem[]): void {
  const normalise = env.cluster?.cloud === "aws" ? groupResourceName : (g: string) => g.toLowerCase();
  const seen = new Map<string, string>();
  for (const [teamName, team] of Object.entries(env.teams)) {
    for (const role of ["maintainers", "viewers"] as const) {
      for (const group of team.groups[role]) {
        const norm = normalise(group);
        const first = seen.get(norm);
        if (first === undefined) seen.set(norm, group);
        else if (first !== group) {
          problems.push({
            key: `blueprint:teams.${teamName}.groups.${role}`,
            message: `"${group}" and "${first}" would become the same cloud identity (${env.cluster?.cloud === "aws" ? `IAM role and access entry "${norm}"` : "group names are compared without case"}); spell the group the same way everywhere`,
          });
        }
      }
    }
  }
}

function checkLimitRange(
  teamName: string,
  team: PlatformStackSchema["teams"][string],
  add: (k: string, m: string) => void,
): void {
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
function checkQuota(
  env: PartialTeam,
  team: TeamScope,
  teamName: string,
  where: string,
  add: (k: string, m: string) => void,
  services: TeamContract["services"] = {},
): void {
  const need = { pods: 0, services: 0, cpuReq: 0, memReq: 0, ephReq: 0, cpuLim: 0, memLim: 0, ephLim: 0 };
  // In-cluster backing services run in the namespace too, under the same quota.
  let pvcs = 0;
  let storage = 0;
  for (const f of Object.values(services).map((s) => s.footprint)) {
    if (!f) continue;
    need.pods += f.pods;
    need.services += f.services;
    need.cpuReq += q(f.requests.cpu ?? 0);
    need.memReq += q(f.requests.memory ?? 0);
    need.ephReq += q(f.requests["ephemeral-storage"] ?? 0);
    need.cpuLim += q(f.limits.cpu ?? 0);
    need.memLim += q(f.limits.memory ?? 0);
    need.ephLim += q(f.limits["ephemeral-storage"] ?? 0);
    pvcs += f.persistentvolumeclaims;
    storage += q(f.storage);
  }
  for (const app of Object.values(env.apps)) {
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
    ["persistentvolumeclaims", vols.length + pvcs, quota.persistentvolumeclaims, "count"],
    ["requests.storage", vols.reduce((s, v) => s + q(v.size), storage), quota["requests.storage"], "bytes"],
  ];
  for (const [res, needed, hard, kind] of checks) {
    // Tolerate float rounding of decimal quantities (e.g. 0.1 cpu x 3).
    if (needed > q(hard) * (1 + 1e-9)) {
      const key = res === "persistentvolumeclaims" || res === "requests.storage" ? "volumes" : "apps";
      add(
        key,
        `need ${formatQuantity(needed, kind)} of ${res} at maximum scale plus rollout surge, but the team's quota is ${hard} (blueprint:teams.${teamName}.quota.${res} of ${where}): scale the apps down or have the platform raise the quota`,
      );
    }
  }
}

function q(v: Quantity): number {
  return parseQuantity(v) ?? 0;
}

function list(items: readonly string[]): string {
  return items.length ? items.join(", ") : "none";
}
