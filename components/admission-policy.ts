import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "../lib/labels";
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
  type GrantedEgress,
} from "./admission-rules";

/**
 * Admission in the cluster: `ValidatingAdmissionPolicy` objects and their bindings
 * (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30; evaluated by the API server, no
 * webhook to run). See https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
 */
export interface AdmissionPolicyArgs {
  /** Team namespaces where images must be pinned and come from the allow-list. */
  readonly namespaces: readonly pulumi.Input<string>[];
  /** Team namespaces that enforce Pod Security `restricted` (a team may be configured `baseline`). */
  readonly restrictedNamespaces: readonly pulumi.Input<string>[];
  /** Registry prefixes images may come from, e.g. `ghcr.io` or `europe-west1-docker.pkg.dev/acme/ghcr`. */
  readonly allowedRegistries: readonly string[];
  /** The Kubernetes minor Pod Security is pinned to (the namespaces' `enforce-version`), e.g. `"1.34"`. @default "1.30" */
  readonly podSecurityVersion?: string;
  /** Ingress hosts each team namespace may serve (namespace -> hosts); a namespace not listed serves none. */
  readonly ingressHosts?: Readonly<Record<string, readonly string[]>>;
  /** Team namespaces whose quota grants Services of type LoadBalancer. */
  readonly loadBalancerNamespaces?: readonly string[];
  /** Team namespaces whose quota grants Services of type NodePort. */
  readonly nodePortNamespaces?: readonly string[];
  /** Egress to a metadata range that the cluster's identity binding needs (GKE's metadata server), allowed exactly. */
  readonly grantedEgress?: readonly GrantedEgress[];
}

/**
 * Refuses, in team namespaces, pods (and the workloads that make them) whose images are not pinned
 * by digest or come from outside the environment's registry allow-list, and, where the team
 * enforces `restricted`, pods that break it. It also holds what a maintainer may write with
 * `kubectl` to the contract: NetworkPolicy egress never reaches instance metadata, Services are
 * LoadBalancer or NodePort only where granted, Ingresses serve only the team's hosts, and the
 * platform's own objects in the namespace (default-deny and the rest) are not the team's to change. Pod Security Admission already enforces the level on
 * the namespace label; these policies hold even if that label is changed, refuse the workload
 * itself rather than only its pods, and add the image rules Pod Security lacks.
 */
export class AdmissionPolicy extends pulumi.ComponentResource {
  /** The registry prefixes the image policy allows. */
  public readonly allowedRegistries: readonly string[];

  constructor(name: string, args: AdmissionPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:AdmissionPolicy", name, {}, opts);
    this.allowedRegistries = [...args.allowedRegistries];
    const labels = { "app.kubernetes.io/managed-by": MANAGED_BY };
    const bind = (
      suffix: string,
      policyName: string,
      spec: k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec,
      namespaces: readonly pulumi.Input<string>[],
      annotations?: Record<string, string>,
      objectLabels?: Record<string, string>,
    ) => {
      // A binding selecting no namespace would be invalid (`In` needs values); no namespace, no policy.
      if (namespaces.length === 0) return;
      const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-${suffix}`,
        {
          metadata: { name: policyName, labels, ...(annotations ? { annotations } : {}) },
          spec,
        },
        { parent: this },
      );
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-${suffix}`,
        {
          metadata: { name: policyName, labels },
          spec: teamBindingSpec(policy.metadata.name, namespaces, objectLabels),
        },
        { parent: this },
      );
    };
    bind("images", IMAGE_POLICY_NAME, teamImagePolicySpec(this.allowedRegistries), args.namespaces, {
      [ALLOWED_REGISTRIES_ANNOTATION]: this.allowedRegistries.join(","),
    });
    bind(
      "pod-security",
      POD_SECURITY_POLICY_NAME,
      podSecurityPolicySpec(args.podSecurityVersion),
      args.restrictedNamespaces,
    );
    bind("network-policies", NETWORK_POLICY_NAME, teamNetworkPolicySpec(args.grantedEgress ?? []), args.namespaces);
    bind(
      "services",
      SERVICE_POLICY_NAME,
      teamServicePolicySpec(args.loadBalancerNamespaces ?? [], args.nodePortNamespaces ?? []),
      args.namespaces,
    );
    bind("ingresses", INGRESS_POLICY_NAME, teamIngressPolicySpec(args.ingressHosts ?? {}), args.namespaces);
    bind("guardrails", GUARDRAIL_POLICY_NAME, platformGuardrailPolicySpec(), args.namespaces, undefined, {
      [PLATFORM_OWNED_LABEL.key]: PLATFORM_OWNED_LABEL.value,
    });
    this.registerOutputs({});
  }
}
