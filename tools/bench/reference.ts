import { teamNamespaceDefaults } from "../../lib/defaults";
import {
  ALLOW_NAMESPACE_AND_DNS_POLICY,
  DEFAULT_DENY_POLICY,
  limitRangeItems,
  MAINTAINER_RULES,
  quotaHard,
  VIEWER_RULES,
} from "../../components/guardrails";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "../../components/pod-security";
import {
  ALLOWED_REGISTRIES_ANNOTATION,
  GUARDRAIL_POLICY_NAME,
  IMAGE_POLICY_NAME,
  INGRESS_POLICY_NAME,
  NETWORK_POLICY_NAME,
  PLATFORM_OWNED_LABEL,
  platformGuardrailPolicySpec,
  podSecurityPolicySpec,
  POD_SECURITY_POLICY_NAME,
  SERVICE_POLICY_NAME,
  teamBindingSpec,
  teamImagePolicySpec,
  teamIngressPolicySpec,
  teamNetworkPolicySpec,
  teamServicePolicySpec,
} from "../../components/admission-rules";
import { allowedRegistries } from "../../lib/registries";
import {
  KUBERNETES_VERSION,
  RELEASE_ID,
  type SyntheticApp,
  type SyntheticEnvironment,
  type SyntheticTeam,
} from "./synth";

/**
 * The Kubernetes objects our program renders for a synthetic environment, written out by hand as
 * a team without the components would write them. The bare-SDK, cdk8s and kustomize references
 * all start from these builders, so they produce the same objects as our program; the bench
 * checks that (object sets must match, content differences are reported).
 *
 * Defaults and security contexts come from the components' SDK-free modules (`defaults.ts`,
 * `pod-security.ts`), so the cdk8s and kustomize references do not load the Pulumi SDK.
 */

/** A name another object refers to: a string, or whatever a renderer holds it in (an engine output). */
export type Ref = unknown;

/** One object to create: the engine's logical name plus the manifest. */
export interface ObjectSpec {
  /** Logical (Pulumi) name; also the construct id for cdk8s. */
  readonly logicalName: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** The manifest without `apiVersion` and `kind`. */
  readonly body: { metadata: Record<string, unknown> } & Record<string, unknown>;
}

const MANAGED_BY = "pulumi";

function spec(logicalName: string, apiVersion: string, kind: string, body: ObjectSpec["body"]): ObjectSpec {
  return { logicalName, apiVersion, kind, body };
}

/** Cluster-wide objects: the three PriorityClasses and the app StorageClass. */
export function platformObjects(): ObjectSpec[] {
  const labels = { "app.kubernetes.io/managed-by": MANAGED_BY };
  const tiers = [
    ["critical", "blueprint-critical", 100000, "User-facing services that must stay up; may preempt lower tiers."],
    ["standard", "blueprint-standard", 10000, "Default for apps."],
    ["low", "blueprint-low", 1000, "Batch and best-effort work; never preempts others."],
  ] as const;
  return [
    ...tiers.map(([tier, name, value, description]) =>
      spec(`priority-${tier}`, "scheduling.k8s.io/v1", "PriorityClass", {
        metadata: { name, labels },
        value,
        globalDefault: false,
        preemptionPolicy: tier === "low" ? "Never" : "PreemptLowerPriority",
        description,
      }),
    ),
    spec("app-storage", "storage.k8s.io/v1", "StorageClass", {
      metadata: { name: "app-storage", labels },
      provisioner: "rancher.io/local-path",
      parameters: {},
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    }),
  ];
}

