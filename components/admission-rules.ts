import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { REGISTRY_PREFIX } from "../lib/registries";
import {
  allowedSeLinuxTypes,
  allowedSysctls,
  APPARMOR_ANNOTATION_PREFIX,
  APPARMOR_TYPES,
  forbidsProbeHost,
  minorOf,
  OLDEST_MINOR,
  relaxesUserNamespacePods,
  RESTRICTED_VOLUME_TYPES,
  SECCOMP_TYPES,
} from "../lib/pod-security";

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

const SECCOMP = `[${SECCOMP_TYPES.map((t) => `'${t}'`).join(", ")}]`;
const APPARMOR = `[${APPARMOR_TYPES.map((t) => `'${t}'`).join(", ")}]`;
const POD_CONTEXT = "has(variables.spec.securityContext)";
const celList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

/** The pod template of whichever kind arrived (`o` is `object` or `oldObject`): a Pod is its own. */
const template = (o: string) =>
  `(${o}.kind == 'Pod' ? ${o} : (${o}.kind == 'CronJob' ? ${o}.spec.jobTemplate.spec.template : ${o}.spec.template))`;

/**
 * Only requests that change what runs are judged. An UPDATE that leaves the pod spec and its
 * annotations as they were (scaling an old ReplicaSet down, removing a Job's finalizer, a label
 * edit) is not refused because an allow-list changed after the object was admitted, as Pod
 * Security admission itself ignores such updates.
 */
export const TEMPLATE_CHANGED = {
  name: "pod-template-changed",
  expression:
    `request.operation != 'UPDATE' || ${template("object")}.spec != ${template("oldObject")}.spec` +
    ` || (has(${template("object")}.metadata) && has(${template("object")}.metadata.annotations) ? ${template("object")}.metadata.annotations : {})` +
    ` != (has(${template("oldObject")}.metadata) && has(${template("oldObject")}.metadata.annotations) ? ${template("oldObject")}.metadata.annotations : {})`,
};

/**
 * What both policies match, and the pod spec they look at. Pods are what runs, so pods are matched
 * (CREATE and UPDATE: an image can be changed in place); the workload kinds are matched too, so
 * `kubectl apply` or `pulumi up` fails on the Deployment itself instead of its ReplicaSet failing
 * to create pods later. The API server evaluates `object` dynamically, so the conditional picks
 * the pod spec of whichever kind arrived.
 */
function podSpecPolicy(validations: Validation[]): PolicySpec {
  const rule = (apiGroups: string[], resources: string[]) => ({
    apiGroups,
    apiVersions: ["v1"],
    operations: ["CREATE", "UPDATE"],
    resources,
  });
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
    matchConditions: [TEMPLATE_CHANGED],
    variables: [
      {
        name: "spec",
        expression:
          "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
      },
      {
        name: "containers",
        expression:
          "variables.spec.containers" +
          " + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])" +
          " + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
      },
      {
        name: "annotations",
        expression: `has(${template("object")}.metadata) && has(${template("object")}.metadata.annotations) ? ${template("object")}.metadata.annotations : {}`,
      },
    ],
    validations,
  };
}

