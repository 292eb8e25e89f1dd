import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../../lib/errors";
import type { EksClusterArgs } from "./defaults";

/** Facts about the AWS account and region, read once before any resource is declared. */
export interface AwsFacts {
  readonly partition: string;
  readonly dnsSuffix: string;
  readonly accountId: string;
  readonly zones: readonly string[];
}

/** Looks up the partition, the account and the region's zones through the cluster's own AWS provider. */
export async function awsFacts(args: EksClusterArgs, provider: aws.Provider): Promise<AwsFacts> {
  const region = args.aws.region;
  const invoke = { provider };
  const [partition, identity, azs] = await Promise.all([
    aws.getPartition({}, invoke),
    aws.getCallerIdentity({}, invoke),
    aws.getAvailabilityZones(
      { region, state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
      invoke,
    ),
  ]);
  const names = [...(azs.names ?? [])].sort();
  if (names.length < args.aws.zones) {
    throw new ConfigError(args.configFile ?? `cluster ${args.name}`, [
      {
        key: "blueprint:cluster.aws.zones",
        message: `asks for ${args.aws.zones} availability zones, but region ${region} offers ${names.length} (${names.join(", ") || "none"})`,
      },
    ]);
  }
  return {
    partition: partition.partition,
    dnsSuffix: partition.dnsSuffix,
    accountId: identity.accountId,
    zones: names.slice(0, args.aws.zones),
  };
}

/**
 * What an EKS add-on gets from the cluster before its nodes exist: the cluster and its facts,
 * the AWS provider, the network, the KMS key, the node role and the OIDC provider for IRSA.
 */
export interface EksAddOnContext {
  /** Prefix of every resource name (the cluster component's name). */
  readonly name: string;
  readonly args: EksClusterArgs;
  readonly facts: AwsFacts;
  readonly awsProvider: aws.Provider;
  readonly cluster: aws.eks.Cluster;
  readonly vpcId: pulumi.Output<string>;
  /** The cluster's KMS key (Secrets envelope encryption, control-plane logs). */
  readonly secretsKey: aws.kms.Key;
  /** The IAM role every node runs as. */
  readonly nodeRole: aws.iam.Role;
  /** The cluster's IAM OIDC provider and its issuer host (no `https://`), for IRSA trust policies. */
  readonly oidc: { readonly providerArn: pulumi.Output<string>; readonly issuerHost: pulumi.Output<string> };
}

/** What an EKS add-on gets once the cluster has nodes. */
export interface EksNodesContext extends EksAddOnContext {
  readonly nodeGroups: readonly aws.eks.NodeGroup[];
}

/** What an EKS add-on gets on the cluster's Kubernetes provider (Helm releases, Kubernetes objects). */
export interface EksKubernetesContext extends EksNodesContext {
  readonly provider: k8s.Provider;
}

/** `{ parent, provider }` for an AWS resource of the cluster. */
export function awsOpts(
  ctx: Pick<EksAddOnContext, "awsProvider">,
  parent: pulumi.Resource,
): pulumi.CustomResourceOptions {
  return { parent, provider: ctx.awsProvider };
}

/** The ARN of an AWS managed IAM policy in the cluster's partition. */
export function managedPolicyArn(facts: Pick<AwsFacts, "partition">, policy: string): string {
  return `arn:${facts.partition}:iam::aws:policy/${policy}`;
}

/** A trust policy letting an AWS service assume a role. */
export function servicePrincipalTrust(service: string, actions: string[]): object {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }] };
}

/** One IAM role for a Kubernetes ServiceAccount (IRSA): its resource id, who may assume it, what it may do. */
export interface IrsaRoleSpec {
  /** Resource name suffix: the role is `<cluster>-<id>`. */
  readonly id: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** AWS managed policies attached to the role (names under `aws:policy/`). */
  readonly policies?: readonly string[];
  /** An inline policy document. */
  readonly inline?: object;
}

/** An IAM role only the given Kubernetes ServiceAccount can assume (IRSA). */
export function irsaRole(ctx: EksAddOnContext, parent: pulumi.Resource, spec: IrsaRoleSpec): aws.iam.Role {
  const o = awsOpts(ctx, parent);
  const role = new aws.iam.Role(
    `${ctx.name}-${spec.id}`,
    {
      assumeRolePolicy: pulumi.all([ctx.oidc.providerArn, ctx.oidc.issuerHost]).apply(([providerArn, host]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: providerArn },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: {
                  [`${host}:sub`]: `system:serviceaccount:${spec.namespace}:${spec.serviceAccount}`,
                  [`${host}:aud`]: "sts.amazonaws.com",
                },
              },
            },
          ],
        }),
      ),
    },
    o,
  );
  (spec.policies ?? []).forEach(
    (p) =>
      new aws.iam.RolePolicyAttachment(
        `${ctx.name}-${spec.id}-${p}`,
        { role: role.name, policyArn: managedPolicyArn(ctx.facts, p) },
        o,
      ),
  );
  if (spec.inline)
    new aws.iam.RolePolicy(`${ctx.name}-${spec.id}`, { role: role.id, policy: JSON.stringify(spec.inline) }, o);
  return role;
}
