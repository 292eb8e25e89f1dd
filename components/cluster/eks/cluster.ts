import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { deployAddOns } from "../addon";
import { publicInternetEgress } from "../egress";
import type { AwsDataNetwork, ClusterHandle, ClusterSafety } from "../handle";
import { awsExec, execKubeconfig } from "../kubeconfig";
import { pullReference, type RegistryMirror } from "../registry";
import { eksAccessEntries } from "./access";
import { eksAddOns } from "./addons";
import { awsFacts, type AwsFacts, type EksAddOnContext } from "./context";
import { eksControlPlane, eksSafety } from "./control-plane";
import { eksDefaults, type EksClusterArgs } from "./defaults";
import { eksNetwork } from "./network";
import { eksNodeGroups, eksNodeRole } from "./nodes";

/**
 * An EKS cluster with its own VPC, hardened: private endpoint (public access only from listed
 * networks), KMS envelope encryption of Secrets with key rotation, control-plane audit logs,
 * IAM access entries (no aws-auth ConfigMap), IRSA, managed add-ons with their own roles, IMDSv2-only
 * encrypted nodes, network policy enforcement in the VPC CNI, and deletion protection in production.
 * The parts live beside this file (network, control plane, nodes, access), the add-ons in `addons/`.
 */
export class EksCluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  public readonly clusterArn: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  public readonly oidcProviderArn: pulumi.Output<string>;
  /** The cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/<id>`), for IRSA trust policies. */
  public readonly oidcIssuer: pulumi.Output<string>;
  public readonly safety: ClusterSafety;
  /** What an Ingress needs before it is created and until it is deleted: the load balancer controller. */
  public readonly ingressDependencies: readonly pulumi.Resource[];
  /** Controllers whose finalizers objects in team namespaces need (the load balancer controller, the EBS CSI driver). */
  public readonly finalizerOwners: readonly pulumi.Resource[];
  /** The mirror nodes pull from, when `registryMirror` is configured. */
  public readonly mirror?: RegistryMirror;
  /** Private subnet blocks, one per zone; ALB targets (pods) live here. */
  public readonly subnetPlan: { readonly private: string[]; readonly public: string[] };
  /** Where managed backing services of the environment go. */
  public readonly dataNetwork: AwsDataNetwork;
  /** The IAM role each team group's members sign in as (its access entry carries the group). */
  public readonly groupRoles: Readonly<Record<string, pulumi.Input<string>>>;

  private constructor(
    name: string,
    args: EksClusterArgs,
    awsProvider: aws.Provider,
    facts: AwsFacts,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("blueprint:cluster:Eks", name, {}, opts);
    const o = { parent: this, provider: awsProvider };
    this.safety = eksSafety(args.production);

    const network = eksNetwork(name, args, facts.zones, o);
    this.subnetPlan = network.plan;
    const control = eksControlPlane(name, args, facts, network.privateSubnets, this.safety, o);
    const cluster = control.cluster;
    this.clusterName = cluster.name;
    this.clusterArn = cluster.arn;
    this.oidcIssuer = control.issuer;
    this.oidcProviderArn = control.oidcProvider.arn;
    this.dataNetwork = {
      cloud: "aws",
      provider: awsProvider,
      region: args.aws.region,
      vpcId: network.vpc.id,
      privateSubnetIds: network.privateSubnets.map((s) => s.id),
      privateSubnetCidrs: network.plan.private,
      clusterSecurityGroupId: cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? ""),
    };
    const nodeRole = eksNodeRole(name, facts, o);

    const context: EksAddOnContext = {
      name,
      args,
      facts,
      awsProvider,
      cluster,
      vpcId: network.vpc.id,
      secretsKey: control.secretsKey,
      nodeRole: nodeRole.role,
      oidc: { providerArn: control.oidcProvider.arn, issuerHost: control.issuerHost },
    };
    const beforeNodes = deployAddOns(eksAddOns.beforeNodes, context, this);
    const nodeGroups = eksNodeGroups(
      name,
      args,
      {
        cluster,
        nodeRole: nodeRole.role,
        zones: facts.zones,
        privateSubnets: network.privateSubnets,
        waitFor: [...nodeRole.policies, ...beforeNodes.nodesWaitFor],
      },
      o,
    );
    const afterNodes = deployAddOns(eksAddOns.afterNodes, { ...context, nodeGroups }, this, beforeNodes);
    const { entries: accessEntries, groupRoles } = eksAccessEntries(name, args, facts, cluster, o);
    this.groupRoles = groupRoles;

    // --- Kubernetes access: exec auth with `aws eks get-token`; only stable fields, no token.
    this.kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, cluster.certificateAuthority]).apply(([n, endpoint, ca]) =>
        execKubeconfig({
          name: n,
          server: endpoint,
          certificateAuthorityData: ca?.data ?? "",
          exec: awsExec(n, args.aws.region),
        }),
      ),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        enableServerSideApply: true,
        // Only a new cluster replaces the provider (and so every object on it); a changed
        // credential or kubeconfig text is an update (pulumi-kubernetes#1148, #2745).
        clusterIdentifier: cluster.arn,
        // Outside production a cluster deleted behind Pulumi's back should not block `pulumi destroy`.
        deleteUnreachable: !args.production,
      },
      {
        parent: this,
        dependsOn: [...nodeGroups, ...afterNodes.kubernetesWaitsFor, ...accessEntries],
      },
    );

    const all = deployAddOns(
      eksAddOns.onKubernetes,
      { ...context, nodeGroups, provider: this.provider },
      this,
      afterNodes,
    );
    this.ingressDependencies = all.ingressDependencies;
    this.finalizerOwners = all.finalizerOwners;
    this.mirror = all.mirror;

    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      oidcProviderArn: this.oidcProviderArn,
      oidcIssuer: this.oidcIssuer,
    });
  }

  /** Looks up the account, partition and zones through the cluster's own AWS provider, then declares the cluster. */
  static async create(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<EksCluster> {
    const awsProvider = new aws.Provider(`${name}-aws`, {
      region: args.aws.region as aws.Region,
      defaultTags: { tags: { "blueprint:cluster": args.name, ...args.tags } },
    });
    return new EksCluster(name, args, awsProvider, await awsFacts(args, awsProvider), opts);
  }
}

