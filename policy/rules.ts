import { isPinned, parsePinnedImage } from "../lib/images";
import { isAllowedImage } from "../lib/registries";
import { OLDEST_MINOR, RESTRICTED_VOLUME_TYPES, restrictedPodProblems } from "../lib/pod-security";

/**
 * The policy rules, as plain functions of a resource (or of all resources) and the rule's config.
 * `policy/index.ts` hands them to CrossGuard for `pulumi up --policy-pack policy`; `npm run audit`
 * runs the same functions over the offline render. Nothing here imports the Pulumi SDK.
 */

/** One resource as a policy sees it: its Pulumi type token, logical name, inputs and options. */
export interface PolicyResourceView {
  /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  readonly name: string;
  /** The resource's inputs; for Kubernetes objects the manifest (`apiVersion`, `kind`, `metadata`, `spec`). */
  readonly props: Readonly<Record<string, unknown>>;
  /** The `protect` resource option. */
  readonly protect: boolean;
}

/** Settings a rule reads from the policy pack config (`--policy-pack-config`). */
export interface RuleConfig {
  /** Registry prefixes images may come from (`images-from-allowed-registries`). */
  readonly allowedRegistries?: readonly string[];
  /**
   * Images the platform itself runs in its own namespaces, outside the teams' allow-list, each
   * pinned by digest and allowed as written (`images-from-allowed-registries`): the in-cluster
   * MinIO of an existing cluster's volume backups, and the Postgres image of the Job that sets up
   * the users of managed databases (namespace `blueprint-data`), as the cluster pulls them.
   */
  readonly platformImages?: readonly string[];
  /** Namespaces of the platform, where Services may be of type LoadBalancer or NodePort. */
  readonly platformNamespaces?: readonly string[];
  /** The Kubernetes minor Pod Security is pinned to (`pod-security-restricted`), e.g. "1.34". */
  readonly podSecurityVersion?: string;
}

/** Records one violation; `resource` names the offending resource in a stack rule. */
export type Report = (message: string, resource?: PolicyResourceView) => void;

interface RuleBase {
  /** Policy name, unique in the pack; also the key of its entry in a pack config file. */
  readonly name: string;
  readonly description: string;
  /** Rules that apply only to production environments are disabled elsewhere. */
  readonly productionOnly: boolean;
  /** Config properties the rule reads, as a JSON schema (CrossGuard `configSchema.properties`). */
  readonly configProperties?: Readonly<
    Record<string, { type: "array"; items: { type: "string" } } | { type: "string" }>
  >;
}

/** A rule that looks at one resource at a time. */
export interface ResourceRule extends RuleBase {
  readonly validateResource: (resource: PolicyResourceView, config: RuleConfig, report: Report) => void;
}

/** A rule that looks at every resource of the stack together (e.g. a Deployment and its PDB). */
export interface StackRule extends RuleBase {
  readonly validateStack: (resources: readonly PolicyResourceView[], config: RuleConfig, report: Report) => void;
}

export type Rule = ResourceRule | StackRule;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** `Deployment` for `kubernetes:apps/v1:Deployment`; undefined for anything not Kubernetes. */
export function kubernetesKind(type: string): string | undefined {
  const m = /^kubernetes:[^:]+:([A-Za-z]+)$/.exec(type);
  return m?.[1];
}

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a Pod or of a workload's pod template; undefined for other resources. */
export function podSpecOf(resource: PolicyResourceView): Obj | undefined {
  const path = POD_SPEC_PATH[kubernetesKind(resource.type) ?? ""];
  if (!path) return undefined;
  let cur: unknown = resource.props;
  for (const key of path) cur = obj(cur)[key];
  return obj(cur);
}

/** Every container of a pod spec: init, regular and ephemeral. */
export function containersOf(spec: Obj): Obj[] {
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)];
}

function label(resource: PolicyResourceView): string {
  const meta = obj(resource.props.metadata);
  const id =
    typeof meta.name === "string"
      ? typeof meta.namespace === "string"
        ? `${meta.namespace}/${meta.name}`
        : meta.name
      : resource.name;
  return `${kubernetesKind(resource.type) ?? resource.type} ${id}`;
}

/** A resource rule that looks at every container of every pod spec. */
function forEachContainer(
  resource: PolicyResourceView,
  check: (container: Obj, spec: Obj) => string | undefined,
  report: Report,
): void {
  const spec = podSpecOf(resource);
  if (!spec) return;
  for (const c of containersOf(spec)) {
    const problem = check(c, spec);
    if (problem) report(`${label(resource)}: container "${String(c.name)}" ${problem}`);
  }
}

/** Volume sources Pod Security `restricted` allows. */
export { RESTRICTED_VOLUME_TYPES };

/** Built-in ClusterRoles a team binding must not reference (and every `system:` role). */
export const BUILTIN_CLUSTER_ROLES = ["cluster-admin", "admin", "edit", "view"] as const;

