import type * as k8s from "@pulumi/kubernetes";

/** Address ranges that are never the public internet: RFC 1918 private networks and link-local (instance metadata). */
export const nonPublicRanges: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

/**
 * Egress to the public internet on one TCP port, with private ranges (the VPC, other namespaces)
 * and link-local (instance metadata) carved out. A cloud's token exchange and APIs have public
 * addresses that NetworkPolicy cannot name, so a pod bound to a cloud identity gets HTTPS to
 * public addresses only.
 */
export function publicInternetEgress(port: number): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
  return { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [...nonPublicRanges] } }], ports: [{ protocol: "TCP", port }] };
}
