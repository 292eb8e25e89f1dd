import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../lib/errors";
import type { AwsClusterConfig } from "../../lib/cluster-config";
import { groupResourceName } from "../../lib/names";
import { formatCidr, parseCidr, subdivide } from "../../lib/cidr";
import { clusterAutoscalerImageTag } from "../../lib/kubernetes-versions";
import type { AwsDataNetwork, ClusterHandle, ClusterSafety } from "./handle";
import { awsExec, execKubeconfig } from "./kubeconfig";
import { mirrorName, pullReference, type RegistryMirror } from "./registry";

/** Defaults of an {@link EksCluster}, in one visible place. */
export const eksDefaults = {
  /** Control-plane log types shipped to CloudWatch. */
  logTypes: ["api", "audit", "authenticator"],
  logRetentionDays: { production: 90, other: 30 },
  kmsDeletionWindowDays: { production: 30, other: 7 },
  /** Installed before the node groups: nodes need a CNI to become Ready. */
  addonsBeforeNodes: ["vpc-cni", "kube-proxy"],
  /** Installed once nodes exist (their pods need somewhere to run). */
  addonsAfterNodes: ["coredns", "aws-ebs-csi-driver", "metrics-server", "amazon-cloudwatch-observability"],
  /**
   * Add-ons the Kubernetes provider waits for: without a CNI, kube-proxy and DNS nothing the
   * program applies can work. The others are optional: one of them degraded must not block every
   * Kubernetes object, so they install beside the platform instead of in front of it.
   */
  addonsGatingKubernetes: ["vpc-cni", "kube-proxy", "coredns"],
  /**
   * IMDSv2 hop limit of the nodes. 2, not 1: the CloudWatch agent and Fluent Bit of the
   * observability add-on run in pods and read instance metadata through IMDSv2, which needs a
   * second hop from a container (aws/amazon-cloudwatch-agent#480; EKS's own default is 2). App
   * pods still cannot reach IMDS: their namespaces deny all egress that is not listed, the config
   * rules refuse link-local egress CIDRs, and wider ones have link-local carved out.
   */
  imdsHopLimit: 2,
  /** Log shipping (Fluent Bit) and Container Insights metrics: apps write to stdout, the platform ships it. */
  observability: { namespace: "amazon-cloudwatch", serviceAccount: "cloudwatch-agent", policy: "CloudWatchAgentServerPolicy" },
  /** Node autoscaling: Cluster Autoscaler scales the managed node groups within their configured bounds. */
  clusterAutoscaler: { repo: "https://kubernetes.github.io/autoscaler", chart: "cluster-autoscaler", version: "9.50.1", serviceAccount: "cluster-autoscaler" },
  /** Ingress: the AWS Load Balancer Controller turns each Ingress into an ALB with IP targets. */
  loadBalancerController: { repo: "https://aws.github.io/eks-charts", chart: "aws-load-balancer-controller", version: "1.14.1", serviceAccount: "aws-load-balancer-controller" },
  ebsCsiServiceAccount: "ebs-csi-controller-sa",
  vpcCniServiceAccount: "aws-node",
  /** Encrypted gp3 volumes (AWS-managed EBS key) through the EBS CSI driver. */
  storage: { provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" } },
  ingressClass: "alb",
  ingressAnnotations: {
    "alb.ingress.kubernetes.io/scheme": "internet-facing",
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
  },
} as const;

/** Arguments of an {@link EksCluster}. */
export interface EksClusterArgs {
  /** EKS cluster name (also used in resource names and tags). */
  readonly name: string;
  readonly kubernetesVersion: string;
  readonly production: boolean;
  readonly aws: AwsClusterConfig & { readonly region: string };
  /** Team groups: each becomes the Kubernetes group of an IAM principal's access entry. */
  readonly teamGroups: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** The stack file, for configuration errors found only by asking AWS. */
  readonly configFile?: string;
  /** Stay on a minor past its end of standard support, paying for EKS extended support. @default false */
  readonly extendedSupport?: boolean;
}

/** Subnet blocks carved from the VPC: private (nodes, pods) per zone, and small public ones (NAT, ALBs). */
export function eksSubnetPlan(vpcCidr: string, zones: number): { readonly private: string[]; readonly public: string[] } {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new RangeError(`not a CIDR: ${vpcCidr}`);
  const privateBlocks = Array.from({ length: zones }, (_, i) => formatCidr(subdivide(vpc, 3, i)));
  const publicRange = subdivide(vpc, 3, 7);
  const publicBlocks = Array.from({ length: zones }, (_, i) => formatCidr(subdivide(publicRange, 3, i)));
  return { private: privateBlocks, public: publicBlocks };
}

/** Engine and cloud deletion guards for an EKS cluster. */
export function eksSafety(production: boolean): ClusterSafety {
  return { protect: production, deletionProtection: production };
}

/**
 * An EKS cluster with its own VPC, hardened: private endpoint (public access only from listed
 * networks), KMS envelope encryption of Secrets with key rotation, control-plane audit logs,
 * IAM access entries (no aws-auth ConfigMap), IRSA, managed add-ons with their own roles, IMDSv2-only
 * encrypted nodes, network policy enforcement in the VPC CNI, and deletion protection in production.
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
  public readonly ingressDependencies: pulumi.Resource[];
  /** The mirror nodes pull from, when `registryMirror` is configured. */
  public readonly mirror?: RegistryMirror;
  /** Private subnet blocks, one per zone; ALB targets (pods) live here. */
  public readonly subnetPlan: { readonly private: string[]; readonly public: string[] };
  /** Where managed backing services of the environment go. */
  public readonly dataNetwork: AwsDataNetwork;

  private constructor(name: string, args: EksClusterArgs, awsProvider: aws.Provider, facts: AwsFacts, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:cluster:Eks", name, {}, opts);
    const cfg = args.aws;
    const region = cfg.region;
    const { partition, accountId, dnsSuffix, zones } = facts;
    const o = { parent: this, provider: awsProvider };
    const arn = (service: string, resource: string) => `arn:${partition}:${service}::${resource}`;
    const managedPolicy = (policy: string) => arn("iam", `aws:policy/${policy}`);
    this.safety = eksSafety(args.production);

    // --- Network: private subnets for nodes and pods, public subnets for NAT and internet-facing ALBs.
    const plan = eksSubnetPlan(cfg.vpcCidr, cfg.zones);
    this.subnetPlan = plan;
    const clusterTag = { [`kubernetes.io/cluster/${args.name}`]: "shared" };
    const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
      cidrBlock: cfg.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${args.name}` },
    }, o);
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: args.name } }, o);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: `${args.name}-public` },
    }, o);
    const perZoneNat = (cfg.natGateways ?? (args.production ? "perZone" : "single")) === "perZone";
    const publicSubnets: aws.ec2.Subnet[] = [];
    const privateSubnets: aws.ec2.Subnet[] = [];
    const nats: aws.ec2.NatGateway[] = [];
    zones.forEach((zone, i) => {
      const pub = new aws.ec2.Subnet(`${name}-public-${zone}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: plan.public[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${args.name}-public-${zone}`, "kubernetes.io/role/elb": "1", ...clusterTag },
      }, o);
      new aws.ec2.RouteTableAssociation(`${name}-public-${zone}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, o);
      publicSubnets.push(pub);
      if (i === 0 || perZoneNat) {
        const eip = new aws.ec2.Eip(`${name}-nat-${zone}`, { domain: "vpc", tags: { Name: `${args.name}-nat-${zone}` } }, o);
        nats.push(new aws.ec2.NatGateway(`${name}-nat-${zone}`, { subnetId: pub.id, allocationId: eip.id, tags: { Name: `${args.name}-${zone}` } }, { ...o, dependsOn: [igw] }));
      }
      const priv = new aws.ec2.Subnet(`${name}-private-${zone}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: plan.private[i],
        tags: { Name: `${args.name}-private-${zone}`, "kubernetes.io/role/internal-elb": "1", ...clusterTag },
      }, o);
      const routes = new aws.ec2.RouteTable(`${name}-private-${zone}`, {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[perZoneNat ? i : 0].id }],
        tags: { Name: `${args.name}-private-${zone}` },
      }, o);
      new aws.ec2.RouteTableAssociation(`${name}-private-${zone}`, { subnetId: priv.id, routeTableId: routes.id }, o);
      privateSubnets.push(priv);
    });

    // --- Control plane.
    const logGroupName = `/aws/eks/${args.name}/cluster`;
    const secretsKey = new aws.kms.Key(`${name}-secrets`, {
      description: `Envelope encryption of Kubernetes Secrets and control-plane logs of EKS cluster ${args.name}`,
      enableKeyRotation: true,
      deletionWindowInDays: args.production ? eksDefaults.kmsDeletionWindowDays.production : eksDefaults.kmsDeletionWindowDays.other,
      policy: JSON.stringify(clusterKeyPolicy({ partition, accountId, region, dnsSuffix, logGroupName })),
    }, { ...o, protect: args.production });
    new aws.kms.Alias(`${name}-secrets`, { name: `alias/eks/${args.name}-secrets`, targetKeyId: secretsKey.keyId }, o);

    const clusterRole = new aws.iam.Role(`${name}-cluster`, {
      assumeRolePolicy: JSON.stringify(servicePrincipalTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"])),
    }, o);
    const clusterPolicy = new aws.iam.RolePolicyAttachment(`${name}-cluster`, { role: clusterRole.name, policyArn: managedPolicy("AmazonEKSClusterPolicy") }, o);

    // Created first so its retention is ours, not "never expire".
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-control-plane`, {
      name: logGroupName,
      retentionInDays: cfg.logRetentionDays ?? (args.production ? eksDefaults.logRetentionDays.production : eksDefaults.logRetentionDays.other),
      // The audit log names every principal and object: encrypted with the cluster's own key.
      kmsKeyId: secretsKey.arn,
    }, o);

    const publicAccess = cfg.publicAccessCidrs.length > 0;
    const cluster = new aws.eks.Cluster(`${name}-eks`, {
      name: args.name,
      version: args.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: privateSubnets.map((s) => s.id),
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccess,
        publicAccessCidrs: publicAccess ? [...cfg.publicAccessCidrs] : undefined,
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: cfg.serviceCidr, ipFamily: "ipv4" },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: secretsKey.arn } },
      enabledClusterLogTypes: [...eksDefaults.logTypes],
      // The add-ons below replace the self-managed defaults, so they are versioned and configured here.
      bootstrapSelfManagedAddons: false,
      // The config rules refuse a minor past standard support unless extended support is chosen.
      upgradePolicy: { supportType: args.extendedSupport ? "EXTENDED" : "STANDARD" },
      deletionProtection: this.safety.deletionProtection,
    }, { ...o, protect: this.safety.protect, dependsOn: [clusterPolicy, logGroup] });
    this.clusterName = cluster.name;
    this.dataNetwork = {
      cloud: "aws",
      provider: awsProvider,
      vpcId: vpc.id,
      privateSubnetIds: privateSubnets.map((s) => s.id),
      privateSubnetCidrs: plan.private,
      clusterSecurityGroupId: cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? ""),
    };

    const issuer = cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
    this.oidcIssuer = issuer;
    const oidc = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"] }, o);
    this.oidcProviderArn = oidc.arn;
    const issuerHost = issuer.apply((u) => u.replace(/^https:\/\//, ""));

    /** An IAM role only the given Kubernetes ServiceAccount can assume (IRSA). */
    const irsaRole = (id: string, namespace: string, serviceAccount: string, policies: string[], inline?: object) => {
      const role = new aws.iam.Role(`${name}-${id}`, {
        assumeRolePolicy: pulumi.all([oidc.arn, issuerHost]).apply(([providerArn, host]) => JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Principal: { Federated: providerArn },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" } },
          }],
        })),
      }, o);
      policies.forEach((p) => new aws.iam.RolePolicyAttachment(`${name}-${id}-${p}`, { role: role.name, policyArn: managedPolicy(p) }, o));
      if (inline) new aws.iam.RolePolicy(`${name}-${id}`, { role: role.id, policy: JSON.stringify(inline) }, o);
      return role;
    };

    // --- Add-ons that nodes need to become Ready. Network policy enforcement is switched on in the VPC CNI.
    const cniRole = irsaRole("vpc-cni", "kube-system", eksDefaults.vpcCniServiceAccount, ["AmazonEKS_CNI_Policy"]);
    // A pinned version from config, or EKS's default build for this Kubernetes minor: a version
    // upgrade then moves every add-on with it.
    const addonVersion = (addonName: string): pulumi.Input<string> => cfg.addonVersions[addonName]
      ?? aws.eks.getAddonVersionOutput({ addonName, kubernetesVersion: args.kubernetesVersion, mostRecent: false }, { provider: awsProvider }).version;
    const addons = new Map<string, aws.eks.Addon>();
    const addon = (addonName: string, extra: Partial<aws.eks.AddonArgs>, dependsOn: pulumi.Resource[] = []) => {
      const a = new aws.eks.Addon(`${name}-${addonName}`, {
        clusterName: cluster.name,
        addonName,
        addonVersion: addonVersion(addonName),
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        ...extra,
      }, { ...o, dependsOn });
      addons.set(addonName, a);
      return a;
    };
    const earlyAddons = [
      addon("vpc-cni", {
        serviceAccountRoleArn: cniRole.arn,
        configurationValues: JSON.stringify({ enableNetworkPolicy: "true", nodeAgent: { enablePolicyEventLogs: "false" } }),
      }),
      addon("kube-proxy", {}),
    ];

    // --- Nodes: IMDSv2 only, encrypted gp3 root volumes.
    const nodeRole = new aws.iam.Role(`${name}-node`, {
      assumeRolePolicy: JSON.stringify(servicePrincipalTrust("ec2.amazonaws.com", ["sts:AssumeRole"])),
    }, o);
    const nodePolicies: pulumi.Resource[] = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"].map((p) =>
      new aws.iam.RolePolicyAttachment(`${name}-node-${p}`, { role: nodeRole.name, policyArn: managedPolicy(p) }, o));

    const mirror = cfg.registryMirror;
    if (mirror) {
      const prefix = mirror.prefix ?? mirrorName(mirror.upstream);
      new aws.ecr.PullThroughCacheRule(`${name}-mirror`, {
        ecrRepositoryPrefix: prefix,
        upstreamRegistryUrl: mirror.upstream,
        credentialArn: mirror.credentialArn,
      }, o);
      // The first pull of an image through the cache creates its repository: nodes may do that, only under the prefix.
      nodePolicies.push(new aws.iam.RolePolicy(`${name}-node-mirror`, {
        role: nodeRole.id,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Effect: "Allow",
            Action: ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            Resource: `arn:${partition}:ecr:${region}:${accountId}:repository/${prefix}/*`,
          }],
        }),
      }, o));
      this.mirror = { upstream: mirror.upstream, registry: `${accountId}.dkr.ecr.${region}.${dnsSuffix}/${prefix}` };
      // Every image the cache pulls is scanned by Amazon Inspector, continuously, as new CVEs are
      // published (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-enabling.html).
      // The cache creates its repositories on first pull, so the filter is on the prefix, at registry
      // level. This is the registry's one scanning configuration per account and region; turning it
      // on creates Inspector's service-linked role, which the deploying principal must be allowed to
      // (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced-iam.html).
      if (mirror.scanning === "ENHANCED") {
        new aws.ecr.RegistryScanningConfiguration(`${name}-mirror-scanning`, {
          scanType: "ENHANCED",
          rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: `${prefix}/*`, filterType: "WILDCARD" }] }],
        }, o);
      }
    }

    const groupPlan = eksNodeGroupPlan(cfg.nodeGroups, zones, args.production);
    const templates = new Map(Object.entries(cfg.nodeGroups).map(([poolName, pool]) => [poolName, new aws.ec2.LaunchTemplate(`${name}-${poolName}`, {
      description: `Nodes of ${args.name}/${poolName}`,
      updateDefaultVersion: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: eksDefaults.imdsHopLimit },
      blockDeviceMappings: [{
        deviceName: pool.amiType.startsWith("BOTTLEROCKET") ? "/dev/xvdb" : "/dev/xvda",
        ebs: { volumeSize: pool.diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      }],
    }, o)]));
    const nodeGroups = groupPlan.map((g) => {
      const pool = cfg.nodeGroups[g.pool];
      const template = templates.get(g.pool)!;
      return new aws.eks.NodeGroup(`${name}-${g.id}`, {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: g.zoneIndexes.map((i) => privateSubnets[i].id),
        version: args.kubernetesVersion,
        amiType: pool.amiType,
        capacityType: pool.capacityType,
        instanceTypes: [...pool.instanceTypes],
        launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
        scalingConfig: { minSize: g.minSize, maxSize: g.maxSize, desiredSize: Math.max(g.minSize, 1) },
        updateConfig: { maxUnavailable: 1 },
        nodeRepairConfig: { enabled: true },
        labels: { "blueprint.dev/node-pool": g.pool, ...pool.labels },
      }, {
        ...o,
        dependsOn: [...nodePolicies, ...earlyAddons],
        // The Cluster Autoscaler owns the desired size between the bounds.
        ignoreChanges: ["scalingConfig.desiredSize"],
      });
    });

    const ebsRole = irsaRole("ebs-csi", "kube-system", eksDefaults.ebsCsiServiceAccount, ["service-role/AmazonEBSCSIDriverPolicy"]);
    addon("coredns", {}, nodeGroups);
    addon("aws-ebs-csi-driver", { serviceAccountRoleArn: ebsRole.arn }, nodeGroups);
    addon("metrics-server", {}, nodeGroups);
    addon("amazon-cloudwatch-observability", {
      serviceAccountRoleArn: irsaRole("cloudwatch-observability", eksDefaults.observability.namespace, eksDefaults.observability.serviceAccount, [eksDefaults.observability.policy]).arn,
    }, nodeGroups);

    // --- Who may use the cluster: access entries (authentication mode API), groups bound by the team RoleBindings.
    const principals = new Map<string, { arn: pulumi.Input<string>; groups: string[] }>();
    for (const group of [...new Set(args.teamGroups)].sort()) {
      const existing = cfg.groupRoles[group];
      if (existing) {
        const entry = principals.get(existing) ?? { arn: existing, groups: [] };
        entry.groups.push(group);
        principals.set(existing, entry);
        continue;
      }
      // A role per group that principals of this account may assume when their IAM policy allows it.
      const role = new aws.iam.Role(`${name}-group-${safeName(group)}`, {
        description: `Members of "${group}" in EKS cluster ${args.name}`,
        assumeRolePolicy: JSON.stringify(groupRoleTrust(arn("iam", `${accountId}:root`), cfg.groupPrincipals[group])),
      }, o);
      principals.set(`created:${group}`, { arn: role.arn, groups: [group] });
    }
    const accessEntries: pulumi.Resource[] = [];
    [...principals.entries()].forEach(([key, p], i) => {
      const id = key.startsWith("created:") ? safeName(key.slice("created:".length)) : `role-${i}`;
      accessEntries.push(new aws.eks.AccessEntry(`${name}-team-${id}`, {
        clusterName: cluster.name,
        principalArn: p.arn,
        type: "STANDARD",
        kubernetesGroups: p.groups,
      }, o));
    });
    cfg.adminRoleArns.forEach((roleArn, i) => {
      const entry = new aws.eks.AccessEntry(`${name}-admin-${i}`, { clusterName: cluster.name, principalArn: roleArn, type: "STANDARD" }, o);
      accessEntries.push(new aws.eks.AccessPolicyAssociation(`${name}-admin-${i}`, {
        clusterName: cluster.name,
        principalArn: roleArn,
        policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: "cluster" },
      }, { ...o, dependsOn: [entry] }));
    });

    // --- Kubernetes access: exec auth with `aws eks get-token`; only stable fields, no token.
    this.kubeconfig = pulumi.secret(pulumi.all([cluster.name, cluster.endpoint, cluster.certificateAuthority]).apply(([n, endpoint, ca]) =>
      execKubeconfig({ name: n, server: endpoint, certificateAuthorityData: ca?.data ?? "", exec: awsExec(n, region) })));
    const gating = eksDefaults.addonsGatingKubernetes.map((n) => addons.get(n)!);
    this.clusterArn = cluster.arn;
    this.provider = new k8s.Provider(`${name}-k8s`, {
      kubeconfig: this.kubeconfig,
      enableServerSideApply: true,
      // Only a new cluster replaces the provider (and so every object on it); a changed
      // credential or kubeconfig text is an update (pulumi-kubernetes#1148, #2745).
      clusterIdentifier: cluster.arn,
      // Outside production a cluster deleted behind Pulumi's back should not block `pulumi destroy`.
      deleteUnreachable: !args.production,
    }, {
      parent: this,
      dependsOn: [...nodeGroups, ...gating, ...accessEntries],
    });

    // --- Node autoscaling and load balancers, each with a role scoped to its ServiceAccount.
    const caRole = irsaRole("cluster-autoscaler", "kube-system", eksDefaults.clusterAutoscaler.serviceAccount, [], clusterAutoscalerPolicy(args.name));
    const ca = eksDefaults.clusterAutoscaler;
    new k8s.helm.v3.Release(`${name}-cluster-autoscaler`, {
      name: "cluster-autoscaler",
      chart: ca.chart,
      version: ca.version,
      repositoryOpts: { repo: ca.repo },
      namespace: "kube-system",
      values: {
        cloudProvider: "aws",
        awsRegion: region,
        autoDiscovery: { clusterName: args.name },
        // The autoscaler's minor version must match the cluster's.
        image: { tag: clusterAutoscalerImageTag(args.kubernetesVersion) },
        rbac: { serviceAccount: { name: ca.serviceAccount, annotations: { "eks.amazonaws.com/role-arn": caRole.arn } } },
        extraArgs: { "balance-similar-node-groups": true, "skip-nodes-with-system-pods": false, expander: "least-waste" },
        priorityClassName: "system-cluster-critical",
      },
    }, { parent: this, provider: this.provider });

    const lbc = eksDefaults.loadBalancerController;
    const lbcRole = irsaRole("load-balancer-controller", "kube-system", lbc.serviceAccount, [], loadBalancerControllerPolicy(partition));
    // Its validating webhook (failurePolicy Fail) must serve before any Ingress is created, and its
    // finalizer must still run when Ingresses are deleted: Ingresses depend on this release.
    const lbcRelease = new k8s.helm.v3.Release(`${name}-load-balancer-controller`, {
      name: "aws-load-balancer-controller",
      chart: lbc.chart,
      version: lbc.version,
      repositoryOpts: { repo: lbc.repo },
      namespace: "kube-system",
      values: {
        clusterName: args.name,
        // Passed explicitly, so the controller never depends on instance metadata to find them.
        region,
        vpcId: vpc.id,
        replicaCount: args.production ? 2 : 1,
        serviceAccount: { name: lbc.serviceAccount, annotations: { "eks.amazonaws.com/role-arn": lbcRole.arn } },
        enableServiceMutatorWebhook: false,
      },
    }, { parent: this, provider: this.provider });

    this.ingressDependencies = [lbcRelease];

    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, oidcProviderArn: this.oidcProviderArn, oidcIssuer: this.oidcIssuer });
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

