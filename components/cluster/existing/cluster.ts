import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deployAddOns } from "../addon";
import type { ClusterHandle, ClusterVolumeBackups } from "../handle";
import { existingAddOns } from "./addons";
import { veleroPlan } from "./addons/velero";
import type { ExistingKubernetesContext, VeleroBackupArgs } from "./context";

/** Reach a cluster that already exists (kind, minikube, on-premises, or one managed elsewhere). */
export interface ExistingClusterArgs {
  readonly name: string;
  /** A context of the ambient kubeconfig; used when `kubeconfig` is not given. */
  readonly context?: string;
  /** A whole kubeconfig (secret). Rotating a token embedded in it replaces every resource. */
  readonly kubeconfig?: pulumi.Input<string>;
  readonly storageProvisioner: string;
  readonly storageParameters: Readonly<Record<string, string>>;
  readonly ingressClass: string;
  readonly ingressNamespace: string;
  /** cert-manager ClusterIssuer that issues each Ingress's certificate into its TLS Secret. */
  readonly certificateIssuer?: string;
  /** Daily Velero backups of the team namespaces' volumes (docs/backups.md); none when absent. */
  readonly volumeBackups?: VeleroBackupArgs;
}

/**
 * The parent of the platform's add-ons on an existing cluster (./addons). The cluster's provider
 * stays outside it: it was registered without a parent before the add-ons existed, and a new
 * parent would change its URN and so replace every Kubernetes object of the stack.
 */
export class ExistingClusterAddOns extends pulumi.ComponentResource {
  /** What the add-ons run for the team volumes, when they back them up. */
  public readonly volumeBackups?: ClusterVolumeBackups;

  /** `context.name` is the cluster's: the add-ons' resources are named after it, not after this component. */
  constructor(name: string, context: ExistingKubernetesContext, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:cluster:ExistingAddOns", name, {}, opts);
    deployAddOns(existingAddOns, context, this);
    this.volumeBackups = context.volumeBackups ? veleroPlan(context.name, context.volumeBackups) : undefined;
    this.registerOutputs({});
  }
}

/** A {@link ClusterHandle} for an existing cluster, reached through a kubeconfig. */
export function existingCluster(args: ExistingClusterArgs, opts?: pulumi.CustomResourceOptions): ClusterHandle {
  // Through a context there is no kubeconfig to give (the ambient one stays where it is).
  const kubeconfig = args.kubeconfig !== undefined ? pulumi.secret(pulumi.output(args.kubeconfig)) : undefined;
  const provider = new k8s.Provider(
    `${args.name}-k8s`,
    {
      ...(kubeconfig !== undefined ? { kubeconfig } : { context: args.context }),
      enableServerSideApply: true,
      // The cluster's name, not its credential, decides whether this is another cluster: rotating a
      // token in the kubeconfig then updates the provider instead of replacing every object.
      clusterIdentifier: args.name,
    },
    opts,
  );
  const addOns = new ExistingClusterAddOns(`${args.name}-addons`, {
    name: args.name,
    provider,
    volumeBackups: args.volumeBackups,
  });
  return {
    cloud: "existing",
    name: pulumi.output(args.name),
    provider,
    clusterIdentifier: pulumi.output(args.name),
    context: kubeconfig === undefined ? args.context : undefined,
    kubeconfig,
    // The cluster keeps its own default StorageClass (kind's `standard`, or whatever its owner chose).
    storage: {
      provisioner: args.storageProvisioner,
      parameters: args.storageParameters,
      isDefault: false,
      annotations: storageAnnotations(args),
    },
    ingress: {
      className: args.ingressClass,
      annotations: {},
      allowFrom: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.ingressNamespace } } }],
      // The certificate lives in a Secret: issued by cert-manager when an issuer is configured,
      // otherwise created by whoever runs the cluster.
      host: () => ({
        annotations: args.certificateIssuer
          ? { "cert-manager.io/cluster-issuer": args.certificateIssuer }
          : ({} as Record<string, string>),
        tls: "secret",
      }),
      serviceAnnotations: {},
      dependsOn: [],
    },
    // The cluster's controllers are not the platform's: nothing of theirs to order against.
    finalizerOwners: [],
    // Not a cloud cluster: apps have no cloud identity to reach.
    cloudIdentityEgress: [],
    groupAccess: {},
    identityOutputs: {},
    mirrors: {},
    pullReference: (released) => released,
    // Not created here, so not deleted here either: nothing to guard.
    safety: { protect: false, deletionProtection: false },
    bindWorkloadIdentity: () => ({}),
    volumeBackups: addOns.volumeBackups,
  };
}

/** The provisioner of kind and k3s, which makes `hostPath` volumes unless told otherwise. */
export const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";

/**
 * Where Velero backs up volumes by copying their files, local-path must make `local` volumes:
 * Velero's file-system backup skips volumes whose PersistentVolume is `hostPath`, local-path's
 * default, and still reports the backup `Completed` (https://velero.io/docs/v1.18/file-system-backup/#limitations).
 * The StorageClass annotation `defaultVolumeType` switches it
 * (https://github.com/rancher/local-path-provisioner#volume-types). Volumes made before keep
 * their type.
 */
function storageAnnotations(args: ExistingClusterArgs): Readonly<Record<string, string>> | undefined {
  return args.volumeBackups && args.storageProvisioner === LOCAL_PATH_PROVISIONER
    ? { defaultVolumeType: "local" }
    : undefined;
}
