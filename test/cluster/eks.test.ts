import type { RunResult } from "../../tools/offline/run";
import { eksSafety, eksSubnetPlan } from "../../components/cluster/eks";
import { getObject, setConfig, stackConfig } from "../helpers/program";
import { clusterHandle, ofType, one, unsecret, runLayers, withIdentity } from "./harness";

type Inputs = Record<string, unknown>;
const inputs = (r: { inputs: Inputs }) => r.inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("an EKS cluster (prod stack)", () => {
  let prod: RunResult;
  let dev: RunResult;
  beforeAll(async () => {
    [prod, dev] = [await runLayers("prod"), await runLayers("dev")];
  });

  it("pins the Kubernetes version from config and encrypts Secrets with a rotating KMS key", () => {
    const cluster = inputs(one(prod, "aws:eks/cluster:Cluster"));
    expect(cluster.version).toBe("1.36");
    expect(cluster.encryptionConfig.resources).toEqual(["secrets"]);
    expect(cluster.encryptionConfig.provider.keyArn).toMatch(/^arn:aws:kms:/);
    const key = inputs(one(prod, "aws:kms/key:Key", "blueprint-prod-secrets"));
    expect(key.enableKeyRotation).toBe(true);
  });

  it("ships the api, audit and authenticator control-plane logs to a log group with retention", () => {
    expect(inputs(one(prod, "aws:eks/cluster:Cluster")).enabledClusterLogTypes).toEqual([
      "api",
      "audit",
      "authenticator",
    ]);
    const logs = inputs(one(prod, "aws:cloudwatch/logGroup:LogGroup", "blueprint-prod-control-plane"));
    expect(logs.name).toBe("/aws/eks/blueprint-prod/cluster");
    expect(logs.retentionInDays).toBe(365);
  });

  it("keeps the endpoint private and opens the public one only to the configured networks", () => {
    const vpc = inputs(one(prod, "aws:eks/cluster:Cluster")).vpcConfig;
    expect(vpc.endpointPrivateAccess).toBe(true);
    expect(vpc.endpointPublicAccess).toBe(true);
    expect(vpc.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
  });

  it("has no public endpoint at all when no networks are listed", async () => {
    const cfg = setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.publicAccessCidrs", []);
    const vpc = inputs(one(await runLayers("dev", cfg), "aws:eks/cluster:Cluster")).vpcConfig;
    expect(vpc.endpointPrivateAccess).toBe(true);
    expect(vpc.endpointPublicAccess).toBe(false);
    expect(vpc.publicAccessCidrs).toBeUndefined();
  });

  it("puts nodes in private subnets in three zones in prod, two in dev, with a NAT gateway per zone only in prod", () => {
    const priv = (r: RunResult) =>
      ofType(r, "aws:ec2/subnet:Subnet").filter((s) => inputs(s).tags["kubernetes.io/role/internal-elb"] === "1");
    const pub = (r: RunResult) =>
      ofType(r, "aws:ec2/subnet:Subnet").filter((s) => inputs(s).tags["kubernetes.io/role/elb"] === "1");
    expect(priv(prod).map((s) => inputs(s).availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    expect(priv(dev).map((s) => inputs(s).availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(pub(prod).map((s) => s.name)).toEqual([
      "blueprint-prod-public-eu-west-1a",
      "blueprint-prod-public-eu-west-1b",
      "blueprint-prod-public-eu-west-1c",
    ]);
    // NAT gateways live in the public subnets: one per zone in prod, one for all zones in dev.
    const natSubnets = (r: RunResult) => ofType(r, "aws:ec2/natGateway:NatGateway").map((n) => inputs(n).subnetId);
    expect(natSubnets(prod)).toEqual(pub(prod).map((s) => `${s.name}-id`));
    expect(natSubnets(dev)).toEqual([`${pub(dev)[0].name}-id`]);
    for (const s of [...priv(prod), ...pub(prod)])
      expect(inputs(s).tags["kubernetes.io/cluster/blueprint-prod"]).toBe("shared");
    // The control plane's network interfaces (and so the nodes' and pods' subnets) are the private ones only.
    expect(inputs(one(prod, "aws:eks/cluster:Cluster")).vpcConfig.subnetIds).toEqual(
      priv(prod).map((s) => `${s.name}-id`),
    );
  });

  it("carves disjoint private and public subnets from the VPC", () => {
    expect(eksSubnetPlan("10.30.0.0/16", 3)).toEqual({
      private: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"],
      public: ["10.30.224.0/22", "10.30.228.0/22", "10.30.232.0/22"],
    });
  });

  it("uses access entries (authentication mode API) with the team groups as Kubernetes groups", () => {
    expect(inputs(one(prod, "aws:eks/cluster:Cluster")).accessConfig.authenticationMode).toBe("API");
    const entries = ofType(prod, "aws:eks/accessEntry:AccessEntry").map(inputs);
    expect(entries.flatMap((e) => e.kubernetesGroups).sort()).toEqual([
      "payments-developers",
      "payments-maintainers",
      "payments-support",
      "shop-developers",
      "shop-maintainers",
      "shop-support",
    ]);
    for (const e of entries) {
      expect(e.type).toBe("STANDARD");
      expect(e.principalArn).toMatch(/^arn:aws:iam::\d{12}:role\//);
    }
  });

  it("maps a team group to an existing IAM role when one is configured, without creating a role for it", async () => {
    const role = "arn:aws:iam::123456789012:role/AWSReservedSSO_ShopMaintainers_abc";
    const result = await runLayers(
      "prod",
      setConfig(stackConfig("prod.platform"), "blueprint:cluster.aws.groupRoles", { "shop-maintainers": role }),
    );
    const entry = ofType(result, "aws:eks/accessEntry:AccessEntry")
      .map(inputs)
      .find((e) => e.principalArn === role);
    expect(entry?.kubernetesGroups).toEqual(["shop-maintainers"]);
    expect(ofType(result, "aws:iam/role:Role").some((r) => r.name.includes("group-shop-maintainers"))).toBe(false);
  });

  it("registers an OIDC provider for IRSA, and the EBS CSI driver add-on assumes its own role through it", () => {
    expect(inputs(one(prod, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")).clientIdLists).toEqual([
      "sts.amazonaws.com",
    ]);
    const ebs = ofType(prod, "aws:eks/addon:Addon").find((a) => inputs(a).addonName === "aws-ebs-csi-driver")!;
    const role = one(
      { resources: ofType(prod, "aws:iam/role:Role").filter((r) => r.name === "blueprint-prod-ebs-csi") },
      "aws:iam/role:Role",
    );
    expect(inputs(ebs).serviceAccountRoleArn).toBe(role.state.arn);
    const trust = JSON.parse(inputs(role).assumeRolePolicy);
    const cond = trust.Statement[0].Condition.StringEquals;
    expect(Object.entries(cond)).toEqual(
      expect.arrayContaining([
        [expect.stringMatching(/:sub$/), "system:serviceaccount:kube-system:ebs-csi-controller-sa"],
      ]),
    );
    expect(trust.Statement[0].Principal.Federated).toMatch(/oidc-provider\/oidc\.eks\./);
  });

  it("enforces network policies in the VPC CNI and installs metrics-server, CoreDNS, kube-proxy and log and metrics shipping as managed add-ons", () => {
    const addons = new Map(ofType(prod, "aws:eks/addon:Addon").map((a) => [inputs(a).addonName as string, inputs(a)]));
    expect([...addons.keys()].sort()).toEqual([
      "amazon-cloudwatch-observability",
      "aws-ebs-csi-driver",
      "coredns",
      "kube-proxy",
      "metrics-server",
      "snapshot-controller",
      "vpc-cni",
    ]);
    expect(addons.get("amazon-cloudwatch-observability")!.serviceAccountRoleArn).toBeDefined();
    const trust = ofType(prod, "aws:iam/role:Role")
      .map((r) => JSON.stringify(inputs(r).assumeRolePolicy))
      .filter((t) => t.includes("amazon-cloudwatch:cloudwatch-agent"));
    expect(trust).toHaveLength(1);
    expect(addons.get("amazon-cloudwatch-observability")!.serviceAccountRoleArn).toBe(
      ofType(prod, "aws:iam/role:Role").find((r) => r.name === "blueprint-prod-cloudwatch-observability")!.state.arn,
    );
    expect(JSON.parse(addons.get("vpc-cni")!.configurationValues).enableNetworkPolicy).toBe("true");
    expect(inputs(one(prod, "aws:eks/cluster:Cluster")).bootstrapSelfManagedAddons).toBe(false);
  });

  it("sizes managed node groups from config, with IMDSv2-only (hop limit 2 for the observability agents), encrypted gp3 root volumes", () => {
    const groups = ofType(prod, "aws:eks/nodeGroup:NodeGroup").map(inputs);
    // One group per zone in production: the pool's 3..12 nodes shared out over three zones.
    expect(groups.map((g) => g.scalingConfig)).toEqual(
      Array(3).fill(expect.objectContaining({ minSize: 1, maxSize: 4 })),
    );
    for (const group of groups) {
      expect(group.instanceTypes).toEqual(["m7i.xlarge", "m6i.xlarge"]);
      expect(group.version).toBe("1.36");
    }
    const lt = inputs(one(prod, "aws:ec2/launchTemplate:LaunchTemplate"));
    expect(lt.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 2 });
    expect(lt.blockDeviceMappings[0].ebs).toMatchObject({ volumeType: "gp3", encrypted: "true" });
  });

  it("lets nodes pull from ECR and installs the Cluster Autoscaler and the Load Balancer Controller on the cluster's provider", () => {
    const attached = ofType(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (a) => inputs(a).policyArn as string,
    );
    expect(attached).toContain("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly");
    // The cluster's own releases, in kube-system (the monitoring stack has a namespace of its own).
    const releases = ofType(prod, "kubernetes:helm.sh/v3:Release")
      .map(inputs)
      .filter((r) => r.namespace === "kube-system");
    expect(releases.map((r) => r.chart).sort()).toEqual(["aws-load-balancer-controller", "cluster-autoscaler"]);
    const ca = releases.find((r) => r.chart === "cluster-autoscaler")!;
    expect(ca.values.autoDiscovery.clusterName).toBe("blueprint-prod");
    expect(ca.values.image.tag).toBe("v1.36.0");
    for (const r of releases) expect(r.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("gives the default StorageClass encrypted gp3 volumes from the EBS CSI driver", () => {
    const sc = getObject(prod, "StorageClass", "app-storage");
    expect(sc.provisioner).toBe("ebs.csi.aws.com");
    expect(sc.parameters).toEqual({ type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" });
  });

  it("protects the cluster from deletion in prod only", async () => {
    expect(inputs(one(prod, "aws:eks/cluster:Cluster")).deletionProtection).toBe(true);
    expect(inputs(one(dev, "aws:eks/cluster:Cluster")).deletionProtection).toBe(false);
    expect(eksSafety(true)).toEqual({ protect: true, deletionProtection: true });
    expect(eksSafety(false)).toEqual({ protect: false, deletionProtection: false });
    expect((await clusterHandle("prod.platform")).handle.safety).toEqual({ protect: true, deletionProtection: true });
  });

  it("builds a secret kubeconfig with `aws eks get-token` exec auth and no token", () => {
    const provider = inputs(one(prod, "pulumi:providers:kubernetes", "blueprint-prod-k8s"));
    const text = unsecret(provider.kubeconfig);
    expect(text).not.toBe(provider.kubeconfig);
    const kc = JSON.parse(text as string);
    expect(kc.users[0].user.exec).toMatchObject({
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", "blueprint-prod", "--region", "eu-west-1", "--output", "json"],
    });
    expect(kc.users[0].user.token).toBeUndefined();
    expect(kc.clusters[0].cluster.server).toMatch(/^https:\/\/.+\.eks\.amazonaws\.com$/);
    expect(prod.outputs.kubeconfig).toBe("[secret]");
  });

  it("annotates a ServiceAccount with its IAM role for IRSA", async () => {
    const role = "arn:aws:iam::123456789012:role/shop-frontend";
    const { platform, team } = withIdentity("dev", "frontend", role);
    const result = await runLayers("dev", platform, team);
    expect(getObject(result, "ServiceAccount", "shop/frontend").metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": role,
    });
  });

  it("serves Ingresses through ALBs and lets the ALB's subnets reach the pods", () => {
    const ing = getObject(prod, "Ingress", "shop/frontend");
    expect((ing.spec as { ingressClassName: string }).ingressClassName).toBe("alb");
    expect(ing.metadata.annotations).toMatchObject({
      "alb.ingress.kubernetes.io/target-type": "ip",
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
    });
    // The controller looks up the ACM certificate by the TLS hosts; no Secret is named.
    expect((ing.spec as { tls: unknown }).tls).toEqual([{ hosts: ["shop.example.com"] }]);
    const np = getObject(prod, "NetworkPolicy", "shop/frontend-from-ingress") as unknown as {
      spec: { ingress: { from: { ipBlock: { cidr: string } }[] }[] };
    };
    expect(np.spec.ingress[0].from.map((p) => p.ipBlock.cidr)).toEqual(eksSubnetPlan("10.30.0.0/16", 3).public);
  });

  it("pulls mirrored images from an ECR pull-through cache by the same digest", async () => {
    const cfg = setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.registryMirror", {
      upstream: "ghcr.io",
      credentialArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf",
    });
    const { handle, resources } = await clusterHandle("dev.platform", cfg);
    const rule = resources.find((r) => r.type === "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")!;
    expect(rule.inputs).toMatchObject({ ecrRepositoryPrefix: "ghcr", upstreamRegistryUrl: "ghcr.io" });
    const ref = "ghcr.io/stefanprodan/podinfo@sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";
    expect(handle.registry).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr");
    expect(handle.pullReference(ref)).toBe(
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr/stefanprodan/podinfo@sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e",
    );
    expect(handle.pullReference("docker.io/library/nginx@sha256:" + "b".repeat(64))).toBe(
      "docker.io/library/nginx@sha256:" + "b".repeat(64),
    );
  });
});