/** Facts about the AWS account and region, read once before any resource is declared. */
interface AwsFacts {
  readonly partition: string;
  readonly dnsSuffix: string;
  readonly accountId: string;
  readonly zones: readonly string[];
}

async function awsFacts(args: EksClusterArgs, provider: aws.Provider): Promise<AwsFacts> {
  const region = args.aws.region;
  const invoke = { provider };
  const [partition, identity, azs] = await Promise.all([
    aws.getPartition({}, invoke),
    aws.getCallerIdentity({}, invoke),
    aws.getAvailabilityZones({ region, state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] }, invoke),
  ]);
  const names = [...(azs.names ?? [])].sort();
  if (names.length < args.aws.zones) {
    throw new ConfigError(args.configFile ?? `cluster ${args.name}`, [{
      key: "blueprint:cluster.aws.zones",
      message: `asks for ${args.aws.zones} availability zones, but region ${region} offers ${names.length} (${names.join(", ") || "none"})`,
    }]);
  }
  return { partition: partition.partition, dnsSuffix: partition.dnsSuffix, accountId: identity.accountId, zones: names.slice(0, args.aws.zones) };
}

function servicePrincipalTrust(service: string, actions: string[]): object {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }] };
}

/**
 * Who may assume a team group's role: principals of the account whose ARN matches one of
 * `principals` (`aws:PrincipalArn`, e.g. an IAM Identity Center permission-set role), or, without
 * them, any principal of the account that its own IAM policy lets assume it. Production requires
 * the explicit form (config rule on `aws.groupPrincipals`).
 */
