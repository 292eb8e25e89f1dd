import type * as k8s from "@pulumi/kubernetes";
import type { LimitRangeSpec, QuotaSpec } from "../lib/defaults";
import { observabilityDefaults, type MonitoringFlavour } from "../lib/observability";
import { BACKING_SERVICE_LABEL } from "../lib/services";

/**
 * The specs of a team namespace's guardrails, as plain data: `TeamNamespace` registers them, and
 * the benchmark's references render the same objects from here without loading the SDK.
 */

const RW = ["get", "list", "watch", "create", "update", "patch", "delete"];
const RO = ["get", "list", "watch"];

/** API groups and resources a team maintainer manages; never `pods/exec`, `pods/attach` or wildcards. */
export const MAINTAINER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
  { apiGroups: ["apps"], resources: ["deployments", "deployments/scale", "replicasets", "statefulsets"], verbs: RW },
  {
    apiGroups: [""],
    resources: ["configmaps", "secrets", "services", "persistentvolumeclaims", "serviceaccounts"],
    verbs: RW,
  },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/log", "events", "endpoints"], verbs: RO },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: RW },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: RW },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: RW },
  // NetworkPolicies are additive: a team stack adds one per app that needs egress beyond its
  // namespace (AppEgressPolicy), which it registers with the team's own kube access.
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"], verbs: RW },
];

/** Read-only view of the same objects, without Secrets. */
export const VIEWER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
  { apiGroups: ["apps"], resources: ["deployments", "replicasets", "statefulsets"], verbs: RO },
  {
    apiGroups: [""],
    resources: ["configmaps", "services", "persistentvolumeclaims", "pods", "pods/log", "events", "endpoints"],
    verbs: RO,
  },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: RO },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: RO },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: RO },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses", "networkpolicies"], verbs: RO },
];

/**
 * The monitor and rule kinds a team manages for its apps' `metrics` and `slo`, per monitoring
 * flavour: exactly those, in its own namespace (the Role is namespaced). Never Prometheus,
 * Alertmanager or their configs, and never GMP's cluster-scoped ClusterRules or GlobalRules.
 */
export const MONITORING_RULES: Readonly<Record<MonitoringFlavour, k8s.types.input.rbac.v1.PolicyRule[]>> = {
  "prometheus-operator": [
    { apiGroups: ["monitoring.coreos.com"], resources: ["servicemonitors", "prometheusrules"], verbs: RW },
  ],
  gmp: [{ apiGroups: ["monitoring.googleapis.com"], resources: ["podmonitorings", "rules"], verbs: RW }],
  none: [],
};

/** The maintainer Role's rules on a cluster with this monitoring flavour. */
export function maintainerRules(monitoring: MonitoringFlavour): k8s.types.input.rbac.v1.PolicyRule[] {
  return [...MAINTAINER_RULES, ...MONITORING_RULES[monitoring]];
}

/** The viewer Role's rules on a cluster with this monitoring flavour: the same kinds, read-only. */
export function viewerRules(monitoring: MonitoringFlavour): k8s.types.input.rbac.v1.PolicyRule[] {
  return [...VIEWER_RULES, ...MONITORING_RULES[monitoring].map((r) => ({ ...r, verbs: RO }))];
}

/**
 * Admits the flavour's scraper (Prometheus in the monitoring namespace, or Managed Prometheus's
 * collectors in gmp-system) to the container ports named `metrics` only; undefined for `none`.
 */
export function scrapePolicy(
  monitoring: MonitoringFlavour,
): k8s.types.input.networking.v1.NetworkPolicySpec | undefined {
  const from =
    monitoring === "prometheus-operator"
      ? {
          namespaceSelector: {
            matchLabels: { "kubernetes.io/metadata.name": observabilityDefaults.monitoringNamespace },
          },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
        }
      : monitoring === "gmp"
        ? {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": observabilityDefaults.gmpNamespace } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "collector" } },
          }
        : undefined;
  if (!from) return undefined;
  return {
    podSelector: {},
    policyTypes: ["Ingress"],
    ingress: [{ from: [from], ports: [{ protocol: "TCP", port: "metrics" }] }],
  };
}

/** Denies all ingress and egress of every pod in the namespace. */
export const DEFAULT_DENY_POLICY: k8s.types.input.networking.v1.NetworkPolicySpec = {
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
};

/**
 * Allows traffic between the namespace's pods, and DNS to kube-dns. Backing-service pods (an
 * in-cluster database or cache) are left out: their own policy admits only the pods bound to them,
 * and NetworkPolicies add up, so this rule must not admit everyone to them.
 */
export const ALLOW_NAMESPACE_AND_DNS_POLICY: k8s.types.input.networking.v1.NetworkPolicySpec = {
  podSelector: { matchExpressions: [{ key: BACKING_SERVICE_LABEL, operator: "DoesNotExist" }] },
  policyTypes: ["Ingress", "Egress"],
  ingress: [{ from: [{ podSelector: {} }] }],
  egress: [
    { to: [{ podSelector: {} }] },
    {
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
  ],
};

/** ResourceQuota `spec.hard` as strings. */
export function quotaHard(quota: QuotaSpec): Record<string, string> {
  return Object.fromEntries(Object.entries(quota).map(([k, v]) => [k, String(v)]));
}

/** LimitRange `spec.limits`: container defaults and bounds, and PVC size bounds. */
export function limitRangeItems(limits: LimitRangeSpec): k8s.types.input.core.v1.LimitRangeItem[] {
  return [
    {
      type: "Container",
      default: quantities(limits.default),
      defaultRequest: quantities(limits.defaultRequest),
      max: quantities(limits.max),
      maxLimitRequestRatio: quantities(limits.maxLimitRequestRatio),
    },
    { type: "PersistentVolumeClaim", min: { storage: String(limits.pvcMin) }, max: { storage: String(limits.pvcMax) } },
  ];
}

function quantities(set: Readonly<Record<string, string | number | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(set)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
