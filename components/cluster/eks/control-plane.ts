import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterSafety } from "../handle";
import { managedPolicyArn, servicePrincipalTrust, type AwsFacts } from "./context";
import { eksDefaults, type EksClusterArgs } from "./defaults";

/** Engine and cloud deletion guards for an EKS cluster. */
export function eksSafety(production: boolean): ClusterSafety {
  return { protect: production, deletionProtection: production };
}

/**
 * The cluster key's policy: the account administers it through IAM (the default statement), and
 * CloudWatch Logs may use it only for this cluster's control-plane log group and its Container
 * Insights log groups (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
 */
export function clusterKeyPolicy(f: {
  partition: string;
  accountId: string;
  region: string;
  dnsSuffix: string;
  logGroupName: string;
  clusterName?: string;
}): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersThroughIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${f.partition}:iam::${f.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "ControlPlaneLogs",
        Effect: "Allow",
        Principal: { Service: `logs.${f.region}.${f.dnsSuffix}` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnEquals: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${f.partition}:logs:${f.region}:${f.accountId}:log-group:${f.logGroupName}`,
          },
        },
      },
      ...(f.clusterName
        ? [
            {
              // The groups the CloudWatch observability add-on writes container logs and metrics to (addons/cloudwatch-observability.ts).
              Sid: "ContainerInsightsLogs",
              Effect: "Allow",
              Principal: { Service: `logs.${f.region}.${f.dnsSuffix}` },
              Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
              Resource: "*",
              Condition: {
                ArnLike: {
                  "kms:EncryptionContext:aws:logs:arn": `arn:${f.partition}:logs:${f.region}:${f.accountId}:log-group:/aws/containerinsights/${f.clusterName}/*`,
                },
              },
            },
          ]
        : []),
    ],
  };
}

/** The control plane and what trusts it: the cluster, its KMS key, and its IAM OIDC provider. */
export interface EksControlPlane {
  readonly cluster: aws.eks.Cluster;
  readonly secretsKey: aws.kms.Key;
  readonly oidcProvider: aws.iam.OpenIdConnectProvider;
  /** `https://oidc.eks.<region>.amazonaws.com/id/<id>`. */
  readonly issuer: pulumi.Output<string>;
  /** The issuer without `https://`, as IRSA trust conditions name it. */
  readonly issuerHost: pulumi.Output<string>;
}

/**
 * The control plane: a KMS key for Secrets (and the control-plane logs), the cluster role, the
 * log group created first (so its retention is ours), the cluster with a private endpoint and
 * access entries, and the IAM OIDC provider IRSA trusts.
 */
export function eksControlPlane(
  name: string,
  args: EksClusterArgs,
  facts: AwsFacts,
  privateSubnets: readonly aws.ec2.Subnet[],
  safety: ClusterSafety,
  o: pulumi.CustomResourceOptions,
): EksControlPlane {
  const cfg = args.aws;
  const region = cfg.region;
  const { partition, accountId, dnsSuffix } = facts;
  const logGroupName = `/aws/eks/${args.name}/cluster`;
  const secretsKey = new aws.kms.Key(
    `${name}-secrets`,
    {
      description: `Envelope encryption of Kubernetes Secrets and control-plane logs of EKS cluster ${args.name}`,
      enableKeyRotation: true,
      deletionWindowInDays: args.production
        ? eksDefaults.kmsDeletionWindowDays.production
        : eksDefaults.kmsDeletionWindowDays.other,
      policy: JSON.stringify(
        clusterKeyPolicy({ partition, accountId, region, dnsSuffix, logGroupName, clusterName: args.name }),
      ),
    },
    { ...o, protect: args.production },
  );
  new aws.kms.Alias(`${name}-secrets`, { name: `alias/eks/${args.name}-secrets`, targetKeyId: secretsKey.keyId }, o);

  const clusterRole = new aws.iam.Role(
    `${name}-cluster`,
    {
      assumeRolePolicy: JSON.stringify(
        servicePrincipalTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]),
      ),
    },
    o,
  );
  const clusterPolicy = new aws.iam.RolePolicyAttachment(
    `${name}-cluster`,
    { role: clusterRole.name, policyArn: managedPolicyArn(facts, "AmazonEKSClusterPolicy") },
    o,
  );

  // Created first so its retention is ours, not "never expire".
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-control-plane`,
    {
      name: logGroupName,
      retentionInDays:
        cfg.logRetentionDays ??
        (args.production ? eksDefaults.logRetentionDays.production : eksDefaults.logRetentionDays.other),
      // The audit log names every principal and object: encrypted with the cluster's own key.
      kmsKeyId: secretsKey.arn,
    },
    o,
  );

  const publicAccess = cfg.publicAccessCidrs.length > 0;
  const cluster = new aws.eks.Cluster(
    `${name}-eks`,
    {
      name: args.name,
      version: args.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: privateSubnets.map((s) => s.id),
        endpointPrivateAccess: true,
        endpointPublicAccess: publicAccess,
        publicAccessCidrs: publicAccess ? [...cfg.publicAccessCidrs] : undefined,
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: cfg.serviceCidr, ipFamily: "ipv4" },
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      encryptionConfig: { resources: ["secrets"], provider: { keyArn: secretsKey.arn } },
      enabledClusterLogTypes: [...eksDefaults.logTypes],
      // The managed add-ons (addons/) replace the self-managed defaults, so they are versioned and configured there.
      bootstrapSelfManagedAddons: false,
      // The config rules refuse a minor past standard support unless extended support is chosen.
      upgradePolicy: { supportType: args.extendedSupport ? "EXTENDED" : "STANDARD" },
      deletionProtection: safety.deletionProtection,
    },
    { ...o, protect: safety.protect, dependsOn: [clusterPolicy, logGroup] },
  );

  const issuer = cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
  const oidcProvider = new aws.iam.OpenIdConnectProvider(
    `${name}-oidc`,
    { url: issuer, clientIdLists: ["sts.amazonaws.com"] },
    o,
  );
  return { cluster, secretsKey, oidcProvider, issuer, issuerHost: issuer.apply((u) => u.replace(/^https:\/\//, "")) };
}