/** The admission policies of the team namespaces (all restricted here) and their bindings. */
export function admissionObjects(env: SyntheticEnvironment): ObjectSpec[] {
  const allowed = allowedRegistries(env.apps.map((a) => `${a.repository}@${a.digest}`));
  const labels = { "app.kubernetes.io/managed-by": MANAGED_BY };
  const teams = env.teams.map((t) => t.name);
  const pair = (
    suffix: string,
    name: string,
    body: object,
    annotations?: Record<string, string>,
    objectLabels?: Record<string, string>,
  ): ObjectSpec[] => [
    spec(`team-pods-${suffix}`, "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", {
      metadata: { name, labels, ...(annotations ? { annotations } : {}) },
      spec: body,
    }),
    spec(`team-pods-${suffix}`, "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", {
      metadata: { name, labels },
      spec: teamBindingSpec(name, teams, objectLabels),
    }),
  ];
  // The synthetic teams serve no hosts and have no LoadBalancer or NodePort quota.
  return [
    ...pair("images", IMAGE_POLICY_NAME, teamImagePolicySpec(allowed), {
      [ALLOWED_REGISTRIES_ANNOTATION]: allowed.join(","),
    }),
    ...pair("pod-security", POD_SECURITY_POLICY_NAME, podSecurityPolicySpec()),
    ...pair("network-policies", NETWORK_POLICY_NAME, teamNetworkPolicySpec([])),
    ...pair("services", SERVICE_POLICY_NAME, teamServicePolicySpec([], [])),
    ...pair("ingresses", INGRESS_POLICY_NAME, teamIngressPolicySpec(Object.fromEntries(teams.map((t) => [t, []])))),
    ...pair("guardrails", GUARDRAIL_POLICY_NAME, platformGuardrailPolicySpec(), undefined, {
      [PLATFORM_OWNED_LABEL.key]: PLATFORM_OWNED_LABEL.value,
    }),
  ];
}

/** A team's Namespace (created first: the others refer to its name). */
export function namespaceObject(team: SyntheticTeam): ObjectSpec {
  const version = `v${KUBERNETES_VERSION}`;
  return spec(team.name, "v1", "Namespace", {
    metadata: {
      name: team.name,
      labels: {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": team.name,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
      },
    },
  });
}

/** The team's guardrails inside its namespace `ns`. */
export function teamObjects(team: SyntheticTeam, ns: Ref): ObjectSpec[] {
  const labels = { "app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/part-of": team.name };
  const meta = (name: string) => ({ name, namespace: ns, labels });
  const hard = quotaHard({ ...teamNamespaceDefaults.quota, ...team.quota });
  const binding = (role: string, groups: readonly string[]) =>
    spec(`${team.name}-${role}s`, "rbac.authorization.k8s.io/v1", "RoleBinding", {
      metadata: meta(`${role}s`),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
      subjects: groups.map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g })),
    });
  return [
    spec(`${team.name}-quota`, "v1", "ResourceQuota", { metadata: meta("team-quota"), spec: { hard } }),
    spec(`${team.name}-limits`, "v1", "LimitRange", {
      metadata: meta("team-limits"),
      spec: { limits: limitRangeItems(teamNamespaceDefaults.limits) },
    }),
    spec(`${team.name}-default-deny`, "networking.k8s.io/v1", "NetworkPolicy", {
      metadata: meta("default-deny"),
      spec: DEFAULT_DENY_POLICY,
    }),
    spec(`${team.name}-allow-namespace-and-dns`, "networking.k8s.io/v1", "NetworkPolicy", {
      metadata: meta("allow-namespace-and-dns"),
      spec: ALLOW_NAMESPACE_AND_DNS_POLICY,
    }),
    spec(`${team.name}-team-maintainer`, "rbac.authorization.k8s.io/v1", "Role", {
      metadata: meta("team-maintainer"),
      rules: MAINTAINER_RULES,
    }),
    binding("team-maintainer", team.maintainers),
    spec(`${team.name}-team-viewer`, "rbac.authorization.k8s.io/v1", "Role", {
      metadata: meta("team-viewer"),
      rules: VIEWER_RULES,
    }),
    binding("team-viewer", team.viewers),
  ];
}

/** The app's ConfigMap, without a name: the engine (or generator) names it from its content. */
export function configMapObject(app: SyntheticApp, ns: Ref): ObjectSpec {
  return spec(`${app.name}-config`, "v1", "ConfigMap", {
    metadata: {
      namespace: ns,
      labels: {
        "app.kubernetes.io/name": app.name,
        "app.kubernetes.io/part-of": app.team,
        "app.kubernetes.io/managed-by": MANAGED_BY,
      },
    },
    immutable: true,
    data: { ...app.config },
  });
}

