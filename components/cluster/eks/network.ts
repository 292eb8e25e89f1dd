import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { formatCidr, parseCidr, subdivide } from "../../../lib/cidr";
import type { EksClusterArgs } from "./defaults";

/** Subnet blocks carved from the VPC: private (nodes, pods) per zone, and small public ones (NAT, ALBs). */
export function eksSubnetPlan(
  vpcCidr: string,
  zones: number,
): { readonly private: string[]; readonly public: string[] } {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new RangeError(`not a CIDR: ${vpcCidr}`);
  const privateBlocks = Array.from({ length: zones }, (_, i) => formatCidr(subdivide(vpc, 3, i)));
  const publicRange = subdivide(vpc, 3, 7);
  const publicBlocks = Array.from({ length: zones }, (_, i) => formatCidr(subdivide(publicRange, 3, i)));
  return { private: privateBlocks, public: publicBlocks };
}

/** The cluster's VPC and subnets. */
export interface EksNetwork {
  readonly vpc: aws.ec2.Vpc;
  /** One per zone, in zone order: nodes and pods. */
  readonly privateSubnets: readonly aws.ec2.Subnet[];
  readonly publicSubnets: readonly aws.ec2.Subnet[];
  readonly plan: { readonly private: string[]; readonly public: string[] };
}

/**
 * The cluster's own VPC: private subnets for nodes and pods, public subnets for NAT and
 * internet-facing ALBs (tagged for the Load Balancer Controller's subnet discovery), a NAT
 * gateway per zone (production) or one.
 */
export function eksNetwork(
  name: string,
  args: EksClusterArgs,
  zones: readonly string[],
  o: pulumi.CustomResourceOptions,
): EksNetwork {
  const cfg = args.aws;
  const plan = eksSubnetPlan(cfg.vpcCidr, cfg.zones);
  const clusterTag = { [`kubernetes.io/cluster/${args.name}`]: "shared" };
  const vpc = new aws.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: cfg.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${args.name}` },
    },
    o,
  );
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: args.name } }, o);
  const publicRoutes = new aws.ec2.RouteTable(
    `${name}-public`,
    {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: `${args.name}-public` },
    },
    o,
  );
  const perZoneNat = (cfg.natGateways ?? (args.production ? "perZone" : "single")) === "perZone";
  const publicSubnets: aws.ec2.Subnet[] = [];
  const privateSubnets: aws.ec2.Subnet[] = [];
  const nats: aws.ec2.NatGateway[] = [];
  zones.forEach((zone, i) => {
    const pub = new aws.ec2.Subnet(
      `${name}-public-${zone}`,
      {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: plan.public[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${args.name}-public-${zone}`, "kubernetes.io/role/elb": "1", ...clusterTag },
      },
      o,
    );
    new aws.ec2.RouteTableAssociation(`${name}-public-${zone}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, o);
    publicSubnets.push(pub);
    if (i === 0 || perZoneNat) {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${zone}`,
        { domain: "vpc", tags: { Name: `${args.name}-nat-${zone}` } },
        o,
      );
      nats.push(
        new aws.ec2.NatGateway(
          `${name}-nat-${zone}`,
          { subnetId: pub.id, allocationId: eip.id, tags: { Name: `${args.name}-${zone}` } },
          { ...o, dependsOn: [igw] },
        ),
      );
    }
    const priv = new aws.ec2.Subnet(
      `${name}-private-${zone}`,
      {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: plan.private[i],
        tags: { Name: `${args.name}-private-${zone}`, "kubernetes.io/role/internal-elb": "1", ...clusterTag },
      },
      o,
    );
    const routes = new aws.ec2.RouteTable(
      `${name}-private-${zone}`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[perZoneNat ? i : 0].id }],
        tags: { Name: `${args.name}-private-${zone}` },
      },
      o,
    );
    new aws.ec2.RouteTableAssociation(`${name}-private-${zone}`, { subnetId: priv.id, routeTableId: routes.id }, o);
    privateSubnets.push(priv);
  });
  return { vpc, privateSubnets, publicSubnets, plan };
}