/**
 * What a pod bound to an IAM role needs: IRSA exchanges its token at the regional STS endpoint,
 * and the SDK then calls AWS APIs, both over HTTPS on public addresses. NetworkPolicy cannot name
 * them, so HTTPS is open to public addresses only: private ranges (the VPC, other namespaces) and
 * link-local (instance metadata) stay closed
 * (https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html).
 */
export const eksCloudIdentityEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [
  publicInternetEgress(443),
];

/** The {@link ClusterHandle} of an EKS cluster. */
export async function eksCluster(args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions): Promise<ClusterHandle> {
  const c = await EksCluster.create(args.name, args, opts);
  return {
    cloud: "aws",
    name: c.clusterName,
    provider: c.provider,
    clusterIdentifier: c.clusterArn,
    kubeconfig: c.kubeconfig,
    // EKS has had no default StorageClass since 1.30 (gp2 is no longer marked default).
    storage: {
      provisioner: eksDefaults.storage.provisioner,
      parameters: { ...eksDefaults.storage.parameters },
      isDefault: true,
    },
    ingress: {
      className: eksDefaults.ingressClass,
      annotations: { ...eksDefaults.ingressAnnotations },
      // With IP targets the ALB connects to pods from its network interfaces in the public subnets.
      allowFrom: c.subnetPlan.public.map((cidr) => ({ ipBlock: { cidr } })),
      // The controller finds the ACM certificate for the hosts in spec.tls; no Secret is involved.
      host: () => ({ annotations: {}, tls: "host" }),
      serviceAnnotations: {},
      // The ALB health-checks the pods where Kubernetes does: the readiness path (the default is `/`).
      healthCheck: {
        pathAnnotation: "alb.ingress.kubernetes.io/healthcheck-path",
        portAnnotation: "alb.ingress.kubernetes.io/healthcheck-port",
      },
      dependsOn: c.ingressDependencies,
    },
    finalizerOwners: c.finalizerOwners,
    cloudIdentityEgress: eksCloudIdentityEgress,
    groupAccess: c.groupRoles,
    identityOutputs: { oidcProviderArn: c.oidcProviderArn, oidcIssuer: c.oidcIssuer },
    registry: c.mirror?.registry,
    mirrors: c.mirror ? { [c.mirror.upstream]: c.mirror.registry } : {},
    pullReference: (released) => pullReference(released, c.mirror),
    safety: c.safety,
    bindWorkloadIdentity: (binding) => ({ "eks.amazonaws.com/role-arn": binding.cloudIdentity }),
    dataNetwork: c.dataNetwork,
  };
}