/** Images pinned by digest, from the allow-list: in every team namespace. Every expression must be true. */
export function teamImagePolicySpec(allowedRegistries: readonly string[]): PolicySpec {
  const bad = allowedRegistries.filter((r) => !REGISTRY_PREFIX.test(r));
  if (bad.length > 0)
    throw new Error(
      `allowed registries must be registry hosts with an optional path prefix, got ${bad.map((r) => JSON.stringify(r)).join(", ")}`,
    );
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

/** `x` is unset or empty, as Go reads a field admission sees after defaulting. */
const unsetOr = (parent: string, field: string, ok: string) =>
  `(!has(${parent}.${field}) || ${parent}.${field} == '' || ${ok})`;
const ctxField = (c: string, field: string) => `has(${c}.securityContext) && has(${c}.securityContext.${field})`;
const podField = (field: string) => `${POD_CONTEXT} && has(variables.spec.securityContext.${field})`;

/**
 * Pod Security `restricted` at a pinned minor, exactly as Pod Security admission decides it
 * (lib/pod-security.ts has the facts and their sources): in the team namespaces that enforce it,
 * it holds even if the namespace's Pod Security label is changed, and refuses the Deployment
 * itself rather than only its pods.
 */
export function podSecurityPolicySpec(version: string = `1.${OLDEST_MINOR}`): PolicySpec {
  const minor = minorOf(version);
  const notWindows = "!(has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows')";
  const notUserNamespace = relaxesUserNamespacePods(minor)
    ? "!(has(variables.spec.hostUsers) && variables.spec.hostUsers == false)"
    : "true";
  const seTypes = celList(allowedSeLinuxTypes(minor));
  const seLinuxOk = (o: string) =>
    `(${unsetOr(o, "type", `${o}.type in ${seTypes}`)} && ${unsetOr(o, "user", "false")} && ${unsetOr(o, "role", "false")})`;
  const handlerHostless = (h: string) =>
    `(!has(${h}) || ((!has(${h}.httpGet) || ${unsetOr(`${h}.httpGet`, "host", "false")}) && (!has(${h}.tcpSocket) || ${unsetOr(`${h}.tcpSocket`, "host", "false")})))`;
  const validations: Validation[] = [
    {
      expression:
        "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork) && !(has(variables.spec.hostPID) && variables.spec.hostPID) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC)",
      message: "host namespaces (hostNetwork, hostPID, hostIPC) are not allowed",
    },
    {
      expression:
        "variables.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged == false)",
      message: "privileged containers are not allowed",
    },
    {
      expression: "variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))",
      message: "host ports are not allowed",
    },
    {
      expression:
        `(!(${podField("appArmorProfile")}) || (has(variables.spec.securityContext.appArmorProfile.type) && variables.spec.securityContext.appArmorProfile.type in ${APPARMOR}))` +
        ` && variables.containers.all(c, !(${ctxField("c", "appArmorProfile")}) || (has(c.securityContext.appArmorProfile.type) && c.securityContext.appArmorProfile.type in ${APPARMOR}))` +
        ` && variables.annotations.all(k, !k.startsWith('${APPARMOR_ANNOTATION_PREFIX}') || variables.annotations[k] == '' || variables.annotations[k] == 'runtime/default' || variables.annotations[k].startsWith('localhost/'))`,
      message:
        "AppArmor profiles must be RuntimeDefault or Localhost (appArmorProfile, or the container.apparmor.security.beta.kubernetes.io annotations)",
    },
    {
      expression:
        `(!(${podField("seLinuxOptions")}) || ${seLinuxOk("variables.spec.securityContext.seLinuxOptions")})` +
        ` && variables.containers.all(c, !(${ctxField("c", "seLinuxOptions")}) || ${seLinuxOk("c.securityContext.seLinuxOptions")})`,
      message: `seLinuxOptions may set only the type, one of ${allowedSeLinuxTypes(minor)
        .filter((t) => t)
        .join(", ")}`,
    },
    {
      expression: `variables.containers.all(c, !(${ctxField("c", "procMount")}) || c.securityContext.procMount == '' || c.securityContext.procMount == 'Default')`,
      message: "procMount must be Default (an unmasked /proc is not allowed)",
    },
    {
      expression: `!(${podField("sysctls")}) || variables.spec.securityContext.sysctls.all(s, s.name in ${celList(allowedSysctls(minor))})`,
      message: `only these sysctls are allowed: ${allowedSysctls(minor).join(", ")}`,
    },
    {
      expression:
        `!(${podField("windowsOptions")} && has(variables.spec.securityContext.windowsOptions.hostProcess) && variables.spec.securityContext.windowsOptions.hostProcess == true)` +
        ` && variables.containers.all(c, !(${ctxField("c", "windowsOptions")} && has(c.securityContext.windowsOptions.hostProcess) && c.securityContext.windowsOptions.hostProcess == true))`,
      message: "Windows hostProcess containers are not allowed",
    },
    ...(forbidsProbeHost(minor)
      ? [
          {
            expression:
              `variables.containers.all(c, ${["livenessProbe", "readinessProbe", "startupProbe"].map((p) => handlerHostless(`c.${p}`)).join(" && ")}` +
              ` && (!has(c.lifecycle) || (${handlerHostless("c.lifecycle.postStart")} && ${handlerHostless("c.lifecycle.preStop")})))`,
            message: "probes and lifecycle handlers must not set a host",
          },
        ]
      : []),
    {
      expression: `!has(variables.spec.volumes) || variables.spec.volumes.all(v, ${RESTRICTED_VOLUME_TYPES.map((t) => `has(v.${t})`).join(" || ")})`,
      message: `volumes must be of a type Pod Security restricted allows (${RESTRICTED_VOLUME_TYPES.join(", ")}; no hostPath)`,
    },
    {
      expression: `!${notWindows} || variables.containers.all(c, ${ctxField("c", "allowPrivilegeEscalation")} && c.securityContext.allowPrivilegeEscalation == false)`,
      message: "every container must set securityContext.allowPrivilegeEscalation: false",
    },
    {
      expression:
        `!${notUserNamespace} || (!(${podField("runAsNonRoot")} && variables.spec.securityContext.runAsNonRoot == false)` +
        ` && variables.containers.all(c, (${ctxField("c", "runAsNonRoot")}) ? c.securityContext.runAsNonRoot == true : (${podField("runAsNonRoot")} && variables.spec.securityContext.runAsNonRoot == true)))`,
      message:
        "every container must run with runAsNonRoot: true (on the container or the pod), and neither may set it false",
    },
    {
      expression: `!${notUserNamespace} || (!(${podField("runAsUser")} && variables.spec.securityContext.runAsUser == 0) && variables.containers.all(c, !(${ctxField("c", "runAsUser")}) || c.securityContext.runAsUser != 0))`,
      message: "running as root (runAsUser: 0) is not allowed",
    },
    {
      expression:
        `!${notWindows} || variables.containers.all(c, ${ctxField("c", "capabilities")} && has(c.securityContext.capabilities.drop) && 'ALL' in c.securityContext.capabilities.drop` +
        " && (!has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE')))",
      message: "every container must drop ALL capabilities and may add only NET_BIND_SERVICE",
    },
    {
      expression:
        `!${notWindows} || ((!(${podField("seccompProfile")}) || variables.spec.securityContext.seccompProfile.type in ${SECCOMP})` +
        ` && variables.containers.all(c, (${ctxField("c", "seccompProfile")}) ? c.securityContext.seccompProfile.type in ${SECCOMP}` +
        ` : (${podField("seccompProfile")} && variables.spec.securityContext.seccompProfile.type in ${SECCOMP})))`,
      message:
        "every container must run with seccomp profile RuntimeDefault or Localhost (on the container or the pod)",
    },
  ];
  return podSpecPolicy(validations.map((v) => ({ ...v, reason: "Forbidden" })));
}

/** Name of the policy (and binding) on team NetworkPolicies. */
export const NETWORK_POLICY_NAME = "blueprint-team-network-policies";
/** Name of the policy (and binding) on team Services. */
export const SERVICE_POLICY_NAME = "blueprint-team-services";
/** Name of the policy (and binding) on team Ingresses. */
export const INGRESS_POLICY_NAME = "blueprint-team-ingresses";
/** Name of the policy (and binding) that keeps the platform's objects in team namespaces the platform's. */
export const GUARDRAIL_POLICY_NAME = "blueprint-platform-guardrails";
/**
 * The label on every object the platform puts in a team namespace (quota, limits, the
 * `default-deny` and `allow-namespace-and-dns` NetworkPolicies, Roles and RoleBindings). The
 * guardrail policy's binding selects it, so a maintainer, whose Role may write NetworkPolicies,
 * can neither change nor delete these, nor create an object that claims the label.
 */
export const PLATFORM_OWNED_LABEL = { key: "blueprint.dev/owner", value: "platform" } as const;

/**
 * Destinations a team's egress may never reach: IPv4 and IPv6 link-local (every cloud's instance
 * metadata server, and with it the node's credentials: on EKS with the IMDS hop limit of 2, a pod
 * reaches it) and the EC2 metadata server's IPv6 address.
 */
export const FORBIDDEN_EGRESS = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"] as const;

/** Egress to a forbidden range the contract grants anyway (GKE's metadata server for Workload Identity), by exact block and ports. */
export interface GrantedEgress {
  readonly cidr: string;
  readonly ports: readonly { readonly port: number; readonly protocol: "TCP" | "UDP" }[];
}

const celString = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
const celStrings = (items: readonly string[]) => `[${items.map(celString).join(", ")}]`;

/**
 * Team NetworkPolicies: every egress rule names its destinations, and no ipBlock reaches a
 * {@link FORBIDDEN_EGRESS} range unless it carves the range out (`except`) or is exactly an egress
 * the contract grants (`granted`). Uses Kubernetes' CIDR library (`cidr()`, GA with
 * ValidatingAdmissionPolicy's CEL environment since 1.31:
 * https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-ip-address-library).
 */
export function teamNetworkPolicySpec(granted: readonly GrantedEgress[]): PolicySpec {
  const grants = `[${granted.map((g) => `{'cidr': ${celString(g.cidr)}, 'ports': [${g.ports.map((p) => `{'port': ${p.port}, 'protocol': '${p.protocol}'}`).join(", ")}]}`).join(", ")}]`;
  const isGranted =
    `variables.granted.exists(g, g.cidr == p.ipBlock.cidr && !has(p.ipBlock.except) && has(r.ports) && r.ports.size() > 0` +
    ` && r.ports.all(q, has(q.port) && !has(q.endPort) && g.ports.exists(gp, gp.port == q.port && gp.protocol == (has(q.protocol) ? q.protocol : 'TCP'))))`;
  const carved =
    `${celStrings(FORBIDDEN_EGRESS)}.all(f, cidr(p.ipBlock.cidr).containsCIDR(cidr(f))` +
    ` ? (has(p.ipBlock.except) && p.ipBlock.except.exists(e, cidr(e).containsCIDR(cidr(f))))` +
    ` : !cidr(f).containsCIDR(cidr(p.ipBlock.cidr)))`;
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["networkpolicies"],
        },
      ],
    },
    variables: [
      { name: "egress", expression: "has(object.spec.egress) ? object.spec.egress : []" },
      { name: "granted", expression: grants },
    ],
    validations: [
      {
        expression: "variables.egress.all(r, has(r.to) && r.to.size() > 0)",
        message:
          "every egress rule must name its destinations (to): a rule without them allows every address, the node's metadata server included",
        reason: "Forbidden",
      },
      {
        expression: `variables.egress.all(r, !has(r.to) || r.to.all(p, !has(p.ipBlock) || ${isGranted} || ${carved}))`,
        message: `egress may not reach ${FORBIDDEN_EGRESS.join(", ")} (instance metadata and the node's credentials): carve them out with except, or use an identity the platform grants`,
        reason: "Forbidden",
      },
    ],
  };
}