/** Names the app's objects refer to, held however the renderer holds references. */
export interface AppRefs {
  readonly namespace: Ref;
  readonly configMapName: Ref;
  readonly serviceAccountName: Ref;
  readonly priorityClassName: Ref;
  readonly deploymentName: Ref;
  /** The image as the renderer writes it (a kustomize base leaves the digest to the overlay). */
  readonly image: string;
}

/** The app's workload objects: ServiceAccount, Deployment, Service, PodDisruptionBudget, HPA. */
export function appObjects(app: SyntheticApp, refs: AppRefs): ObjectSpec[] {
  const selector = { "app.kubernetes.io/name": app.name, "app.kubernetes.io/instance": app.name };
  const stableLabels = {
    ...selector,
    "app.kubernetes.io/component": "server",
    "app.kubernetes.io/part-of": app.team,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
  // As our Workload renders: the release label only on the pods.
  const labels = { ...stableLabels, "app.kubernetes.io/version": RELEASE_ID };
  const meta = { name: app.name, namespace: refs.namespace, labels: stableLabels };
  const probe = (path: string) => ({
    httpGet: { path, port: "http" },
    initialDelaySeconds: 0,
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  const spread = (topologyKey: string) => ({
    topologyKey,
    maxSkew: 1,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ["pod-template-hash"],
  });
  const uid = 10001;
  return [
    spec(app.name, "v1", "ServiceAccount", { metadata: { ...meta }, automountServiceAccountToken: false }),
    spec(app.name, "apps/v1", "Deployment", {
      metadata: meta,
      spec: {
        revisionHistoryLimit: 5,
        progressDeadlineSeconds: 600,
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: refs.serviceAccountName,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            priorityClassName: refs.priorityClassName,
            terminationGracePeriodSeconds: 30,
            securityContext: restrictedPodSecurityContext(uid),
            topologySpreadConstraints: [spread("topology.kubernetes.io/zone"), spread("kubernetes.io/hostname")],
            containers: [
              {
                name: "app",
                image: refs.image,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "http", containerPort: app.port, protocol: "TCP" }],
                env: [{ name: "PORT", value: String(app.port) }],
                envFrom: [{ configMapRef: { name: refs.configMapName } }],
                resources: { requests: { ...app.resources.requests }, limits: { ...app.resources.limits } },
                securityContext: restrictedContainerSecurityContext(),
                readinessProbe: probe("/readyz"),
                livenessProbe: probe("/healthz"),
                lifecycle: { preStop: { sleep: { seconds: 5 } } },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
          },
        },
      },
    }),
    spec(app.name, "v1", "Service", {
      metadata: meta,
      spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
    }),
    spec(app.name, "policy/v1", "PodDisruptionBudget", {
      metadata: meta,
      spec: { maxUnavailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow", selector: { matchLabels: selector } },
    }),
    spec(app.name, "autoscaling/v2", "HorizontalPodAutoscaler", {
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: refs.deploymentName },
        minReplicas: app.autoscaling.minReplicas,
        maxReplicas: app.autoscaling.maxReplicas,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    }),
  ];
}

/** Every object of the environment with plain-string references (for cdk8s and kustomize). */
export function plainObjects(
  env: SyntheticEnvironment,
  configMapName: (app: SyntheticApp) => string,
  image: (app: SyntheticApp) => string,
): ObjectSpec[] {
  const out: ObjectSpec[] = [...platformObjects()];
  for (const team of env.teams) out.push(namespaceObject(team), ...teamObjects(team, team.name));
  for (const app of env.apps) {
    out.push(configMapObject(app, app.team));
    out.push(
      ...appObjects(app, {
        namespace: app.team,
        configMapName: configMapName(app),
        serviceAccountName: app.name,
        priorityClassName: "blueprint-standard",
        deploymentName: app.name,
        image: image(app),
      }),
    );
  }
  out.push(...admissionObjects(env));
  return out;
}
