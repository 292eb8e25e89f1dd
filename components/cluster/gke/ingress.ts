import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { IngressHostRequest } from "../handle";

/**
 * A reserved global address for one app's Ingress: DNS for its host (and so its Google-managed
 * certificate, which is provisioned only once DNS points at the load balancer) stays valid when
 * the Ingress is re-created (https://cloud.google.com/kubernetes-engine/docs/tutorials/configuring-domain-name-static-ip).
 */
export function ingressAddress(
  name: string,
  project: string,
  req: IngressHostRequest,
  o: pulumi.CustomResourceOptions,
): Record<string, pulumi.Output<string>> {
  const address = new gcp.compute.GlobalAddress(
    `${name}-ingress-${req.name}`,
    {
      project,
      addressType: "EXTERNAL",
      ipVersion: "IPV4",
      description: `Ingress of ${req.host}`,
    },
    o,
  );
  return { "kubernetes.io/ingress.global-static-ip-name": address.name };
}

/**
 * A Google-managed certificate for one app's host, attached to its Ingress by annotation. GKE
 * Ingress takes certificates from Secrets or from ManagedCertificates; this way nobody has to
 * create and rotate a Secret, and the Ingress has no `spec.tls` that points at a missing one.
 */
export function managedCertificate(
  req: IngressHostRequest,
  provider: k8s.Provider,
): Record<string, pulumi.Output<string>> {
  const name = `${req.name}-cert`;
  const cert = new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "networking.gke.io/v1",
      kind: "ManagedCertificate",
      metadata: { name, namespace: req.namespace, labels: { "app.kubernetes.io/managed-by": "pulumi" } },
      spec: { domains: [req.host] },
    },
    { provider },
  );
  return { "networking.gke.io/managed-certificates": cert.metadata.name };
}