export function groupRoleTrust(accountRoot: string, principals?: readonly string[]): object {
  const statement = { Effect: "Allow", Principal: { AWS: accountRoot }, Action: ["sts:AssumeRole", "sts:TagSession"] };
  return {
    Version: "2012-10-17",
    Statement: [principals && principals.length > 0 ? { ...statement, Condition: { ArnLike: { "aws:PrincipalArn": [...principals] } } } : statement],
  };
}

/**
 * The cluster key's policy: the account administers it through IAM (the default statement), and
 * CloudWatch Logs may use it only for this cluster's control-plane log group
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
 */
export function clusterKeyPolicy(f: { partition: string; accountId: string; region: string; dnsSuffix: string; logGroupName: string }): object {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${f.partition}:iam::${f.accountId}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "ControlPlaneLogs",
        Effect: "Allow",
        Principal: { Service: `logs.${f.region}.${f.dnsSuffix}` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:${f.partition}:logs:${f.region}:${f.accountId}:log-group:${f.logGroupName}` } },
      },
    ],
  };
}

/** One managed node group to create: a pool, in one zone or spanning all. */
export interface EksNodeGroupPlan {
  /** Resource name suffix: the pool, plus the zone when split per zone. */
  readonly id: string;
  readonly pool: string;
  /** Indexes of the zones (and private subnets) the group spans. */
  readonly zoneIndexes: number[];
  readonly minSize: number;
  readonly maxSize: number;
}

/**
 * Node groups per pool. A group spanning zones cannot be told to grow in a particular zone, so a
 * pod held Pending by a strict zone spread (production) never gets its node: there each pool
 * becomes one group per zone, with the pool's bounds shared out (rounded up), and the
 * autoscaler's `balance-similar-node-groups` keeps them even
 * (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md#common-notes-and-gotchas).
 */
export function eksNodeGroupPlan(pools: Readonly<Record<string, { minSize: number; maxSize: number; perZone?: boolean }>>, zones: readonly string[], production: boolean): EksNodeGroupPlan[] {
  return Object.entries(pools).flatMap(([pool, p]) => {
    if (!(p.perZone ?? production)) return [{ id: pool, pool, zoneIndexes: zones.map((_, i) => i), minSize: p.minSize, maxSize: p.maxSize }];
    const share = (n: number) => Math.ceil(n / zones.length);
    return zones.map((zone, i) => ({ id: `${pool}-${zone.slice(-1)}`, pool, zoneIndexes: [i], minSize: share(p.minSize), maxSize: Math.max(1, share(p.maxSize)) }));
  });
}

/** A resource-name-safe form of a group name; config validation refuses groups that share one. */
function safeName(group: string): string {
  return groupResourceName(group);
}

/** Read everything it needs to plan; change only the node groups tagged as this cluster's. */
export function clusterAutoscalerPolicy(clusterName: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
        ],
        Resource: "*",
      },
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: "*",
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
      },
    ],
  };
}

/**
 * What the AWS Load Balancer Controller needs, statement for statement as its pinned version
 * documents it (chart 1.14.1 = controller v2.14.1, docs/install/iam_policy.json at tag v2.14.1 of
 * kubernetes-sigs/aws-load-balancer-controller): read the network and certificates, create load
 * balancers and security groups tagged as its own, change or delete only those, and tag and
 * reorder listeners and rules (without `elasticloadbalancing:SetRulePriorities` and listener
 * tagging it gets AccessDenied and leaves ALBs without listeners). Only the partition differs.
 */
export function loadBalancerControllerPolicy(partition: string): object {
  const owned = { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } };
  const requested = { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } };
  // Tags may change on resources the controller owns, but never drop or add its ownership tag.
  const retag = { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } };
  const elb = (resource: string) => `arn:${partition}:elasticloadbalancing:*:*:${resource}`;
  const balancers = [elb("targetgroup/*/*"), elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*")];
  const allow = (Action: string[], Resource: string | string[], Condition?: object) => ({ Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) });
  return {
    Version: "2012-10-17",
    Statement: [
      allow(["iam:CreateServiceLinkedRole"], "*", { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } }),
      allow([
        "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
        "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
        "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
        "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeCapacityReservation",
      ], "*"),
      allow([
        "cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates", "iam:GetServerCertificate",
        "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL",
        "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
        "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection",
      ], "*"),
      allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], "*"),
      allow(["ec2:CreateSecurityGroup"], "*"),
      allow(["ec2:CreateTags"], `arn:${partition}:ec2:*:*:security-group/*`, { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" }, ...requested }),
      allow(["ec2:CreateTags", "ec2:DeleteTags"], `arn:${partition}:ec2:*:*:security-group/*`, retag),
      allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], "*", owned),
      allow(["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], "*", requested),
      allow(["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule"], "*"),
      allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], balancers, retag),
      allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], [
        elb("listener/net/*/*/*"), elb("listener/app/*/*/*"), elb("listener-rule/net/*/*/*"), elb("listener-rule/app/*/*/*"),
      ]),
      allow([
        "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
      ], "*", owned),
      allow(["elasticloadbalancing:AddTags"], balancers, { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] }, ...requested }),
      allow(["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], elb("targetgroup/*/*")),
      allow([
        "elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities",
      ], "*"),
    ],
  };
}

