import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "./labels";
import { ADMISSION_POLICY_NAME, ALLOWED_REGISTRIES_ANNOTATION, teamPodBindingSpec, teamPodPolicySpec } from "./admission-rules";

export { ADMISSION_POLICY_NAME, ALLOWED_REGISTRIES_ANNOTATION, teamPodBindingSpec, teamPodPolicySpec };

/**
 * Admission in the cluster: a `ValidatingAdmissionPolicy` and its binding
 * (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30; evaluated by the API server, no
 * webhook to run). See https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
 */
export interface AdmissionPolicyArgs {
  /** Team namespaces the policy applies to (bound by the API server's `kubernetes.io/metadata.name` label, which nobody can forge). */
  readonly namespaces: readonly pulumi.Input<string>[];
  /** Registry prefixes images may come from, e.g. `ghcr.io` or `europe-west1-docker.pkg.dev/acme/ghcr`. */
  readonly allowedRegistries: readonly string[];
}

/**
 * Refuses, in team namespaces, pods (and the workloads that make them) whose images are not pinned
 * by digest or come from outside the environment's registry allow-list, and pods that break Pod
 * Security `restricted`. Pod Security Admission already enforces `restricted` on the namespace
 * label; this policy holds even if that label is changed, and adds the image rules PSA lacks.
 */
export class AdmissionPolicy extends pulumi.ComponentResource {
  /** The registry prefixes the policy allows. */
  public readonly allowedRegistries: readonly string[];

  constructor(name: string, args: AdmissionPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:AdmissionPolicy", name, {}, opts);
    this.allowedRegistries = [...args.allowedRegistries];
    const labels = { "app.kubernetes.io/managed-by": MANAGED_BY };
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(name, {
      metadata: { name: ADMISSION_POLICY_NAME, labels, annotations: { [ALLOWED_REGISTRIES_ANNOTATION]: this.allowedRegistries.join(",") } },
      spec: teamPodPolicySpec(args.allowedRegistries),
    }, { parent: this });
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(name, {
      metadata: { name: ADMISSION_POLICY_NAME, labels },
      spec: { ...teamPodBindingSpec(args.namespaces), policyName: policy.metadata.name },
    }, { parent: this });
    this.registerOutputs({});
  }
}
