import * as k8s from "@pulumi/kubernetes";
import type { AddOn } from "../../addon";
import { clusterAutoscalerImageTag } from "../../../../lib/kubernetes-versions";
import { irsaRole, type EksKubernetesContext } from "../context";
import { eksDefaults } from "../defaults";

/** Read everything it needs to plan; change only the node groups tagged as this cluster's. */
export function clusterAutoscalerPolicy(clusterName: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:DescribeAutoScalingInstances",
          "autoscaling:DescribeLaunchConfigurations",
          "autoscaling:DescribeScalingActivities",
          "autoscaling:DescribeTags",
          "ec2:DescribeImages",
          "ec2:DescribeInstanceTypes",
          "ec2:DescribeLaunchTemplateVersions",
          "ec2:GetInstanceTypesFromInstanceRequirements",
          "eks:DescribeNodegroup",
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
 * The Cluster Autoscaler (Helm release): scales the managed node groups within their configured
 * bounds, keeping per-zone groups even, with an IAM role scoped to its ServiceAccount.
 */
export const clusterAutoscaler: AddOn<EksKubernetesContext> = {
  name: "cluster-autoscaler",
  deploy(ctx, parent) {
    const ca = eksDefaults.clusterAutoscaler;
    const role = irsaRole(ctx, parent, {
      id: "cluster-autoscaler",
      namespace: "kube-system",
      serviceAccount: ca.serviceAccount,
      inline: clusterAutoscalerPolicy(ctx.args.name),
    });
    new k8s.helm.v3.Release(
      `${ctx.name}-cluster-autoscaler`,
      {
        name: "cluster-autoscaler",
        chart: ca.chart,
        version: ca.version,
        repositoryOpts: { repo: ca.repo },
        namespace: "kube-system",
        values: {
          cloudProvider: "aws",
          awsRegion: ctx.args.aws.region,
          autoDiscovery: { clusterName: ctx.args.name },
          // The autoscaler's minor version must match the cluster's.
          image: { tag: clusterAutoscalerImageTag(ctx.args.kubernetesVersion) },
          rbac: {
            serviceAccount: { name: ca.serviceAccount, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
          },
          extraArgs: {
            "balance-similar-node-groups": true,
            "skip-nodes-with-system-pods": false,
            expander: "least-waste",
          },
          priorityClassName: "system-cluster-critical",
        },
      },
      { parent, provider: ctx.provider },
    );
    return {};
  },
};
