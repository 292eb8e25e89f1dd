import { createHash } from "node:crypto";
import { redactSecrets, stableJson, type CallAnswer, type ComputedState, type RegisteredResource } from "./mocks";

/**
 * Outputs that cloud providers compute (endpoints, ARNs, certificates), filled in so the program
 * sees realistic values offline, and answers to the data-source calls it makes. Values are
 * derived deterministically from the resource's name and inputs, so renders are reproducible.
 * The account, project number and zones are obviously fake: nothing here is a real cloud.
 */

/** The AWS account the offline AWS calls answer with. */
export const OFFLINE_AWS_ACCOUNT = "123456789012";
/** The region assumed when a call does not say (the cluster's provider carries the real one). */
export const OFFLINE_AWS_REGION = "eu-west-1";
/** The project number the offline GCP calls answer with. */
export const OFFLINE_GCP_PROJECT_NUMBER = "123456789012";
/** A syntactically valid, obviously fake base64 PEM for cluster CAs. */
const FAKE_CA = Buffer.from(
  "-----BEGIN CERTIFICATE-----\nb2ZmbGluZS1yZW5kZXItbm90LWEtcmVhbC1jZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n",
).toString("base64");

function hex(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

function str(v: unknown, fallback: string): string {
  return typeof v === "string" && v.length > 0 ? v : fallback;
}

/** Resource name as the provider would auto-name it: the logical name plus a short suffix. */
function autoName(name: string, inputs: Record<string, unknown>): string {
  return str(inputs.name, `${name}-${hex(name, 7)}`);
}

const aws: Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "aws:eks/cluster:Cluster": (name, inputs) => {
    const id = hex(name, 32).toUpperCase();
    const region = str(inputs.region, OFFLINE_AWS_REGION);
    return {
      name: str(inputs.name, name),
      arn: `arn:aws:eks:${region}:${OFFLINE_AWS_ACCOUNT}:cluster/${str(inputs.name, name)}`,
      endpoint: `https://${id}.gr7.${region}.eks.amazonaws.com`,
      certificateAuthority: { data: FAKE_CA },
      identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${id}` }] }],
      status: "ACTIVE",
      platformVersion: "eks.1",
      vpcConfig: {
        ...(inputs.vpcConfig as Record<string, unknown> | undefined),
        clusterSecurityGroupId: `sg-${hex(`${name}-cluster`, 17)}`,
      },
    };
  },
  "aws:iam/role:Role": (name, inputs) => {
    const roleName = autoName(name, inputs);
    return {
      name: roleName,
      arn: `arn:aws:iam::${OFFLINE_AWS_ACCOUNT}:role/${roleName}`,
      uniqueId: `AROA${hex(name, 17).toUpperCase()}`,
    };
  },
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (name, inputs) => ({
    arn: `arn:aws:iam::${OFFLINE_AWS_ACCOUNT}:oidc-provider/${str(inputs.url, name).replace(/^https:\/\//, "")}`,
  }),
  "aws:kms/key:Key": (name) => {
    const keyId = `${hex(name, 8)}-${hex(`${name}1`, 4)}-${hex(`${name}2`, 4)}-${hex(`${name}3`, 4)}-${hex(`${name}4`, 12)}`;
    return { keyId, arn: `arn:aws:kms:${OFFLINE_AWS_REGION}:${OFFLINE_AWS_ACCOUNT}:key/${keyId}` };
  },
  "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1, defaultVersion: 1 }),
  // Auto-named by Pulumi (the logical name and a random suffix): here a suffix derived from the name.
  "aws:rds/parameterGroup:ParameterGroup": (name, inputs) => ({ name: autoName(name, inputs) }),
  "aws:rds/clusterParameterGroup:ClusterParameterGroup": (name, inputs) => ({ name: autoName(name, inputs) }),
  "aws:rds/subnetGroup:SubnetGroup": (name, inputs) => ({ name: autoName(name, inputs) }),
  "aws:elasticache/subnetGroup:SubnetGroup": (name, inputs) => ({ name: autoName(name, inputs) }),
  "aws:rds/instance:Instance": (name, inputs) => {
    const identifier = autoName(name, { name: inputs.identifier });
    const address = `${identifier}.${hex(name, 12)}.${OFFLINE_AWS_REGION}.rds.amazonaws.com`;
    return {
      identifier,
      address,
      endpoint: `${address}:${String(inputs.port ?? 5432)}`,
      arn: `arn:aws:rds:${OFFLINE_AWS_REGION}:${OFFLINE_AWS_ACCOUNT}:db:${identifier}`,
    };
  },
  "aws:rds/cluster:Cluster": (name, inputs) => {
    const identifier = autoName(name, { name: inputs.clusterIdentifier });
    return {
      clusterIdentifier: identifier,
      endpoint: `${identifier}.cluster-${hex(name, 12)}.${OFFLINE_AWS_REGION}.rds.amazonaws.com`,
      arn: `arn:aws:rds:${OFFLINE_AWS_REGION}:${OFFLINE_AWS_ACCOUNT}:cluster:${identifier}`,
    };
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": (name) => ({
    primaryEndpointAddress: `master.${name}.${hex(name, 6)}.euw1.cache.amazonaws.com`,
    arn: `arn:aws:elasticache:${OFFLINE_AWS_REGION}:${OFFLINE_AWS_ACCOUNT}:replicationgroup:${name}`,
  }),
  "aws:eks/nodeGroup:NodeGroup": (name) => ({
    arn: `arn:aws:eks:${OFFLINE_AWS_REGION}:${OFFLINE_AWS_ACCOUNT}:nodegroup/${name}`,
    status: "ACTIVE",
  }),
};

const gcp: Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "gcp:container/cluster:Cluster": (name, inputs) => ({
    name: str(inputs.name, name),
    // A private endpoint address inside the Google-managed control-plane range.
    endpoint: `172.16.${parseInt(hex(name, 2), 16)}.2`,
    masterAuth: { ...(inputs.masterAuth as Record<string, unknown> | undefined), clusterCaCertificate: FAKE_CA },
    selfLink: `https://container.googleapis.com/v1/projects/offline/locations/${str(inputs.location, "offline")}/clusters/${str(inputs.name, name)}`,
  }),
  "gcp:serviceaccount/account:Account": (name, inputs) => {
    const accountId = str(inputs.accountId, name);
    const project = str(inputs.project, "offline-project");
    return { email: `${accountId}@${project}.iam.gserviceaccount.com`, uniqueId: String(BigInt(`0x${hex(name, 15)}`)) };
  },
  "gcp:artifactregistry/repository:Repository": (name, inputs) => ({ name: str(inputs.repositoryId, name) }),
  // Auto-named by Pulumi (a random suffix per creation); here a suffix derived from the name.
  "gcp:kms/keyRing:KeyRing": (name, inputs) => ({ name: autoName(name, inputs) }),
  "gcp:kms/cryptoKey:CryptoKey": (name, inputs) => ({ name: autoName(name, inputs) }),
  "gcp:compute/globalAddress:GlobalAddress": (name, inputs) => ({
    name: autoName(name, inputs),
    // From the documentation range TEST-NET-3: reaches nobody.
    address: `203.0.113.${(parseInt(hex(name, 2), 16) % 254) + 1}`,
  }),
  "gcp:container/nodePool:NodePool": (name, inputs) => ({
    name: `${str(inputs.namePrefix, `${name}-`)}${hex(name, 8)}`,
  }),
  "gcp:sql/databaseInstance:DatabaseInstance": (name, inputs) => ({
    name: autoName(name, inputs),
    // From the private services range the stacks reserve (10.60.0.0/20 by default).
    privateIpAddress: `10.60.${parseInt(hex(name, 2), 16) % 16}.${(parseInt(hex(`${name}ip`, 2), 16) % 254) + 1}`,
    serverCaCerts: [{ cert: Buffer.from(FAKE_CA, "base64").toString() }],
  }),
  "gcp:redis/instance:Instance": (name) => ({
    host: `10.60.${parseInt(hex(name, 2), 16) % 16}.${(parseInt(hex(`${name}ip`, 2), 16) % 254) + 1}`,
    port: 6378,
    authString: `offline${hex(`${name}auth`, 32)}`,
    serverCaCerts: [{ cert: Buffer.from(FAKE_CA, "base64").toString() }],
  }),
  "gcp:projects/serviceIdentity:ServiceIdentity": (_name, inputs) => ({
    email: `service-${OFFLINE_GCP_PROJECT_NUMBER}@gcp-sa-${str(inputs.service, "service") === "sqladmin.googleapis.com" ? "cloud-sql" : str(inputs.service, "service").split(".")[0]}.iam.gserviceaccount.com`,
  }),
};

