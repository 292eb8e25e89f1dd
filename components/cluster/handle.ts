import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** The clouds a cluster can come from. */
export type Cloud = "aws" | "gcp" | "existing";

/** A Kubernetes ServiceAccount to bind to a cloud identity (IAM role, Google service account). */
export interface WorkloadIdentityBinding {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** IAM role ARN on AWS, Google service account email on GCP. */
  readonly cloudIdentity: string;
}

/** Deletion guards chosen for a cluster; exposed because resource options are not visible under mocks. */
export interface ClusterSafety {
  /** The cluster resource is registered with `protect` (the engine refuses to delete it). */
  readonly protect: boolean;
  /** The cloud's own deletion protection is on (EKS `deletionProtection`, GKE `deletion_protection`). */
  readonly deletionProtection: boolean;
}

/** An app exposed through an Ingress, as the cluster's certificate provisioning sees it. */
export interface IngressCertificateRequest {
  readonly app: string;
  readonly namespace: pulumi.Input<string>;
  readonly host: string;
  /** A Secret holding the certificate, where the config names one. */
  readonly tlsSecretName?: string;
}

/** How an Ingress of this cluster gets its TLS certificate. */
export interface IngressTls {
  /** Annotations that select or request the certificate. */
  readonly annotations: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The `spec.tls` entry for the host: with `secretName` where the certificate lives in a Secret,
   * without it where the controller looks the certificate up by host (ACM). Undefined where the
   * certificate is attached by annotation only (a GKE ManagedCertificate).
   */
  readonly tls?: { readonly secretName?: string };
}

/** An app's backend behind an Ingress, as the cluster's load balancer sees it. */
export interface IngressBackendRequest {
  readonly app: string;
  readonly namespace: pulumi.Input<string>;
  /** Path of the app's readiness probe: the load balancer's health check uses the same one. */
  readonly readinessPath: string;
  /** Port of the readiness probe when it is not the app's own port. */
  readonly readinessPort?: number;
}

/** What the cluster's load balancer needs on an app's Ingress and Service. */
export interface IngressBackend {
  readonly ingressAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
  readonly serviceAnnotations: Readonly<Record<string, string>>;
}

/**
 * Everything the layers above the cluster need, identical for EKS, GKE and an existing cluster.
 * Nothing outside `components/cluster/` branches on the cloud; it reads this handle instead.
 */
export interface ClusterHandle {
  readonly cloud: Cloud;
  readonly name: pulumi.Output<string>;
  /** Explicit provider for every Kubernetes resource (the default provider is disabled). */
  readonly provider: k8s.Provider;
  /**
   * Kubeconfig with exec authentication and no token, as a secret output; undefined for an
   * existing cluster reached through a context of the ambient kubeconfig (there is none to give).
   */
  readonly kubeconfig?: pulumi.Output<string>;
  /**
   * Parameters for this cloud's block storage, and whether `app-storage` is the cluster's default
   * StorageClass (on EKS and GKE; an existing cluster keeps its own default).
   */
  readonly storage: { readonly provisioner: string; readonly parameters: Readonly<Record<string, string>>; readonly isDefault: boolean };
  readonly ingress: {
    /** IngressClass of the cluster's ingress controller; undefined where an annotation selects it (GKE). */
    readonly className?: string;
    /** Annotations every Ingress of this cluster needs. */
    readonly annotations: Readonly<Record<string, string>>;
    /** NetworkPolicy peers through which ingress traffic reaches pods. */
    readonly allowFrom: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Provisions (or points to) the TLS certificate of one app's host. */
    certificate(request: IngressCertificateRequest): IngressTls;
    /** Health check and load-balancing annotations (and resources, such as a static IP) for one app. */
    backend(request: IngressBackendRequest): IngressBackend;
    /**
     * What every Ingress must be created after and deleted before: the ingress controller, whose
     * admission webhook must serve and whose finalizer must run (EKS: the Load Balancer Controller).
     */
    readonly dependsOn: readonly pulumi.Resource[];
  };
  /**
   * Egress a pod bound to a cloud identity needs to use it (the token exchange and the cloud's
   * APIs, and on GKE the metadata server), added to the app's NetworkPolicy when it has one.
   */
  readonly cloudIdentityEgress: readonly k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
  /**
   * Stack outputs users build trust policies with: the OIDC provider ARN and issuer (EKS), the
   * Workload Identity pool (GKE); empty for an existing cluster.
   */
  readonly identityOutputs: Readonly<Record<string, pulumi.Output<string>>>;
  /** Registry (host and path prefix) the environment pulls mirrored images from; undefined means as released. */
  readonly registry?: string;
  /**
   * The reference this cluster pulls for a released `repo@sha256:<digest>`: the same digest, from
   * {@link registry} when the image's registry is mirrored, else unchanged.
   */
  pullReference(released: string): string;
  /** How the cluster itself is guarded against deletion (engine `protect`, cloud deletion protection). */
  readonly safety: ClusterSafety;
  /** ServiceAccount annotations (and cloud resources) that bind it to a cloud identity. */
  bindWorkloadIdentity(binding: WorkloadIdentityBinding): Readonly<Record<string, pulumi.Input<string>>>;
}
