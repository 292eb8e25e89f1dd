import type { K8sObject } from "./program";

/** An RBAC PolicyRule, as plain data. */
export interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * The verbs Pulumi uses on an object it manages: server-side apply is a PATCH (create and update),
 * reads and refreshes are GET, replacements CREATE and DELETE, and the await logic lists and
 * watches (pulumi-kubernetes "await" and "ssa" implementations).
 */
export const MANAGE_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;

/**
 * What Pulumi's await logic reads besides the object itself: a Deployment's ReplicaSets and Pods,
 * a Service's Endpoints, a Job's Pods (pulumi-kubernetes provider/pkg/await).
 */
const AWAIT_READS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  Deployment: [
    ["apps", "replicasets"],
    ["", "pods"],
  ],
  Service: [["", "endpoints"]],
  Job: [["", "pods"]],
  Ingress: [
    ["", "endpoints"],
    ["", "services"],
  ],
};

/** The API group and resource (plural) of a kind, as RBAC names them. */
export function resourceOf(obj: Pick<K8sObject, "apiVersion" | "kind">): { group: string; resource: string } {
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "";
  const lower = obj.kind.toLowerCase();
  // GMP's rule kinds are already plural (Rules, ClusterRules, GlobalRules: resources rules, clusterrules, globalrules).
  if (group === "monitoring.googleapis.com" && lower.endsWith("rules")) return { group, resource: lower };
  const resource = lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
  return { group, resource };
}

function allows(rules: readonly Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some(
    (r) => (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb),
  );
}

/**
 * Why a team's Role (bound in `namespace`) could not manage these objects: each object must be
 * namespaced, in that namespace, and of a kind whose every verb Pulumi uses the Role grants.
 */
export function roleViolations(objects: readonly K8sObject[], namespace: string, rules: readonly Rule[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const id = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
    if (!o.metadata.namespace) {
      out.push(`${id} is cluster-scoped: a team's Role grants nothing outside its namespace`);
      continue;
    }
    if (o.metadata.namespace !== namespace)
      out.push(`${id} is in namespace ${o.metadata.namespace}, not the team's ${namespace}`);
    const { group, resource } = resourceOf(o);
    const missing = MANAGE_VERBS.filter((v) => !allows(rules, group, resource, v));
    if (missing.length)
      out.push(`${id}: the Role does not allow ${missing.join(", ")} on ${group || "core"}/${resource}`);
    for (const [g, r] of AWAIT_READS[o.kind] ?? []) {
      const reads = ["get", "list", "watch"].filter((v) => !allows(rules, g, r, v));
      if (reads.length)
        out.push(
          `${id}: Pulumi awaits it by reading ${g || "core"}/${r}, which the Role does not allow (${reads.join(", ")})`,
        );
    }
  }
  return out;
}

/**
 * Everything a team Role may grant, resource by resource: an allow-list, so a rule the list does
 * not name (`pods/portforward`, `pods/exec`, `impersonate`, `escalate`, `bind`, a wildcard, RBAC
 * objects, `nodes/proxy`, ...) fails the check instead of slipping past a list of known-bad ones.
 * Changing what teams may do means changing this list, in review.
 */
export const TEAM_ROLE_ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "apps/deployments": MANAGE_VERBS,
  "apps/deployments/scale": MANAGE_VERBS,
  "apps/replicasets": MANAGE_VERBS,
  "apps/statefulsets": MANAGE_VERBS,
  "core/configmaps": MANAGE_VERBS,
  "core/secrets": MANAGE_VERBS,
  "core/services": MANAGE_VERBS,
  "core/persistentvolumeclaims": MANAGE_VERBS,
  "core/serviceaccounts": MANAGE_VERBS,
  "core/pods": ["get", "list", "watch", "delete"],
  "core/pods/log": ["get", "list", "watch"],
  "core/events": ["get", "list", "watch"],
  "core/endpoints": ["get", "list", "watch"],
  "batch/jobs": MANAGE_VERBS,
  "batch/cronjobs": MANAGE_VERBS,
  "autoscaling/horizontalpodautoscalers": MANAGE_VERBS,
  "policy/poddisruptionbudgets": MANAGE_VERBS,
  "networking.k8s.io/ingresses": MANAGE_VERBS,
  "networking.k8s.io/networkpolicies": MANAGE_VERBS,
  // The monitor and rule kinds of the cluster's monitoring flavour (docs/observability.md).
  "monitoring.coreos.com/servicemonitors": MANAGE_VERBS,
  "monitoring.coreos.com/prometheusrules": MANAGE_VERBS,
  "monitoring.googleapis.com/podmonitorings": MANAGE_VERBS,
  "monitoring.googleapis.com/rules": MANAGE_VERBS,
};

/** Every grant of `rules` the allow-list does not name, as `<group>/<resource> <verb>`; rules with resourceNames or nonResourceURLs count as grants too. */
export function grantsBeyond(
  rules: readonly (Rule & {
    readonly resourceNames?: readonly string[];
    readonly nonResourceURLs?: readonly string[];
  })[],
  allowed: Readonly<Record<string, readonly string[]>> = TEAM_ROLE_ALLOWED,
): string[] {
  const out: string[] = [];
  for (const r of rules) {
    for (const url of r.nonResourceURLs ?? []) out.push(`nonResourceURL ${url}`);
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs) {
          const key = `${g || "core"}/${res}`;
          if (!(allowed[key] ?? []).includes(v)) out.push(`${key} ${v}`);
        }
      }
    }
  }
  return out;
}