/** Generated values: derived from the name (never a real secret), as long as asked for. */
const generated: Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "random:index/randomId:RandomId": (name, inputs) => ({
    hex: hex(name, 2 * (typeof inputs.byteLength === "number" ? inputs.byteLength : 4)),
  }),
  "random:index/randomPassword:RandomPassword": (name, inputs) => {
    const length = typeof inputs.length === "number" ? inputs.length : 16;
    return { result: `offline${hex(name, 64)}`.slice(0, length) };
  },
};

/** Keyed by resource type token. */
export const cloudState: ComputedState = (type, name, inputs) =>
  (aws[type] ?? gcp[type] ?? generated[type])?.(name, inputs);

/** Answers to cloud data-source calls, keyed by function token. */
export const cloudCalls: CallAnswer = (token, inputs) => {
  switch (token) {
    case "aws:index/getPartition:getPartition":
      return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        id: OFFLINE_AWS_ACCOUNT,
        accountId: OFFLINE_AWS_ACCOUNT,
        arn: `arn:aws:iam::${OFFLINE_AWS_ACCOUNT}:user/offline`,
        userId: "AIDAOFFLINE",
      };
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const region = str(inputs.region, OFFLINE_AWS_REGION);
      const names = ["a", "b", "c"].map((z) => `${region}${z}`);
      return {
        id: region,
        region,
        names,
        zoneIds: names.map((_, i) => `${region.replace(/-/g, "")}-az${i + 1}`),
        groupNames: names,
      };
    }
    case "aws:eks/getAddonVersion:getAddonVersion": {
      // A build that looks like EKS's (`v<x>.<y>.<z>-eksbuild.<n>`), derived from add-on and minor.
      const addon = str(inputs.addonName, "addon");
      const minor = str(inputs.kubernetesVersion, "1.0").split(".")[1] ?? "0";
      return {
        id: addon,
        addonName: addon,
        kubernetesVersion: inputs.kubernetesVersion,
        version: `v1.${minor}.${parseInt(hex(addon, 2), 16) % 10}-eksbuild.1`,
      };
    }
    case "gcp:organizations/getProject:getProject": {
      const projectId = str(inputs.projectId, "offline-project");
      return { id: `projects/${projectId}`, projectId, number: OFFLINE_GCP_PROJECT_NUMBER, name: projectId };
    }
    default:
      return undefined;
  }
};

