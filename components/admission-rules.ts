import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { REGISTRY_PREFIX } from "../lib/registries";

/**
 * The admission policies' specs as plain data, without the SDK: `AdmissionPolicy` registers it, and
 * the benchmark's references render the same objects from here.
 */

/** Name of the image policy and of its binding. */
export const IMAGE_POLICY_NAME = "blueprint-team-images";
/** Name of the Pod Security `restricted` policy and of its binding. */
export const POD_SECURITY_POLICY_NAME = "blueprint-team-pod-security";
/**
 * Annotation of the image policy listing its allowed registries (comma-separated), for operators
 * reading the cluster and for `npm run audit`, which checks the policy pack's config against it.
 */
export const ALLOWED_REGISTRIES_ANNOTATION = "blueprint.dev/allowed-registries";

type PolicySpec = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec;
type Validation = k8s.types.input.admissionregistration.v1.Validation;

/** Seccomp profile types Pod Security `restricted` accepts. */
const SECCOMP = "['RuntimeDefault', 'Localhost']";
const POD_CONTEXT = "has(variables.spec.securityContext)";

/**
 * What both policies match, and the pod spec they look at. Pods are what runs, so pods are matched
 * (CREATE and UPDATE: an image can be changed in place); the workload kinds are matched too, so
 * `kubectl apply` or `pulumi up` fails on the Deployment itself instead of its ReplicaSet failing
 * to create pods later. The API server evaluates `object` dynamically, so the conditional picks
 * the pod spec of whichever kind arrived.
 */
function podSpecPolicy(validations: Validation[]): PolicySpec {
  const rule = (apiGroups: string[], resources: string[]) => ({ apiGroups, apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources });
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        // `kubectl debug` adds ephemeral containers through a subresource, which "pods" does not match.
        rule([""], ["pods", "pods/ephemeralcontainers"]),
        rule(["apps"], ["deployments", "replicasets", "statefulsets", "daemonsets"]),
        rule(["batch"], ["jobs", "cronjobs"]),
      ],
    },
    variables: [
      {
        name: "spec",
        expression: "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
      },
      {
        name: "containers",
        expression: "variables.spec.containers"
          + " + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])"
          + " + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
      },
    ],
    validations,
  };
}

/** Images pinned by digest, from the allow-list: in every team namespace. Every expression must be true. */
export function teamImagePolicySpec(allowedRegistries: readonly string[]): PolicySpec {
  const bad = allowedRegistries.filter((r) => !REGISTRY_PREFIX.test(r));
  if (bad.length > 0) throw new Error(`allowed registries must be registry hosts with an optional path prefix, got ${bad.map((r) => JSON.stringify(r)).join(", ")}`);
  const allowed = `[${allowedRegistries.map((r) => `'${r}'`).join(", ")}]`;
  return podSpecPolicy([
    {
      expression: "variables.containers.all(c, c.image.matches('@sha256:[0-9a-f]{64}$'))",
      message: "every image must be pinned by digest (repo@sha256:<64 hex>)",
      reason: "Forbidden",
    },
    {
      expression: `variables.containers.all(c, ${allowed}.exists(r, c.image.startsWith(r + '/')))`,
      message: `every image must come from an allowed registry: ${allowedRegistries.join(", ") || "none"}`,
      reason: "Forbidden",
    },
  ]);
}

/**
 * Pod Security `restricted` (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * in the team namespaces that enforce it: it holds even if the namespace's Pod Security label is
 * changed, and refuses the Deployment itself rather than only its pods.
 */
export function podSecurityPolicySpec(): PolicySpec {
  return podSpecPolicy([
    {
      expression: "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork) && !(has(variables.spec.hostPID) && variables.spec.hostPID) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC)",
      message: "host namespaces (hostNetwork, hostPID, hostIPC) are not allowed",
      reason: "Forbidden",
    },
    {
      expression: "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
      message: "privileged containers are not allowed",
      reason: "Forbidden",
    },
    {
      expression: "variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))",
      message: "host ports are not allowed",
      reason: "Forbidden",
    },
    {
      expression: "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && c.securityContext.allowPrivilegeEscalation == false)",
      message: "every container must set securityContext.allowPrivilegeEscalation: false",
      reason: "Forbidden",
    },
    {
      expression: `variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.runAsNonRoot)) ? c.securityContext.runAsNonRoot == true : (${POD_CONTEXT} && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot == true))`,
      message: "every container must run with runAsNonRoot: true (on the container or the pod)",
      reason: "Forbidden",
    },
    {
      expression: `!(${POD_CONTEXT} && has(variables.spec.securityContext.runAsUser) && variables.spec.securityContext.runAsUser == 0) && variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.runAsUser) || c.securityContext.runAsUser != 0)`,
      message: "running as root (runAsUser: 0) is not allowed",
      reason: "Forbidden",
    },
    {
      expression: "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.capabilities) && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop"
        + " && (!has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE')))",
      message: "every container must drop ALL capabilities and may add only NET_BIND_SERVICE",
      reason: "Forbidden",
    },
    {
      expression: `(!${POD_CONTEXT} || !has(variables.spec.securityContext.seccompProfile) || variables.spec.securityContext.seccompProfile.type in ${SECCOMP})`
        + ` && variables.containers.all(c, (has(c.securityContext) && has(c.securityContext.seccompProfile)) ? c.securityContext.seccompProfile.type in ${SECCOMP}`
        + ` : (${POD_CONTEXT} && has(variables.spec.securityContext.seccompProfile) && variables.spec.securityContext.seccompProfile.type in ${SECCOMP}))`,
      message: "every container must run with seccomp profile RuntimeDefault or Localhost (on the container or the pod)",
      reason: "Forbidden",
    },
    {
      expression: "!has(variables.spec.volumes) || variables.spec.volumes.all(v, has(v.configMap) || has(v.csi) || has(v.downwardAPI) || has(v.emptyDir)"
        + " || has(v.ephemeral) || has(v.persistentVolumeClaim) || has(v.projected) || has(v.secret))",
      message: "volumes must be of a type Pod Security restricted allows (no hostPath)",
      reason: "Forbidden",
    },
  ]);
}

/** A binding's spec: its policy, denying, in the given namespaces only (by the label the API server sets and nobody can forge). */
export function teamBindingSpec(policyName: pulumi.Input<string>, namespaces: readonly pulumi.Input<string>[]): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec {
  return {
    policyName,
    validationActions: ["Deny"],
    matchResources: {
      namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces] }] },
    },
  };
}
