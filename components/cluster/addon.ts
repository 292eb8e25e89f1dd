import type * as pulumi from "@pulumi/pulumi";
import type { RegistryMirror } from "./registry";

/**
 * One cluster add-on: what it needs from the cluster (the cloud's context `Context`: provider,
 * OIDC or Workload Identity, node role, KMS key, region...), what it adds to the
 * {@link ClusterHandle}, and what must wait for it. Each add-on is one file under
 * `components/cluster/<cloud>/addons/`, listed once in that folder's `index.ts`.
 */
export interface AddOn<Context> {
  /** Short name, as the add-on list and the docs call it (e.g. `load-balancer-controller`). */
  readonly name: string;
  /**
   * Registers the add-on's resources with `parent` as their parent (resource names are prefixed
   * with the cluster's, so URNs do not depend on where the add-on's file lives), and returns
   * what the cluster and its handle gain. An add-on that is off for this cluster returns `{}`.
   */
  deploy(cluster: Context, parent: pulumi.Resource): AddOnResult;
}

/** What one add-on gives back: what waits for it, and what it adds to the {@link ClusterHandle}. */
export interface AddOnResult {
  /** Resources the cluster's nodes are created after: a CNI nodes need to become Ready, IAM grants nodes pull with. */
  readonly nodesWaitFor?: readonly pulumi.Resource[];
  /** Resources the cluster's Kubernetes provider (and so every Kubernetes object) waits for: only what nothing works without. */
  readonly kubernetesWaitsFor?: readonly pulumi.Resource[];
  /** Resources every Ingress is created after and deleted before (an ingress controller's admission webhook and finalizer). */
  readonly ingressDependencies?: readonly pulumi.Resource[];
  /**
   * Controllers whose finalizers objects in team namespaces need (a load balancer controller for
   * Ingresses, a CSI driver for volumes). Team Namespaces depend on them, so a destroy deletes the
   * namespaces, and everything in them, while the controllers still run: no cloud resource leaks.
   */
  readonly finalizerOwners?: readonly pulumi.Resource[];
  /** The registry mirror nodes pull through, when the add-on provides one. */
  readonly mirror?: RegistryMirror;
}

/** What a list of add-ons gave, merged: every list concatenated, in the add-ons' order. */
export interface AddOnResults {
  readonly nodesWaitFor: readonly pulumi.Resource[];
  readonly kubernetesWaitsFor: readonly pulumi.Resource[];
  readonly ingressDependencies: readonly pulumi.Resource[];
  readonly finalizerOwners: readonly pulumi.Resource[];
  readonly mirror?: RegistryMirror;
}

/** No add-on yet: the start of a merge. */
export const noAddOnResults: AddOnResults = {
  nodesWaitFor: [],
  kubernetesWaitsFor: [],
  ingressDependencies: [],
  finalizerOwners: [],
};

/**
 * Deploys `addOns` in order and merges what they give onto `before`. Two add-ons that both
 * provide a registry mirror are a programming error: the handle has room for one.
 */
export function deployAddOns<Context>(
  addOns: readonly AddOn<Context>[],
  cluster: Context,
  parent: pulumi.Resource,
  before: AddOnResults = noAddOnResults,
): AddOnResults {
  return addOns.reduce<AddOnResults>((acc, addOn) => {
    const r = addOn.deploy(cluster, parent);
    if (r.mirror && acc.mirror)
      throw new Error(`add-on ${addOn.name} provides a registry mirror, but another add-on already did`);
    return {
      nodesWaitFor: [...acc.nodesWaitFor, ...(r.nodesWaitFor ?? [])],
      kubernetesWaitsFor: [...acc.kubernetesWaitsFor, ...(r.kubernetesWaitsFor ?? [])],
      ingressDependencies: [...acc.ingressDependencies, ...(r.ingressDependencies ?? [])],
      finalizerOwners: [...acc.finalizerOwners, ...(r.finalizerOwners ?? [])],
      mirror: r.mirror ?? acc.mirror,
    };
  }, before);
}

/**
 * The add-ons of one cloud, in the three moments of a cluster's creation: before its nodes
 * (nodes wait for what they give in `nodesWaitFor`), once nodes exist (their pods need somewhere
 * to run), and on the cluster's Kubernetes provider (Helm releases and Kubernetes objects).
 */
export interface AddOnList<Before, AfterNodes, OnKubernetes> {
  readonly beforeNodes: readonly AddOn<Before>[];
  readonly afterNodes: readonly AddOn<AfterNodes>[];
  readonly onKubernetes: readonly AddOn<OnKubernetes>[];
}