/**
 * Team Services: type LoadBalancer or NodePort only in the namespaces whose quota grants them
 * (`services.loadbalancers`, `services.nodeports` above 0), and no `externalIPs`, which let a
 * Service intercept traffic to any address (CVE-2020-8554).
 */
export function teamServicePolicySpec(
  loadBalancerNamespaces: readonly string[],
  nodePortNamespaces: readonly string[],
): PolicySpec {
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["services"] },
      ],
    },
    validations: [
      {
        expression: `!has(object.spec.type) || object.spec.type != 'LoadBalancer' || request.namespace in ${celStrings(loadBalancerNamespaces)}`,
        message: "a Service of type LoadBalancer needs the platform's grant (quota services.loadbalancers of the team)",
        reason: "Forbidden",
      },
      {
        expression: `!has(object.spec.type) || object.spec.type != 'NodePort' || request.namespace in ${celStrings(nodePortNamespaces)}`,
        message: "a Service of type NodePort needs the platform's grant (quota services.nodeports of the team)",
        reason: "Forbidden",
      },
      {
        expression: "!has(object.spec.externalIPs) || object.spec.externalIPs.size() == 0",
        message: "externalIPs are not allowed (a Service could intercept traffic to any address, CVE-2020-8554)",
        reason: "Forbidden",
      },
    ],
  };
}

