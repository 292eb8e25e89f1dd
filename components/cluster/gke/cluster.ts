import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deployAddOns } from "../addon";
import { publicInternetEgress } from "../egress";
import type {
  ClusterHandle,
  ClusterSafety,
  GcpDataNetwork,
  IngressHostRequest,
  WorkloadIdentityBinding,
} from "../handle";
import { execKubeconfig, gkeExec } from "../kubeconfig";
import { pullReference, type RegistryMirror } from "../registry";
import { gkeWorkloadIdentity } from "./access";
import { groupResourceName } from "../../../lib/names";
import { gkeAddOns } from "./addons";
import type { GkeAddOnContext } from "./context";
import { gkeControlPlane, gkeLocation, gkeSafety, gkeSecretsKey } from "./control-plane";
import { gkeDefaults, type GkeClusterArgs } from "./defaults";
import { ingressAddress, managedCertificate } from "./ingress";
import { gkeNetwork } from "./network";
import { gkeNodeAccount, gkeNodePools } from "./nodes";

/**
 * A GKE Standard cluster on a VPC-native network, hardened: private nodes (Cloud NAT for egress),
 * private or allow-listed API endpoint, Workload Identity, shielded nodes with secure boot,
 * Dataplane V2 (network policy enforcement), application-layer Secret encryption with a rotating
 * KMS key, Cloud Logging and Monitoring, no client certificate, no legacy ABAC, Google Groups for
 * RBAC, and deletion protection in production. The parts live beside this file (network, control
 * plane, nodes, access, ingress), the add-ons in `addons/`.
 */
export class GkeCluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly clusterId: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly safety: ClusterSafety;
  public readonly mirror?: RegistryMirror;
  /** What an Ingress needs before it is created and until it is deleted (none: GKE's controller runs outside the cluster). */
  public readonly ingressDependencies: readonly pulumi.Resource[];
  /** Controllers whose finalizers objects in team namespaces need, installed as add-ons. */
  public readonly finalizerOwners: readonly pulumi.Resource[];
  /** `<project>.svc.id.goog`: the Workload Identity pool IAM bindings name principals in. */
  public readonly workloadPool: pulumi.Output<string>;
  private readonly gcpProvider: gcp.Provider;
  /** Where managed backing services of the environment go. */
  public readonly dataNetwork: GcpDataNetwork;
  private readonly cluster: gcp.container.Cluster;
  private readonly project: string;
  private readonly resourceName: string;

  private constructor(
    name: string,
    args: GkeClusterArgs,
    gcpProvider: gcp.Provider,
    projectNumber: string,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("blueprint:cluster:Gke", name, {}, opts);
    const project = args.gcp.project;
    this.gcpProvider = gcpProvider;
    this.project = project;
    this.resourceName = name;
    const o = { parent: this, provider: gcpProvider };
    this.safety = gkeSafety(args.production);

    const { network, subnet } = gkeNetwork(name, args, o);
    const secrets = gkeSecretsKey(name, args, projectNumber, o);
    const nodeAccount = gkeNodeAccount(name, args, o);
    const context: GkeAddOnContext = {
      name,
      args,
      gcpProvider,
      projectNumber,
      network,
      subnet,
      secretsKey: secrets.key,
      nodeMember: nodeAccount.member,
    };
    const beforeNodes = deployAddOns(gkeAddOns.beforeNodes, context, this);

    const cluster = gkeControlPlane(
      name,
      args,
      {
        network,
        subnet,
        secretsKey: secrets.key,
        nodeAccountEmail: nodeAccount.account.email,
        waitFor: [secrets.grant, ...nodeAccount.grants, ...beforeNodes.nodesWaitFor],
      },
      this.safety,
      o,
    );
    this.clusterName = cluster.name;
    this.cluster = cluster;
    this.clusterId = cluster.id;
    this.dataNetwork = {
      cloud: "gcp",
      provider: gcpProvider,
      project,
      region: args.gcp.region,
      projectNumber,
      networkId: network.id,
      clusterId: cluster.id,
    };
    // The pool exists once the cluster does (it is created with Workload Identity on).
    this.workloadPool = cluster.workloadIdentityConfig.apply((w) => w?.workloadPool ?? `${project}.svc.id.goog`);

    const nodePools = gkeNodePools(name, args, cluster, nodeAccount.account, o);
    // GKE checks container.clusters.get on the project before Kubernetes RBAC is consulted, so a
    // Google Group bound only by a RoleBinding cannot even fetch the cluster's credentials
    // ("Role-based access control", https://cloud.google.com/kubernetes-engine/docs/how-to/role-based-access-control#iam-interaction).
    // roles/container.clusterViewer grants that and nothing that reaches into the cluster
    // (https://cloud.google.com/kubernetes-engine/docs/how-to/iam#predefined).
    for (const group of [...new Set(args.teamGroups ?? [])].sort()) {
      new gcp.projects.IAMMember(
        `${name}-cluster-viewer-${groupResourceName(group)}`,
        {
          project,
          role: "roles/container.clusterViewer",
          member: `group:${group}`,
        },
        o,
      );
    }
    const nodesContext = { ...context, cluster, nodePools, workloadPool: this.workloadPool };
    const afterNodes = deployAddOns(gkeAddOns.afterNodes, nodesContext, this, beforeNodes);

    // --- Kubernetes access: exec auth with gke-gcloud-auth-plugin; only stable fields, no token.
    const { location } = gkeLocation(args.gcp);
    this.kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, cluster.masterAuth]).apply(([n, endpoint, auth]) =>
        execKubeconfig({
          name: `gke_${project}_${location}_${n}`,
          server: `https://${endpoint}`,
          certificateAuthorityData: auth?.clusterCaCertificate ?? "",
          exec: gkeExec(),
        }),
      ),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        enableServerSideApply: true,
        // Only a new cluster replaces the provider (and every object on it); a kubeconfig change is an update.
        clusterIdentifier: cluster.id,
        // Outside production a cluster deleted behind Pulumi's back should not block `pulumi destroy`.
        deleteUnreachable: !args.production,
      },
      { parent: this, dependsOn: [...nodePools, ...afterNodes.kubernetesWaitsFor] },
    );

    const all = deployAddOns(gkeAddOns.onKubernetes, { ...nodesContext, provider: this.provider }, this, afterNodes);
    this.ingressDependencies = all.ingressDependencies;
    this.finalizerOwners = all.finalizerOwners;
    this.mirror = all.mirror;

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      workloadPool: this.workloadPool,
    });
  }

  /** Looks up the project number (for the GKE service agent), then declares the cluster. */
  static async create(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<GkeCluster> {
    const gcpProvider = new gcp.Provider(`${name}-gcp`, {
      project: args.gcp.project,
      region: args.gcp.region,
      defaultLabels: { "blueprint-cluster": args.name, ...args.labels },
    });
    const project = await gcp.organizations.getProject({ projectId: args.gcp.project }, { provider: gcpProvider });
    return new GkeCluster(name, args, gcpProvider, String(project.number), opts);
  }

  /**
   * Lets a Kubernetes ServiceAccount act as a Google service account (Workload Identity): grants
   * `roles/iam.workloadIdentityUser` to the ServiceAccount's principal and returns its annotation.
   */
  bindWorkloadIdentity(b: WorkloadIdentityBinding): Record<string, string> {
    return gkeWorkloadIdentity(
      {
        name: this.resourceName,
        project: this.project,
        gcpProvider: this.gcpProvider,
        cluster: this.cluster,
        parent: this,
      },
      b,
    );
  }

  /** A reserved global address for one app's Ingress, so DNS for its host survives the Ingress being re-created. */
  address(req: IngressHostRequest): Record<string, pulumi.Output<string>> {
    return ingressAddress(this.resourceName, this.project, req, { parent: this, provider: this.gcpProvider });
  }
}

