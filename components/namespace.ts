import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "../lib/labels";
import { dataProtection } from "./protection";
import { teamNamespaceDefaults, type LimitRangeSpec, type QuotaSpec } from "../lib/defaults";
import { PLATFORM_OWNED_LABEL } from "./admission-rules";
import {
  ALLOW_NAMESPACE_AND_DNS_POLICY,
  DEFAULT_DENY_POLICY,
  limitRangeItems,
  maintainerRules,
  quotaHard,
  scrapePolicy,
  viewerRules,
} from "./guardrails";
import type { MonitoringFlavour } from "../lib/observability";

export { teamNamespaceDefaults, type LimitRangeSpec, type QuotaSpec };

/** A namespace for one team, with guardrails. */
export interface TeamNamespaceArgs {
  /** Kubernetes name; must be a DNS-1123 label. */
  readonly name: string;
  /** Pod Security Standard enforced, audited and warned on. @default "restricted" */
  readonly podSecurity?: "restricted" | "baseline";
  /** Pod Security Standard version, e.g. `v1.33`. @default "latest" */
  readonly podSecurityVersion?: string;
  /** Hard limits for the whole namespace. Defaults suit a small team. */
  readonly quota?: QuotaSpec;
  /** Per-container defaults and bounds, and PVC size bounds. */
  readonly limits?: LimitRangeSpec;
  /** Identity-provider groups bound to the namespace's `team-maintainer` Role. */
  readonly maintainerGroups?: readonly string[];
  /** Identity-provider groups bound to the namespace's read-only `team-viewer` Role. */
  readonly viewerGroups?: readonly string[];
  /** Protect the Namespace from deletion (`protect` + `retainOnDelete`). @default false */
  readonly protect?: boolean;
  /**
   * The cluster's monitoring flavour: the team Roles manage its monitor and rule kinds, and a
   * NetworkPolicy admits its scraper to container ports named `metrics`. @default "none"
   */
  readonly monitoring?: MonitoringFlavour;
  /**
   * Controllers whose finalizers the namespace's objects need (an ingress controller, a CSI
   * driver). The Namespace depends on them: created after them and, on destroy, deleted with
   * everything in it while they still run, so their finalizers complete and no cloud resource leaks.
   */
  readonly finalizerOwners?: readonly pulumi.Resource[];
}

/**
 * A team Namespace with Pod Security Admission labels, ResourceQuota, LimitRange, a default-deny
 * NetworkPolicy that still allows DNS and traffic inside the namespace, and RoleBindings of the
 * team's groups to Roles defined here (no built-in ClusterRoles).
 */
export class TeamNamespace extends pulumi.ComponentResource {
  /** The namespace name, available once the Namespace exists. */
  public readonly name: pulumi.Output<string>;
  /** Whether the Namespace was registered with `protect`/`retainOnDelete`. */
  public readonly protected: boolean;

  constructor(name: string, args: TeamNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:TeamNamespace", name, {}, opts);
    const parent = { parent: this };
    const podSecurity = args.podSecurity ?? teamNamespaceDefaults.podSecurity;
    const version = args.podSecurityVersion ?? teamNamespaceDefaults.podSecurityVersion;
    const labels = { "app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/part-of": args.name };
    this.protected = args.protect ?? false;

    const ns = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.name,
          labels: {
            ...labels,
            "pod-security.kubernetes.io/enforce": podSecurity,
            "pod-security.kubernetes.io/enforce-version": version,
            // Audit and warn at `restricted` even when enforcing `baseline`, so drift is visible.
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": version,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": version,
          },
        },
      },
      { ...parent, ...dataProtection(this.protected), dependsOn: [...(args.finalizerOwners ?? [])] },
    );
    this.name = ns.metadata.name;
    // The platform's objects inside the namespace carry the label the guardrail admission policy selects.
    const meta = (n: string) => ({
      name: n,
      namespace: this.name,
      labels: { ...labels, [PLATFORM_OWNED_LABEL.key]: PLATFORM_OWNED_LABEL.value },
    });
    const child = { parent: this, dependsOn: [ns] };

    const quota = { ...teamNamespaceDefaults.quota, ...args.quota };
    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: meta("team-quota"),
        spec: { hard: quotaHard(quota) },
      },
      child,
    );

    const limits = args.limits ?? teamNamespaceDefaults.limits;
    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: meta("team-limits"),
        spec: { limits: limitRangeItems(limits) },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: meta("default-deny"),
        spec: DEFAULT_DENY_POLICY,
      },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-namespace-and-dns`,
      {
        metadata: meta("allow-namespace-and-dns"),
        spec: ALLOW_NAMESPACE_AND_DNS_POLICY,
      },
      child,
    );

    const bind = (role: string, rules: k8s.types.input.rbac.v1.PolicyRule[], groups: readonly string[] | undefined) => {
      const r = new k8s.rbac.v1.Role(`${name}-${role}`, { metadata: meta(role), rules }, child);
      if (!groups || groups.length === 0) return;
      new k8s.rbac.v1.RoleBinding(
        `${name}-${role}s`,
        {
          metadata: meta(`${role}s`),
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: r.metadata.name },
          subjects: groups.map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g })),
        },
        child,
      );
    };
    const monitoring = args.monitoring ?? "none";
    const scrape = scrapePolicy(monitoring);
    if (scrape)
      new k8s.networking.v1.NetworkPolicy(
        `${name}-allow-metrics-scrape`,
        { metadata: meta("allow-metrics-scrape"), spec: scrape },
        child,
      );
    bind("team-maintainer", maintainerRules(monitoring), args.maintainerGroups);
    bind("team-viewer", viewerRules(monitoring), args.viewerGroups);

    this.registerOutputs({ name: this.name });
  }
}