/** One cloud resource as `pulumi up` would send it to its provider. */
export interface CloudResourceEntry {
  readonly type: string;
  readonly name: string;
  /** Inputs with keys sorted and secrets replaced by `[secret]`. */
  readonly inputs: unknown;
}

/** One Helm release as it would be installed. */
export interface HelmReleaseEntry {
  readonly name: string;
  readonly chart: unknown;
  readonly version: unknown;
  readonly repository: unknown;
  readonly namespace: unknown;
  readonly values: unknown;
}

/**
 * What a stack deploys outside Kubernetes objects, for `rendered/<stack>.stack.json`: every cloud
 * resource with its inputs, and every Helm release with chart, version and values, secrets
 * redacted and keys sorted, so that two renders diff to exactly the cloud changes.
 */
export function cloudInventory(resources: readonly RegisteredResource[]): {
  cloudResources: CloudResourceEntry[];
  helmReleases: HelmReleaseEntry[];
} {
  const plain = (v: unknown): unknown => JSON.parse(stableJson(redactSecrets(v ?? {})));
  const cloudResources = resources
    .filter(
      (r) =>
        r.custom &&
        !r.type.startsWith("kubernetes:") &&
        !r.type.startsWith("pulumi:pulumi:") &&
        r.type !== "pulumi:providers:kubernetes",
    )
    .map((r) => ({ type: r.type, name: r.name, inputs: plain(r.inputs) }));
  const helmReleases = resources
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => {
      const i = plain(r.inputs) as Record<string, unknown>;
      return {
        name: r.name,
        chart: i.chart,
        version: i.version,
        repository: (i.repositoryOpts as { repo?: unknown } | undefined)?.repo,
        namespace: i.namespace,
        values: i.values ?? {},
      };
    });
  return { cloudResources, helmReleases };
}