const imagesPinned: ResourceRule = {
  name: "images-pinned-by-digest",
  description:
    "Every container image is pinned by digest (repo@sha256:<64 hex>), never by tag: a tag can move under a deployed release.",
  productionOnly: false,
  validateResource: (r, _config, report) =>
    forEachContainer(
      r,
      (c) => {
        const parsed = parsePinnedImage(String(c.image ?? ""));
        return isPinned(parsed) ? undefined : `image ${parsed.error}`;
      },
      report,
    ),
};

const imagesAllowed: ResourceRule = {
  name: "images-from-allowed-registries",
  description:
    "Every container image comes from a registry on the environment's allow-list (the registry or mirror it pulls from).",
  productionOnly: false,
  configProperties: {
    allowedRegistries: { type: "array", items: { type: "string" } },
    platformImages: { type: "array", items: { type: "string" } },
  },
  validateResource: (r, config, report) => {
    const allowed = config.allowedRegistries;
    const platformImages = new Set(config.platformImages ?? []);
    forEachContainer(
      r,
      (c) => {
        if (!allowed)
          return "cannot be checked: the pack has no allowedRegistries; run it with --policy-pack-config policy/config/<stack>.json";
        const image = String(c.image ?? "");
        return isAllowedImage(image, allowed) || platformImages.has(image)
          ? undefined
          : `image "${image}" is not from an allowed registry (${allowed.join(", ") || "none"})`;
      },
      report,
    );
  },
};

/** The pod template's annotations of a Pod or workload (AppArmor is still read from them). */
function podAnnotationsOf(resource: PolicyResourceView): Obj {
  const path = POD_SPEC_PATH[kubernetesKind(resource.type) ?? ""];
  if (!path) return {};
  let cur: unknown = resource.props;
  for (const key of path.slice(0, -1)) cur = obj(cur)[key];
  return (obj(obj(cur).metadata).annotations as Obj) ?? {};
}

/**
 * Why a pod breaks Pod Security `restricted` at the pinned minor, one reason per check: exactly
 * Pod Security admission's decision (lib/pod-security.ts), as the admission policy's.
 */
export function restrictedProblems(spec: Obj, version = `1.${OLDEST_MINOR}`, annotations: Obj = {}): string[] {
  return restrictedPodProblems(spec, annotations, version);
}

const podSecurity: ResourceRule = {
  name: "pod-security-restricted",
  description:
    "Pods meet Pod Security restricted at the cluster's minor, as Pod Security admission decides it: non-root, no privilege escalation, ALL capabilities dropped, seccomp and AppArmor, restricted volume types, no host access.",
  productionOnly: false,
  configProperties: { podSecurityVersion: { type: "string" } },
  validateResource: (r, config, report) => {
    const spec = podSpecOf(r);
    if (!spec) return;
    for (const p of restrictedProblems(spec, config.podSecurityVersion, podAnnotationsOf(r)))
      report(`${label(r)}: ${p}`);
  },
};

const RESOURCE_NAMES = ["cpu", "memory"] as const;

const resources: ResourceRule = {
  name: "resources-requests-and-limits",
  description:
    "Every container sets cpu and memory requests and limits, so quotas hold and the scheduler places pods honestly.",
  productionOnly: false,
  validateResource: (r, _config, report) =>
    forEachContainer(
      r,
      (c) => {
        const res = obj(c.resources);
        const missing = (["requests", "limits"] as const).flatMap((k) =>
          RESOURCE_NAMES.filter((n) => obj(res[k])[n] === undefined).map((n) => `${k}.${n}`),
        );
        return missing.length ? `does not set resources ${missing.join(", ")}` : undefined;
      },
      report,
    ),
};

const hostAccess: ResourceRule = {
  name: "no-host-access",
  description:
    "No host namespaces (network, PID, IPC), no hostPath volumes, no host ports and no privileged containers.",
  productionOnly: false,
  validateResource: (r, _config, report) => {
    const spec = podSpecOf(r);
    if (!spec) return;
    for (const ns of ["hostNetwork", "hostPID", "hostIPC"])
      if (spec[ns] === true) report(`${label(r)}: uses the host's namespace (${ns}: true)`);
    for (const v of list(spec.volumes))
      if (v.hostPath !== undefined) report(`${label(r)}: volume "${String(v.name)}" mounts a host path`);
    forEachContainer(
      r,
      (c) => {
        if (obj(c.securityContext).privileged === true) return "is privileged";
        const hostPorts = list(c.ports).filter((p) => typeof p.hostPort === "number" && p.hostPort !== 0);
        return hostPorts.length ? `binds host port ${hostPorts.map((p) => String(p.hostPort)).join(", ")}` : undefined;
      },
      report,
    );
  },
};

const serviceTypes: ResourceRule = {
  name: "no-external-service-types",
  description:
    "Services of type LoadBalancer or NodePort only in platform namespaces; apps are exposed through the cluster's Ingress.",
  productionOnly: false,
  configProperties: { platformNamespaces: { type: "array", items: { type: "string" } } },
  validateResource: (r, config, report) => {
    if (kubernetesKind(r.type) !== "Service") return;
    const type = obj(r.props.spec).type;
    const namespace = String(obj(r.props.metadata).namespace ?? "default");
    if ((type === "LoadBalancer" || type === "NodePort") && !(config.platformNamespaces ?? []).includes(namespace)) {
      report(
        `${label(r)}: type ${type} is only allowed in platform namespaces (${(config.platformNamespaces ?? []).join(", ") || "none"}); expose apps through an Ingress`,
      );
    }
  },
};

