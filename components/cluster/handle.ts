import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { VolumeBackupPlan } from "../services/backups";

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

/** A host a team may serve through an Ingress, as the cluster's certificate and address provisioning see it. */
export interface IngressHostRequest {
  /** A DNS label naming the host's platform resources (certificate, address). */
  readonly name: string;
  /** The team namespace the host's Ingress lives in. */
  readonly namespace: pulumi.Input<string>;
  readonly host: string;
}

/**
 * Where an Ingress of this cluster finds its TLS certificate: in a Secret (`secret`, the Ingress's
 * `spec.tls` names it), by host (`host`: `spec.tls` lists the host without a Secret, as the AWS
 * Load Balancer Controller finds ACM certificates), or by annotation only (`annotation`: no
 * `spec.tls`, as GKE attaches a ManagedCertificate).
 */
export type IngressTlsMode = "secret" | "host" | "annotation";

/** What one host's Ingress needs on this cluster: annotations selecting its certificate and address, and the TLS mode. */
export interface IngressHost {
  readonly annotations: Readonly<Record<string, pulumi.Input<string>>>;
  readonly tls: IngressTlsMode;
}

/**
 * Where managed backing services (databases, caches) of an EKS cluster's environment go: the
 * cluster's own VPC, its private subnets, and the security group its nodes (and so its pods) use.
 */
export interface AwsDataNetwork {
  readonly cloud: "aws";
  /** The cluster's AWS provider (its region and default tags). */
  readonly provider: pulumi.ProviderResource;
  /** The provider's region, e.g. `eu-west-1`: RDS clients verify servers with that region's root CA. */
  readonly region: string;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: readonly pulumi.Output<string>[];
  /** The private subnets' blocks: where a managed instance's addresses are. */
  readonly privateSubnetCidrs: readonly string[];
  /** The EKS cluster security group, attached to managed node groups: what pods connect from. */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
}

/** Where managed backing services of a GKE cluster's environment go: its VPC network, through private services access. */
export interface GcpDataNetwork {
  readonly cloud: "gcp";
  readonly provider: pulumi.ProviderResource;
  readonly project: string;
  readonly region: string;
  readonly projectNumber: string;
  /** The cluster's VPC network (`projects/<p>/global/networks/<n>`). */
  readonly networkId: pulumi.Output<string>;
  /** The GKE cluster's id (`projects/<p>/locations/<l>/clusters/<n>`), for Backup for GKE. */
  readonly clusterId: pulumi.Output<string>;
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
  /** What decides whether a Kubernetes provider talks to another cluster (ARN, id or name), not its credential. */
  readonly clusterIdentifier: pulumi.Output<string>;
  /** The ambient kubeconfig context the cluster is reached through, when it has no kubeconfig of its own. */
  readonly context?: string;
  /**
   * Kubeconfig with exec authentication and no token, as a secret output; undefined for an
   * existing cluster reached through a context of the ambient kubeconfig (there is none to give).
   */
  readonly kubeconfig?: pulumi.Output<string>;
  /**
   * Parameters for this cloud's block storage, and whether `app-storage` is the cluster's default
   * StorageClass (on EKS and GKE; an existing cluster keeps its own default).
   */
  readonly storage: {
    readonly provisioner: string;
    readonly parameters: Readonly<Record<string, string>>;
    readonly isDefault: boolean;
    /** Annotations of the `app-storage` class that the provisioner reads (an existing cluster's local-path). */
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly ingress: {
    /** IngressClass of the cluster's ingress controller; undefined where an annotation selects it (GKE). */
    readonly className?: string;
    /** Annotations every Ingress of this cluster needs. */
    readonly annotations: Readonly<Record<string, string>>;
    /** NetworkPolicy peers through which ingress traffic reaches pods. */
    readonly allowFrom: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Provisions (or points to) the TLS certificate and the address of one host a team may serve. */
    host(request: IngressHostRequest): IngressHost;
    /** Annotations the Service behind an Ingress needs (e.g. NEGs on GKE). */
    readonly serviceAnnotations: Readonly<Record<string, string>>;
    /**
     * Ingress annotations the load balancer reads its health check from (the app's readiness path
     * and port), where it does not derive it from the pods' readiness probe itself.
     */
    readonly healthCheck?: { readonly pathAnnotation: string; readonly portAnnotation: string };
    /**
     * What every Ingress must be created after and deleted before: the ingress controller, whose
     * admission webhook must serve and whose finalizer must run (EKS: the Load Balancer Controller).
     */
    readonly dependsOn: readonly pulumi.Resource[];
  };
  /**
   * Controllers whose finalizers objects in team namespaces need (EKS: the Load Balancer
   * Controller for Ingresses, the EBS CSI driver for volumes). Every team Namespace depends on
   * them, so destroying the platform deletes the namespaces, and what is in them, while the
   * controllers still run: no load balancer or volume leaks, no namespace hangs in Terminating.
   */
  readonly finalizerOwners: readonly pulumi.Resource[];
  /**
   * Egress a pod bound to a cloud identity needs to use it (the token exchange and the cloud's
   * APIs, and on GKE the metadata server), added to the app's NetworkPolicy when it has one.
   */
  readonly cloudIdentityEgress: readonly k8s.types.input.networking.v1.NetworkPolicyEgressRule[];
  /**
   * What a member of each team group signs in as, by group: on EKS the IAM role whose access
   * entry carries the group (a `groupRoles` role, or the role made for the group), on GKE the
   * Google Group itself (granted `roles/container.clusterViewer` on the project). Empty for an
   * existing cluster, whose identity provider is its owner's.
   */
  readonly groupAccess: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Stack outputs users build trust policies with: the OIDC provider ARN and issuer (EKS), the
   * Workload Identity pool (GKE); empty for an existing cluster.
   */
  readonly identityOutputs: Readonly<Record<string, pulumi.Output<string>>>;
  /** Registry (host and path prefix) the environment pulls mirrored images from; undefined means as released. */
  readonly registry?: string;
  /** The mirror prefix of each mirrored upstream registry host (empty without a mirror). */
  readonly mirrors: Readonly<Record<string, string>>;
  /**
   * The reference this cluster pulls for a released `repo@sha256:<digest>`: the same digest, from
   * {@link registry} when the image's registry is mirrored, else unchanged.
   */
  pullReference(released: string): string;
  /** How the cluster itself is guarded against deletion (engine `protect`, cloud deletion protection). */
  readonly safety: ClusterSafety;
  /** ServiceAccount annotations (and cloud resources) that bind it to a cloud identity. */
  bindWorkloadIdentity(binding: WorkloadIdentityBinding): Readonly<Record<string, pulumi.Input<string>>>;
  /** Where managed backing services go; undefined where the cloud offers none (an existing cluster). */
  readonly dataNetwork?: AwsDataNetwork | GcpDataNetwork;
  /**
   * The volume backups the cluster's own add-ons run (an existing cluster's Velero); undefined
   * where the cloud's backup service does it (layers/services.ts) or nothing does.
   */
  readonly volumeBackups?: ClusterVolumeBackups;
}

/** Volume backups run by a cluster add-on, as plain data, and where Prometheus finds their metrics. */
export interface ClusterVolumeBackups extends VolumeBackupPlan {
  readonly kind: "velero";
  /** The Service serving Velero's metrics: its namespace, selector labels and port name. */
  readonly metrics: {
    readonly namespace: string;
    readonly selector: Readonly<Record<string, string>>;
    readonly port: string;
  };
}
