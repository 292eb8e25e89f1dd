import { z } from "zod";

/**
 * Schema of `blueprint:cluster`: where the environment's Kubernetes cluster comes from.
 * Only `components/cluster/` interprets the cloud-specific parts.
 */

/** A Kubernetes minor version such as `"1.33"`; at least 1.30 (native preStop `sleep`). */
export const kubernetesVersion = z
  .string()
  .regex(/^1\.(3[0-9]|[4-9][0-9])$/, { message: 'must be a pinned Kubernetes minor version from "1.30" up, such as "1.33"' });

/** An existing cluster: a named context of the ambient kubeconfig, or the secret config `blueprint:kubeconfig`. */
export const existingCluster = z.strictObject({
  /** Context name in the ambient kubeconfig (`kubectl config get-contexts`). Omit to use `blueprint:kubeconfig`. */
  context: z.string().min(1).optional(),
  /** Default StorageClass provisioner of this cluster. @default "rancher.io/local-path" (kind) */
  storageProvisioner: z.string().min(1).default("rancher.io/local-path"),
  /** Parameters for that provisioner. */
  storageParameters: z.record(z.string(), z.string()).default({}),
  /** IngressClass name of the cluster's ingress controller. @default "nginx" */
  ingressClass: z.string().min(1).default("nginx"),
  /** Namespace the ingress controller runs in, allowed through each app's NetworkPolicy. @default "ingress-nginx" */
  ingressNamespace: z.string().min(1).default("ingress-nginx"),
});

export const clusterSchema = z.strictObject({
  /** `aws` (EKS), `gcp` (GKE) or `existing` (any cluster reached through a kubeconfig). */
  cloud: z.enum(["aws", "gcp", "existing"]),
  /** Cluster name; defaults to `<project>-<stack>`. */
  name: z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, { message: "must be a lowercase DNS label of at most 40 characters" }).optional(),
  kubernetesVersion,
  existing: existingCluster.optional(),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