/** Team Ingresses: only hosts the contract grants the namespace's team, named on every rule; no default backend (it catches every host). */
export function teamIngressPolicySpec(hostsByNamespace: Readonly<Record<string, readonly string[]>>): PolicySpec {
  const table = `{${Object.entries(hostsByNamespace)
    .map(([ns, hosts]) => `${celString(ns)}: ${celStrings(hosts)}`)
    .join(", ")}}`;
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["ingresses"],
        },
      ],
    },
    variables: [{ name: "hosts", expression: `request.namespace in ${table} ? ${table}[request.namespace] : []` }],
    validations: [
      {
        expression: "!has(object.spec.defaultBackend)",
        message: "a default backend is not allowed: it serves every host, not only the team's",
        reason: "Forbidden",
      },
      {
        expression:
          "has(object.spec.rules) && object.spec.rules.size() > 0 && object.spec.rules.all(r, has(r.host) && r.host in variables.hosts)",
        message:
          "every rule must name a host the platform lets this team serve (blueprint:teams.<team>.hosts of the platform stack)",
        reason: "Forbidden",
      },
      {
        expression:
          "!has(object.spec.tls) || object.spec.tls.all(t, !has(t.hosts) || t.hosts.all(h, h in variables.hosts))",
        message: "TLS hosts must be hosts the platform lets this team serve",
        reason: "Forbidden",
      },
    ],
  };
}

