import type { AddOn } from "../../addon";
import { irsaRole, type EksAddOnContext } from "../context";
import { eksDefaults } from "../defaults";
import { eksManagedAddon } from "./managed";

/**
 * The Amazon VPC CNI: pods get VPC addresses, and NetworkPolicy is enforced (its network policy
 * agent is switched on here). Nodes need it to become Ready, and nothing in the cluster works
 * without it, so both nodes and the Kubernetes provider wait for it.
 */
export const vpcCni: AddOn<EksAddOnContext> = {
  name: "vpc-cni",
  deploy(ctx, parent) {
    const role = irsaRole(ctx, parent, {
      id: "vpc-cni",
      namespace: "kube-system",
      serviceAccount: eksDefaults.vpcCniServiceAccount,
      policies: ["AmazonEKS_CNI_Policy"],
    });
    const addon = eksManagedAddon(ctx, parent, "vpc-cni", {
      serviceAccountRoleArn: role.arn,
      configurationValues: JSON.stringify({
        enableNetworkPolicy: "true",
        nodeAgent: { enablePolicyEventLogs: "false" },
      }),
    });
    return { nodesWaitFor: [addon], kubernetesWaitsFor: [addon] };
  },
};