/**
 * What a pod bound to a Google service account needs: the GKE metadata server, which hands out its
 * tokens (169.254.169.254:80, and 169.254.169.252:988 under Dataplane V2), and Google APIs over
 * HTTPS on public addresses (Private Google Access routes them from private nodes). See "If you use
 * network policies" in https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity.
 */
export const gkeCloudIdentityEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [
  { to: [{ ipBlock: { cidr: "169.254.169.254/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
  { to: [{ ipBlock: { cidr: "169.254.169.252/32" } }], ports: [{ protocol: "TCP", port: 988 }] },
  publicInternetEgress(443),
];

/** The {@link ClusterHandle} of a GKE cluster. */
export async function gkeCluster(args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<ClusterHandle> {
  const c = await GkeCluster.create(args.name, args, opts);
  return {
    cloud: "gcp",
    name: c.clusterName,
    provider: c.provider,
    clusterIdentifier: c.clusterId,
    kubeconfig: c.kubeconfig,
    storage: {
      provisioner: gkeDefaults.storage.provisioner,
      parameters: { ...gkeDefaults.storage.parameters },
      isDefault: true,
    },
    ingress: {
      annotations: { ...gkeDefaults.ingressAnnotations },
      allowFrom: gkeDefaults.loadBalancerRanges.map((cidr) => ({ ipBlock: { cidr } })),
      host: (req) => ({
        annotations: { ...managedCertificate(req, c.provider), ...c.address(req) },
        tls: "annotation",
      }),
      // Behind NEGs, GKE derives the load balancer's health check from the pods' readiness probe, so
      // the readiness path needs no annotation.
      serviceAnnotations: { ...gkeDefaults.negAnnotation },
      // GKE Ingress is served by Google's own controller, outside the cluster: nothing to wait for
      // unless an add-on installs one.
      dependsOn: c.ingressDependencies,
    },
    // GKE's Ingress controller and PD CSI driver are managed by GKE and live as long as the
    // cluster; the namespaces already depend on it through the provider.
    finalizerOwners: c.finalizerOwners,
    cloudIdentityEgress: gkeCloudIdentityEgress,
    groupAccess: Object.fromEntries((args.teamGroups ?? []).map((g) => [g, g])),
    identityOutputs: { workloadIdentityPool: c.workloadPool },
    registry: c.mirror?.registry,
    mirrors: c.mirror ? { [c.mirror.upstream]: c.mirror.registry } : {},
    pullReference: (released) => pullReference(released, c.mirror),
    safety: c.safety,
    bindWorkloadIdentity: (binding) => c.bindWorkloadIdentity(binding),
    dataNetwork: c.dataNetwork,
  };
}
