import type { AddOn } from "../../addon";
import { irsaRole, type EksNodesContext } from "../context";
import { eksDefaults } from "../defaults";
import { eksManagedAddon } from "./managed";

/**
 * The EBS CSI driver: the provisioner of the platform's StorageClass (`ebs.csi.aws.com`). Its
 * external-provisioner holds a finalizer on every volume it provisioned and deletes the EBS volume
 * when the claim goes (KEP-2644, "Honor PersistentVolume reclaim policy",
 * https://github.com/kubernetes/enhancements/tree/master/keps/sig-storage/2644-honor-pv-reclaim-policy):
 * team namespaces, which hold the claims, are deleted while it still runs, so no volume leaks.
 * Optional for the Kubernetes provider: the platform does not wait for it.
 */
export const ebsCsi: AddOn<EksNodesContext> = {
  name: "ebs-csi",
  deploy(ctx, parent) {
    const role = irsaRole(ctx, parent, {
      id: "ebs-csi",
      namespace: "kube-system",
      serviceAccount: eksDefaults.ebsCsiServiceAccount,
      policies: ["service-role/AmazonEBSCSIDriverPolicy"],
    });
    const addon = eksManagedAddon(
      ctx,
      parent,
      "aws-ebs-csi-driver",
      { serviceAccountRoleArn: role.arn },
      ctx.nodeGroups,
    );
    return { finalizerOwners: [addon] };
  },
};