const builtinRoles: ResourceRule = {
  name: "no-builtin-cluster-role-bindings",
  description:
    "No RoleBinding or ClusterRoleBinding references a built-in ClusterRole (cluster-admin, admin, edit, view, system:*): their rules change with Kubernetes versions.",
  productionOnly: false,
  validateResource: (r, _config, report) => {
    const kind = kubernetesKind(r.type);
    if (kind !== "RoleBinding" && kind !== "ClusterRoleBinding") return;
    const ref = obj(r.props.roleRef);
    const name = String(ref.name ?? "");
    if (
      ref.kind === "ClusterRole" &&
      ((BUILTIN_CLUSTER_ROLES as readonly string[]).includes(name) || name.startsWith("system:"))
    ) {
      report(`${label(r)}: binds the built-in ClusterRole ${name}`);
    }
  },
};

function matches(selector: unknown, labels: unknown): boolean {
  const wanted = obj(obj(selector).matchLabels);
  const have = obj(labels);
  return Object.keys(wanted).length > 0 && Object.entries(wanted).every(([k, v]) => have[k] === v);
}

const namespaceOf = (r: PolicyResourceView): string => String(obj(r.props.metadata).namespace ?? "default");
const nameOf = (r: PolicyResourceView): string => String(obj(r.props.metadata).name ?? r.name);
const ofKind = (all: readonly PolicyResourceView[], kind: string) => all.filter((r) => kubernetesKind(r.type) === kind);

const pdbs: StackRule = {
  name: "production-pod-disruption-budgets",
  description:
    "In production, every Deployment has a PodDisruptionBudget selecting its pods, so node drains keep it serving.",
  productionOnly: true,
  validateStack: (all, _config, report) => {
    const budgets = ofKind(all, "PodDisruptionBudget");
    for (const d of ofKind(all, "Deployment")) {
      const podLabels = obj(obj(obj(obj(d.props.spec).template).metadata).labels);
      const covered = budgets.some(
        (b) => namespaceOf(b) === namespaceOf(d) && matches(obj(b.props.spec).selector, podLabels),
      );
      if (!covered) report(`${label(d)}: no PodDisruptionBudget selects its pods`, d);
    }
  },
};

const replicas: StackRule = {
  name: "production-replicas",
  description: "In production, every Deployment runs at least 2 replicas (or an HPA with minReplicas >= 2 owns them).",
  productionOnly: true,
  validateStack: (all, _config, report) => {
    const hpas = ofKind(all, "HorizontalPodAutoscaler");
    for (const d of ofKind(all, "Deployment")) {
      const hpa = hpas.find((h) => {
        const ref = obj(obj(h.props.spec).scaleTargetRef);
        return namespaceOf(h) === namespaceOf(d) && ref.kind === "Deployment" && ref.name === nameOf(d);
      });
      const count = hpa ? (obj(hpa.props.spec).minReplicas ?? 1) : (obj(d.props.spec).replicas ?? 1);
      if (typeof count !== "number" || count < 2)
        report(
          `${label(d)}: ${hpa ? "its HPA's minReplicas" : "replicas"} is ${String(count)}; production needs at least 2`,
          d,
        );
    }
  },
};

const PROTECTED_KINDS = ["Namespace", "PersistentVolumeClaim"];

const protection: ResourceRule = {
  name: "production-protected-data",
  description:
    "In production, Namespaces and PersistentVolumeClaims are registered with protect, so the engine refuses to delete them.",
  productionOnly: true,
  validateResource: (r, _config, report) => {
    if (PROTECTED_KINDS.includes(kubernetesKind(r.type) ?? "") && !r.protect)
      report(`${label(r)}: is not protected (resource option protect)`);
  },
};

/** Every rule of the pack, in the order they are reported. */
export const RULES: readonly Rule[] = [
  imagesPinned,
  imagesAllowed,
  podSecurity,
  resources,
  hostAccess,
  serviceTypes,
  builtinRoles,
  pdbs,
  replicas,
  protection,
];

export function isStackRule(rule: Rule): rule is StackRule {
  return "validateStack" in rule;
}

/** A violation found by {@link evaluate}. */
export interface Violation {
  readonly rule: string;
  readonly message: string;
}

/** Runs rules over a set of resources, as CrossGuard would; `configFor` gives each rule its config. */
export function evaluate(
  rules: readonly Rule[],
  resources: readonly PolicyResourceView[],
  configFor: (rule: Rule) => RuleConfig = () => ({}),
): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    const report: Report = (message) => out.push({ rule: rule.name, message });
    if (isStackRule(rule)) rule.validateStack(resources, configFor(rule), report);
    else for (const r of resources) rule.validateResource(r, configFor(rule), report);
  }
  return out;
}
