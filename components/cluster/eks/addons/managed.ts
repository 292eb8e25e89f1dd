import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { awsOpts, type EksAddOnContext } from "../context";

/**
 * One EKS managed add-on (`aws.eks.Addon`), named `<cluster>-<addonName>`. Its version is pinned
 * in config (`aws.addonVersions`) or EKS's default build for the cluster's Kubernetes minor, so a
 * version upgrade moves every add-on with it. Conflicts with what is already in the cluster are
 * resolved in favour of the add-on's configuration.
 */
export function eksManagedAddon(
  ctx: EksAddOnContext,
  parent: pulumi.Resource,
  addonName: string,
  extra: Partial<aws.eks.AddonArgs> = {},
  dependsOn: readonly pulumi.Resource[] = [],
): aws.eks.Addon {
  const pinned = ctx.args.aws.addonVersions[addonName];
  const addonVersion =
    pinned ??
    aws.eks.getAddonVersionOutput(
      { addonName, kubernetesVersion: ctx.args.kubernetesVersion, mostRecent: false },
      { provider: ctx.awsProvider },
    ).version;
  return new aws.eks.Addon(
    `${ctx.name}-${addonName}`,
    {
      clusterName: ctx.cluster.name,
      addonName,
      addonVersion,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      ...extra,
    },
    { ...awsOpts(ctx, parent), dependsOn: [...dependsOn] },
  );
}