/**
 * What a pod bound to an IAM role needs: IRSA exchanges its token at the regional STS endpoint,
 * and the SDK then calls AWS APIs, both over HTTPS on public addresses. NetworkPolicy cannot name
 * them, so HTTPS is open to public addresses only: private ranges (the VPC, other namespaces) and
 * link-local (instance metadata) stay closed
 * (https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html).
 */
export const eksCloudIdentityEgress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [{
  to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"] } }],
  ports: [{ protocol: "TCP", port: 443 }],
}];

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
    storage: { provisioner: eksDefaults.storage.provisioner, parameters: { ...eksDefaults.storage.parameters }, isDefault: true },
    ingress: {
      className: eksDefaults.ingressClass,
      annotations: { ...eksDefaults.ingressAnnotations },
      // With IP targets the ALB connects to pods from its network interfaces in the public subnets.
      allowFrom: c.subnetPlan.public.map((cidr) => ({ ipBlock: { cidr } })),
      // The controller finds the ACM certificate for the hosts in spec.tls; no Secret is involved.
      host: () => ({ annotations: {}, tls: "host" }),
      serviceAnnotations: {},
      // The ALB health-checks the pods where Kubernetes does: the readiness path (the default is `/`).
      healthCheck: { pathAnnotation: "alb.ingress.kubernetes.io/healthcheck-path", portAnnotation: "alb.ingress.kubernetes.io/healthcheck-port" },
      dependsOn: c.ingressDependencies,
    },
    cloudIdentityEgress: eksCloudIdentityEgress,
    identityOutputs: { oidcProviderArn: c.oidcProviderArn, oidcIssuer: c.oidcIssuer },
    registry: c.mirror?.registry,
    mirrors: c.mirror ? { [c.mirror.upstream]: c.mirror.registry } : {},
    pullReference: (released) => pullReference(released, c.mirror),
    safety: c.safety,
    bindWorkloadIdentity: (binding) => ({ "eks.amazonaws.com/role-arn": binding.cloudIdentity }),
    dataNetwork: c.dataNetwork,
  };
}
