import type { ClusterConfig } from "./cluster-config";

/**
 * Namespaces a team may not take: Kubernetes' own, the cloud's, and those of the platform's
 * add-ons. A team name is its namespace, so a team named `kube-system` would put a team's Role,
 * quota and default-deny policy into the control plane's namespace and hand its apps to the team.
 */

/** Kubernetes' own: `default` and every `kube-` namespace (kube-system, kube-public, kube-node-lease). */
const KUBERNETES = { names: ["default"], prefixes: ["kube-"] } as const;

/**
 * The namespaces of an existing cluster's add-ons (components/cluster/existing/addons): Velero's,
 * which is Pod Security `privileged` for its node-agent, and its in-cluster MinIO's. A team of
 * that name would get its Role and workloads into them.
 */
export const EXISTING_ADD_ON_NAMESPACES = ["velero", "minio"] as const;

/**
 * The platform's namespace for the Job that sets up the users of managed databases: it holds their
 * admin credentials and runs the platform's own pinned Postgres image, outside every team policy.
 * A team of that name would get its Role, and the team admission policies, in it.
 */
export const DATA_ADMIN_NAMESPACE = "blueprint-data";

/**
 * The namespaces of the platform's observability (components/observability.ts): Prometheus and
 * Grafana's, Fluent Bit's (Pod Security `privileged`, for its hostPath reads) and OpenSearch's.
 * Reserved on every cluster, whether or not the environment runs them yet, so a team name stays
 * valid when observability is switched on.
 */
export const OBSERVABILITY_NAMESPACES = ["monitoring", "logging", "opensearch"] as const;

/**
 * Per cloud: the namespaces the platform's add-ons run in (EKS: the CloudWatch Observability
 * add-on's `amazon-cloudwatch`; the load balancer controller and the autoscaler run in
 * kube-system), and the prefixes the cloud reserves for itself (GKE: `gke-` for its managed
 * components such as gke-managed-system, and `gmp-` for Managed Service for Prometheus,
 * gmp-system and gmp-public). An existing cluster's ingress controller runs in its configured
 * namespace. The platform's data namespace is reserved on every cluster, so team names stay valid
 * when an environment moves to a cloud.
 */
export function platformNamespaces(cluster: Pick<ClusterConfig, "cloud" | "existing"> | undefined): {
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
} {
  switch (cluster?.cloud) {
    case "aws":
      return {
        names: [...KUBERNETES.names, DATA_ADMIN_NAMESPACE, ...OBSERVABILITY_NAMESPACES, "amazon-cloudwatch"],
        prefixes: [...KUBERNETES.prefixes, "amazon-", "aws-"],
      };
    case "gcp":
      return {
        names: [...KUBERNETES.names, DATA_ADMIN_NAMESPACE, ...OBSERVABILITY_NAMESPACES],
        prefixes: [...KUBERNETES.prefixes, "gke-", "gmp-"],
      };
    case "existing":
      return {
        names: [
          ...KUBERNETES.names,
          DATA_ADMIN_NAMESPACE,
          ...OBSERVABILITY_NAMESPACES,
          ...EXISTING_ADD_ON_NAMESPACES,
          ...(cluster.existing ? [cluster.existing.ingressNamespace] : []),
        ],
        prefixes: [...KUBERNETES.prefixes],
      };
    default:
      return {
        names: [...KUBERNETES.names, DATA_ADMIN_NAMESPACE, ...OBSERVABILITY_NAMESPACES],
        prefixes: [...KUBERNETES.prefixes],
      };
  }
}

/** Why `name` cannot be a team namespace on this cluster, or undefined when it can. */
export function reservedNamespaceProblem(
  name: string,
  cluster: Pick<ClusterConfig, "cloud" | "existing"> | undefined,
): string | undefined {
  const { names, prefixes } = platformNamespaces(cluster);
  if (names.includes(name))
    return `"${name}" is a namespace Kubernetes or the platform's add-ons use (${names.join(", ")})`;
  const prefix = prefixes.find((p) => name.startsWith(p));
  if (prefix)
    return `"${name}" starts with "${prefix}", which ${prefix === "kube-" ? "Kubernetes reserves for its own namespaces" : `the cloud reserves for its own namespaces on this cluster (${prefixes.join(", ")})`}`;
  return undefined;
}

/** Kubernetes grants identities starting with `system:` to its own components (system:masters, system:authenticated, system:serviceaccounts...). */
export function isSystemIdentity(group: string): boolean {
  return group.toLowerCase().startsWith("system:");
}