/**
 * The platform's objects in team namespaces, selected by {@link PLATFORM_OWNED_LABEL} in the
 * binding, are written only by whoever may `delete` the virtual resource `guardrails.blueprint.dev`
 * there: cluster administrators (the platform's `pulumi up`) and the namespace controller
 * (`delete` on every resource), never a team Role, which names its resources one by one. An
 * authorizer check on a resource no API serves is the documented way to ask "may this user do X"
 * (https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/#authorizer-check).
 */
export function platformGuardrailPolicySpec(): PolicySpec {
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources: ["networkpolicies"],
        },
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources: ["resourcequotas", "limitranges"],
        },
        {
          apiGroups: ["rbac.authorization.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources: ["roles", "rolebindings"],
        },
      ],
    },
    validations: [
      {
        expression:
          "authorizer.group('blueprint.dev').resource('guardrails').namespace(request.namespace).check('delete').allowed()",
        message:
          "this object is one of the platform's guardrails in the team namespace (default-deny, allow-namespace-and-dns, quota, limits, roles): change it in the platform stack",
        reason: "Forbidden",
      },
    ],
  };
}

/** A binding's spec: its policy, denying, in the given namespaces only (by the label the API server sets and nobody can forge). */
export function teamBindingSpec(
  policyName: pulumi.Input<string>,
  namespaces: readonly pulumi.Input<string>[],
  objectLabels?: Readonly<Record<string, string>>,
): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec {
  return {
    policyName,
    validationActions: ["Deny"],
    matchResources: {
      namespaceSelector: {
        matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces] }],
      },
      ...(objectLabels ? { objectSelector: { matchLabels: { ...objectLabels } } } : {}),
    },
  };
}
