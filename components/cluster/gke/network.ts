import * as gcp from "@pulumi/gcp";
import type * as pulumi from "@pulumi/pulumi";
import { gkeDefaults, type GkeClusterArgs } from "./defaults";

/** The cluster's network: one subnet with secondary ranges for pods and Services; egress through Cloud NAT. */
export function gkeNetwork(
  name: string,
  args: GkeClusterArgs,
  o: pulumi.CustomResourceOptions,
): { readonly network: gcp.compute.Network; readonly subnet: gcp.compute.Subnetwork } {
  const cfg = args.gcp;
  const region = cfg.region;
  const network = new gcp.compute.Network(
    `${name}-network`,
    { name: args.name, autoCreateSubnetworks: false, routingMode: "REGIONAL" },
    o,
  );
  const subnet = new gcp.compute.Subnetwork(
    `${name}-nodes`,
    {
      name: `${args.name}-nodes`,
      network: network.id,
      region,
      ipCidrRange: cfg.subnetCidr,
      privateIpGoogleAccess: true,
      secondaryIpRanges: [
        { rangeName: gkeDefaults.podsRange, ipCidrRange: cfg.podsCidr },
        { rangeName: gkeDefaults.servicesRange, ipCidrRange: cfg.servicesCidr },
      ],
    },
    o,
  );
  const router = new gcp.compute.Router(
    `${name}-router`,
    { name: `${args.name}-router`, network: network.id, region },
    o,
  );
  new gcp.compute.RouterNat(
    `${name}-nat`,
    {
      name: `${args.name}-nat`,
      router: router.name,
      region,
      natIpAllocateOption: "AUTO_ONLY",
      sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
      logConfig: { enable: true, filter: "ERRORS_ONLY" },
    },
    o,
  );
  return { network, subnet };
}
