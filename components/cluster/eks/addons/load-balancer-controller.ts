import * as k8s from "@pulumi/kubernetes";
import type { AddOn } from "../../addon";
import { irsaRole, type EksKubernetesContext } from "../context";
import { eksDefaults } from "../defaults";

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
  const retag = {
    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" },
  };
  const elb = (resource: string) => `arn:${partition}:elasticloadbalancing:*:*:${resource}`;
  const balancers = [elb("targetgroup/*/*"), elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*")];
  const allow = (Action: string[], Resource: string | string[], Condition?: object) => ({
    Effect: "Allow",
    Action,
    Resource,
    ...(Condition ? { Condition } : {}),
  });
  return {
    Version: "2012-10-17",
    Statement: [
      allow(["iam:CreateServiceLinkedRole"], "*", {
        StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
      }),
      allow(
        [
          "ec2:DescribeAccountAttributes",
          "ec2:DescribeAddresses",
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInternetGateways",
          "ec2:DescribeVpcs",
          "ec2:DescribeVpcPeeringConnections",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeTags",
          "ec2:GetCoipPoolUsage",
          "ec2:DescribeCoipPools",
          "ec2:GetSecurityGroupsForVpc",
          "ec2:DescribeIpamPools",
          "ec2:DescribeRouteTables",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeListenerCertificates",
          "elasticloadbalancing:DescribeSSLPolicies",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetHealth",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTrustStores",
          "elasticloadbalancing:DescribeListenerAttributes",
          "elasticloadbalancing:DescribeCapacityReservation",
        ],
        "*",
      ),
      allow(
        [
          "cognito-idp:DescribeUserPoolClient",
          "acm:ListCertificates",
          "acm:DescribeCertificate",
          "iam:ListServerCertificates",
          "iam:GetServerCertificate",
          "waf-regional:GetWebACL",
          "waf-regional:GetWebACLForResource",
          "waf-regional:AssociateWebACL",
          "waf-regional:DisassociateWebACL",
          "wafv2:GetWebACL",
          "wafv2:GetWebACLForResource",
          "wafv2:AssociateWebACL",
          "wafv2:DisassociateWebACL",
          "shield:GetSubscriptionState",
          "shield:DescribeProtection",
          "shield:CreateProtection",
          "shield:DeleteProtection",
        ],
        "*",
      ),
      allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], "*"),
      allow(["ec2:CreateSecurityGroup"], "*"),
      allow(["ec2:CreateTags"], `arn:${partition}:ec2:*:*:security-group/*`, {
        StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
        ...requested,
      }),
      allow(["ec2:CreateTags", "ec2:DeleteTags"], `arn:${partition}:ec2:*:*:security-group/*`, retag),
      allow(
        ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
        "*",
        owned,
      ),
      allow(["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"], "*", requested),
      allow(
        [
          "elasticloadbalancing:CreateListener",
          "elasticloadbalancing:DeleteListener",
          "elasticloadbalancing:CreateRule",
          "elasticloadbalancing:DeleteRule",
        ],
        "*",
      ),
      allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], balancers, retag),
      allow(
        ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        [
          elb("listener/net/*/*/*"),
          elb("listener/app/*/*/*"),
          elb("listener-rule/net/*/*/*"),
          elb("listener-rule/app/*/*/*"),
        ],
      ),
      allow(
        [
          "elasticloadbalancing:ModifyLoadBalancerAttributes",
          "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups",
          "elasticloadbalancing:SetSubnets",
          "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup",
          "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup",
          "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyCapacityReservation",
          "elasticloadbalancing:ModifyIpPools",
        ],
        "*",
        owned,
      ),
      allow(["elasticloadbalancing:AddTags"], balancers, {
        StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
        ...requested,
      }),
      allow(["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], elb("targetgroup/*/*")),
      allow(
        [
          "elasticloadbalancing:SetWebAcl",
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:AddListenerCertificates",
          "elasticloadbalancing:RemoveListenerCertificates",
          "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:SetRulePriorities",
        ],
        "*",
      ),
    ],
  };
}

/**
 * The AWS Load Balancer Controller (Helm release): turns each Ingress into an ALB with IP targets,
 * with an IAM role scoped to its ServiceAccount. Its validating webhook (failurePolicy Fail) must
 * serve before any Ingress is created, and its finalizer (`ingress.k8s.aws/resources`) must still
 * run when an Ingress is deleted, or the ALB leaks and the namespace hangs in Terminating: every
 * Ingress, and every team Namespace, depends on this release.
 */
export const loadBalancerController: AddOn<EksKubernetesContext> = {
  name: "load-balancer-controller",
  deploy(ctx, parent) {
    const lbc = eksDefaults.loadBalancerController;
    const role = irsaRole(ctx, parent, {
      id: "load-balancer-controller",
      namespace: "kube-system",
      serviceAccount: lbc.serviceAccount,
      inline: loadBalancerControllerPolicy(ctx.facts.partition),
    });
    const release = new k8s.helm.v3.Release(
      `${ctx.name}-load-balancer-controller`,
      {
        name: "aws-load-balancer-controller",
        chart: lbc.chart,
        version: lbc.version,
        repositoryOpts: { repo: lbc.repo },
        namespace: "kube-system",
        values: {
          clusterName: ctx.args.name,
          // Passed explicitly, so the controller never depends on instance metadata to find them.
          region: ctx.args.aws.region,
          vpcId: ctx.vpcId,
          replicaCount: ctx.args.production ? 2 : 1,
          serviceAccount: { name: lbc.serviceAccount, annotations: { "eks.amazonaws.com/role-arn": role.arn } },
          enableServiceMutatorWebhook: false,
        },
      },
      { parent, provider: ctx.provider },
    );
    return { ingressDependencies: [release], finalizerOwners: [release] };
  },
};
