import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { groupResourceName } from "../../../lib/names";
import type { AwsFacts } from "./context";
import type { EksClusterArgs } from "./defaults";

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
    Statement: [
      principals && principals.length > 0
        ? { ...statement, Condition: { ArnLike: { "aws:PrincipalArn": [...principals] } } }
        : statement,
    ],
  };
}

/**
 * Who may use the cluster: access entries (authentication mode API) for the team groups, whose
 * Kubernetes groups the team RoleBindings bind, and cluster-admin entries for the admin roles.
 * Returns what the Kubernetes provider waits for.
 */
export function eksAccessEntries(
  name: string,
  args: EksClusterArgs,
  facts: AwsFacts,
  cluster: aws.eks.Cluster,
  o: pulumi.CustomResourceOptions,
): { entries: pulumi.Resource[]; groupRoles: Record<string, pulumi.Input<string>> } {
  const cfg = args.aws;
  const { partition, accountId } = facts;
  const principals = new Map<string, { arn: pulumi.Input<string>; groups: string[] }>();
  // The role a member of each group assumes (or, for groupRoles, signs in as): the contract names it.
  const groupRoles: Record<string, pulumi.Input<string>> = {};
  for (const group of [...new Set(args.teamGroups)].sort()) {
    const existing = cfg.groupRoles[group];
    if (existing) {
      const entry = principals.get(existing) ?? { arn: existing, groups: [] };
      entry.groups.push(group);
      principals.set(existing, entry);
      groupRoles[group] = existing;
      continue;
    }
    // A role per group that principals of this account may assume when their IAM policy allows it.
    // Config validation refuses groups whose resource-name-safe forms collide.
    const role = new aws.iam.Role(
      `${name}-group-${groupResourceName(group)}`,
      {
        description: `Members of "${group}" in EKS cluster ${args.name}`,
        assumeRolePolicy: JSON.stringify(
          groupRoleTrust(`arn:${partition}:iam::${accountId}:root`, cfg.groupPrincipals[group]),
        ),
      },
      o,
    );
    principals.set(`created:${group}`, { arn: role.arn, groups: [group] });
    groupRoles[group] = role.arn;
  }
  const accessEntries: pulumi.Resource[] = [];
  [...principals.entries()].forEach(([key, p], i) => {
    const id = key.startsWith("created:") ? groupResourceName(key.slice("created:".length)) : `role-${i}`;
    accessEntries.push(
      new aws.eks.AccessEntry(
        `${name}-team-${id}`,
        {
          clusterName: cluster.name,
          principalArn: p.arn,
          type: "STANDARD",
          kubernetesGroups: p.groups,
        },
        o,
      ),
    );
  });
  cfg.adminRoleArns.forEach((roleArn, i) => {
    const entry = new aws.eks.AccessEntry(
      `${name}-admin-${i}`,
      { clusterName: cluster.name, principalArn: roleArn, type: "STANDARD" },
      o,
    );
    accessEntries.push(
      new aws.eks.AccessPolicyAssociation(
        `${name}-admin-${i}`,
        {
          clusterName: cluster.name,
          principalArn: roleArn,
          policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        { ...o, dependsOn: [entry] },
      ),
    );
  });
  return { entries: accessEntries, groupRoles };
}
