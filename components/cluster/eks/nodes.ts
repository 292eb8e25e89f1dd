import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn, servicePrincipalTrust, type AwsFacts } from "./context";
import { eksDefaults, type EksClusterArgs } from "./defaults";

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
export function eksNodeGroupPlan(
  pools: Readonly<Record<string, { minSize: number; maxSize: number; perZone?: boolean }>>,
  zones: readonly string[],
  production: boolean,
): EksNodeGroupPlan[] {
  return Object.entries(pools).flatMap(([pool, p]) => {
    if (!(p.perZone ?? production))
      return [{ id: pool, pool, zoneIndexes: zones.map((_, i) => i), minSize: p.minSize, maxSize: p.maxSize }];
    const share = (n: number) => Math.ceil(n / zones.length);
    return zones.map((zone, i) => ({
      id: `${pool}-${zone.slice(-1)}`,
      pool,
      zoneIndexes: [i],
      minSize: share(p.minSize),
      maxSize: Math.max(1, share(p.maxSize)),
    }));
  });
}

/** The IAM role nodes run as, with the managed policies every node needs (joining the cluster, pulling from ECR). */
export function eksNodeRole(
  name: string,
  facts: AwsFacts,
  o: pulumi.CustomResourceOptions,
): { readonly role: aws.iam.Role; readonly policies: readonly pulumi.Resource[] } {
  const role = new aws.iam.Role(
    `${name}-node`,
    {
      assumeRolePolicy: JSON.stringify(servicePrincipalTrust("ec2.amazonaws.com", ["sts:AssumeRole"])),
    },
    o,
  );
  const policies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"].map(
    (p) =>
      new aws.iam.RolePolicyAttachment(
        `${name}-node-${p}`,
        { role: role.name, policyArn: managedPolicyArn(facts, p) },
        o,
      ),
  );
  return { role, policies };
}

/** Where the node groups go and what they wait for. */
export interface EksNodeGroupsInput {
  readonly cluster: aws.eks.Cluster;
  readonly nodeRole: aws.iam.Role;
  readonly zones: readonly string[];
  /** One per zone, in zone order. */
  readonly privateSubnets: readonly aws.ec2.Subnet[];
  /** What nodes are created after: the node role's policies and the add-ons nodes need to become Ready. */
  readonly waitFor: readonly pulumi.Resource[];
}

/** Managed node groups, per pool (and per zone in production): IMDSv2 only, encrypted gp3 root volumes. */
export function eksNodeGroups(
  name: string,
  args: EksClusterArgs,
  input: EksNodeGroupsInput,
  o: pulumi.CustomResourceOptions,
): aws.eks.NodeGroup[] {
  const cfg = args.aws;
  const groupPlan = eksNodeGroupPlan(cfg.nodeGroups, input.zones, args.production);
  const templates = new Map(
    Object.entries(cfg.nodeGroups).map(([poolName, pool]) => [
      poolName,
      new aws.ec2.LaunchTemplate(
        `${name}-${poolName}`,
        {
          description: `Nodes of ${args.name}/${poolName}`,
          updateDefaultVersion: true,
          metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: eksDefaults.imdsHopLimit,
          },
          blockDeviceMappings: [
            {
              deviceName: pool.amiType.startsWith("BOTTLEROCKET") ? "/dev/xvdb" : "/dev/xvda",
              ebs: { volumeSize: pool.diskSizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
            },
          ],
        },
        o,
      ),
    ]),
  );
  return groupPlan.map((g) => {
    const pool = cfg.nodeGroups[g.pool];
    const template = templates.get(g.pool)!;
    return new aws.eks.NodeGroup(
      `${name}-${g.id}`,
      {
        clusterName: input.cluster.name,
        nodeRoleArn: input.nodeRole.arn,
        subnetIds: g.zoneIndexes.map((i) => input.privateSubnets[i].id),
        version: args.kubernetesVersion,
        amiType: pool.amiType,
        capacityType: pool.capacityType,
        instanceTypes: [...pool.instanceTypes],
        launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
        scalingConfig: { minSize: g.minSize, maxSize: g.maxSize, desiredSize: Math.max(g.minSize, 1) },
        updateConfig: { maxUnavailable: 1 },
        nodeRepairConfig: { enabled: true },
        labels: { "blueprint.dev/node-pool": g.pool, ...pool.labels },
      },
      {
        ...o,
        dependsOn: [...input.waitFor],
        // The Cluster Autoscaler owns the desired size between the bounds.
        ignoreChanges: ["scalingConfig.desiredSize"],
      },
    );
  });
}
