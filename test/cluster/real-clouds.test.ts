import type { RunResult } from "../../tools/offline/run";
import { eksNodeGroupPlan, groupRoleTrust, loadBalancerControllerPolicy } from "../../components/cluster/eks";
import { placeholderProblems, validateCluster } from "../../config/cluster-rules";
import { clusterSchema } from "../../lib/cluster-config";
import {
  clusterAutoscalerImageTag,
  evaluationDate,
  kubernetesVersionTable,
  supportStatus,
} from "../../lib/kubernetes-versions";
import { cloudInventory } from "../../tools/offline/cloud-state";
import { asPlatform, getObject, platformOf, setConfig, stackConfig } from "../helpers/program";
import { documentedLoadBalancerControllerPolicy } from "./fixtures/lbc-iam-policy";
import {
  clusterHandle,
  ofType,
  one,
  registration,
  runFailing,
  runStackWithGraph,
  type Registration,
  type ResourceKey,
  runLayers,
  urnOf,
  withIdentity,
} from "./harness";

type Inputs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const inputs = (r: { inputs: Record<string, unknown> }) => r.inputs as Inputs;
const NOW = new Date("2026-11-29T12:00:00Z");
const GSA = "shop-frontend@acme-blueprint-prod.iam.gserviceaccount.com";
const ROLE = "arn:aws:iam::123456789012:role/shop-frontend";

/** Every (action, resource, condition) a policy allows, as comparable strings. */
function grants(policy: {
  Statement: readonly {
    Action: string | readonly string[];
    Resource: string | readonly string[];
    Condition?: unknown;
  }[];
}): string[] {
  const list = (v: string | readonly string[]) => (typeof v === "string" ? [v] : [...v]);
  return policy.Statement.flatMap((s) =>
    list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${a} ${r} ${JSON.stringify(s.Condition ?? {})}`)),
  ).sort();
}

/** Expects the stack to fail with a config error on `key` before any cloud resource. */
async function refused(
  env: string,
  edits: [string, unknown][],
  key: string,
  says: RegExp,
  layer = "platform",
): Promise<void> {
  const stack = `${env}.${layer}`;
  const cfg = stackConfig(stack);
  for (const [k, v] of edits) setConfig(cfg, k, v);
  const { message, registered } = await runFailing(
    stack,
    cfg,
    layer === "platform" ? undefined : await platformOf(stack),
  );
  expect(message.split("\n").find((l) => l.includes(`${key} `))).toMatch(says);
  expect(registered).toEqual([]);
}

describe("the Load Balancer Controller's IAM policy", () => {
  it("grants exactly what the pinned controller version documents", () => {
    expect(documentedLoadBalancerControllerPolicy.chartVersion).toBe("1.14.1");
    const ours = loadBalancerControllerPolicy("aws") as Parameters<typeof grants>[0];
    expect(grants(ours)).toEqual(grants({ Statement: documentedLoadBalancerControllerPolicy.statements }));
  });

  it("can reorder rules and tag listeners and listener rules, which ALBs need to get listeners", () => {
    const g = grants(loadBalancerControllerPolicy("aws") as Parameters<typeof grants>[0]);
    expect(g).toContain("elasticloadbalancing:SetRulePriorities * {}");
    expect(g).toContain("elasticloadbalancing:AddTags arn:aws:elasticloadbalancing:*:*:listener/app/*/*/* {}");
    expect(g).toContain("elasticloadbalancing:AddTags arn:aws:elasticloadbalancing:*:*:listener-rule/app/*/*/* {}");
  });

  it("is the policy the controller's role carries, in the account's partition", async () => {
    const prod = await runLayers("prod");
    const inline = ofType(prod, "aws:iam/rolePolicy:RolePolicy").find(
      (p) => p.name === "blueprint-prod-load-balancer-controller",
    )!;
    expect(JSON.parse(inputs(inline).policy)).toEqual(loadBalancerControllerPolicy("aws"));
    expect(JSON.stringify(loadBalancerControllerPolicy("aws-cn"))).not.toContain("arn:aws:");
  });
});

describe("ordering a real engine relies on", () => {
  let eks: { result: RunResult; graph: Map<ResourceKey, Registration> };
  let eksTeam: { result: RunResult; graph: Map<ResourceKey, Registration> };
  let gke: { result: RunResult; graph: Map<ResourceKey, Registration> };
  beforeAll(async () => {
    eks = await runStackWithGraph("prod.platform");
    const teamCfg = setConfig(stackConfig("prod.shop"), "blueprint:apps.frontend.releaseJob", {
      command: ["/bin/true"],
    });
    setConfig(teamCfg, "blueprint:apps.frontend.egress", [{ cidrs: ["10.99.0.0/16"], ports: [{ port: 5432 }] }]);
    eksTeam = await runStackWithGraph("prod.shop", teamCfg, asPlatform(eks.result));
    gke = await runStackWithGraph("prod-gke.platform", withIdentity("prod-gke", "frontend", GSA).platform);
  });

  it("carries what Ingresses depend on in the cluster handle", async () => {
    const ingressDeps = (await clusterHandle("prod.platform")).handle.ingress.dependsOn;
    expect(await Promise.all(ingressDeps.map(urnOf))).toEqual([
      "urn:pulumi:prod.platform::blueprint::blueprint:cluster:Eks$kubernetes:helm.sh/v3:Release::blueprint-prod-load-balancer-controller",
    ]);
    expect((await clusterHandle("prod-gke.platform")).handle.ingress.dependsOn).toEqual([]);
  });

  it("binds a Workload Identity member only after the GKE cluster (and so its identity pool) exists", () => {
    const member = registration(
      gke.graph,
      "gcp:serviceaccount/iAMMember:IAMMember::blueprint-prod-gke-wi-shop-frontend",
    );
    expect([...member.dependsOn]).toContain("gcp:container/cluster:Cluster::blueprint-prod-gke-gke");
  });

  it("gates the Kubernetes provider on nodes, CNI, kube-proxy and CoreDNS, never on optional add-ons", () => {
    const deps = [...registration(eks.graph, "pulumi:providers:kubernetes::blueprint-prod-k8s").dependsOn];
    const addons = deps
      .filter((d) => d.startsWith("aws:eks/addon:Addon::"))
      .map((d) => d.replace("aws:eks/addon:Addon::blueprint-prod-", ""))
      .sort();
    expect(addons).toEqual(["coredns", "kube-proxy", "vpc-cni"]);
    expect(deps.filter((d) => d.startsWith("aws:eks/nodeGroup:NodeGroup::")).sort()).toEqual(
      ["a", "b", "c"].map((z) => `aws:eks/nodeGroup:NodeGroup::blueprint-prod-general-${z}`),
    );
  });

  it("selects the release Job's pods as well as the app's with the egress policy", () => {
    const policy = eksTeam.result.objects.find(
      (o) => o.kind === "NetworkPolicy" && (o.metadata as { name: string }).name === "frontend-egress",
    ) as Inputs;
    const job = eksTeam.result.objects.find((o) => o.kind === "Job") as Inputs;
    const deployment = eksTeam.result.objects.find(
      (o) => o.kind === "Deployment" && (o.metadata as { name: string }).name === "frontend",
    ) as Inputs;
    for (const pods of [job.spec.template.metadata.labels, deployment.spec.template.metadata.labels])
      expect(pods).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: "10.99.0.0/16" } }],
      ports: [{ port: 5432, protocol: "TCP" }],
    });
  });

  it("lets an app's release Job and pods start only once their egress is allowed", () => {
    expect([...registration(eksTeam.graph, "blueprint:k8s:AdminJob::frontend").dependsOn]).toContain(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy::frontend",
    );
    expect([...registration(eksTeam.graph, "blueprint:k8s:Workload::frontend").dependsOn]).toContain(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy::frontend",
    );
  });
});

describe("Kubernetes versions", () => {
  const cluster = (
    cloud: "aws" | "gcp",
    version: string,
    over: { extendedSupport?: boolean; gcp?: Record<string, unknown> } = {},
  ) =>
    clusterSchema.parse(
      cloud === "aws"
        ? {
            cloud,
            kubernetesVersion: version,
            extendedSupport: over.extendedSupport,
            aws: { region: "eu-west-1", nodeGroups: { g: { instanceTypes: ["m7i.large"], minSize: 1, maxSize: 3 } } },
          }
        : {
            cloud,
            kubernetesVersion: version,
            extendedSupport: over.extendedSupport,
            gcp: {
              project: "my-project-1",
              region: "europe-west1",
              zones: ["europe-west1-b", "europe-west1-c"],
              nodePools: { g: { minSize: 1, maxSize: 3 } },
              ...over.gcp,
            },
          },
    );
  const versionProblems = (c: ReturnType<typeof cluster>, now = NOW) =>
    validateCluster(c, { production: false, now }).filter(
      (p) => p.key.endsWith("kubernetesVersion") || p.key.endsWith("releaseChannel"),
    );

  const shipped = () =>
    ["dev", "staging", "prod", "prod-gke", "local"].map(
      (env) => [env, JSON.parse(stackConfig(`${env}.platform`).config["blueprint:cluster"])] as const,
    );

  it("ships a minor in standard support on every cloud as of 2026-11-29", () => {
    for (const [stack, cfg] of shipped())
      expect([stack, supportStatus(cfg.cloud, cfg.kubernetesVersion, NOW)]).toEqual([stack, "standard"]);
  });

  // The one test on the real clock: when it fails, refresh lib/kubernetes-versions.ts and upgrade the stacks.
  it("ships minors still in standard support on the day the tests run", () => {
    for (const [stack, cfg] of shipped())
      expect([stack, supportStatus(cfg.cloud, cfg.kubernetesVersion, new Date())]).toEqual([stack, "standard"]);
  });

  it("evaluates on the day BLUEPRINT_EVALUATION_DATE pins, else today, and refuses a malformed day", () => {
    expect(evaluationDate({ BLUEPRINT_EVALUATION_DATE: "2027-09-01" }).toISOString()).toBe("2027-09-01T00:00:00.000Z");
    expect(Math.abs(evaluationDate({}).getTime() - Date.now())).toBeLessThan(60_000);
    expect(() => evaluationDate({ BLUEPRINT_EVALUATION_DATE: "2027-02-30" })).toThrow(
      /must be a day such as 2026-11-29, got "2027-02-30"/,
    );
  });

  it("refuses the shipped EKS minor once its standard support has ended, on the pinned day", async () => {
    const pinned = process.env.BLUEPRINT_EVALUATION_DATE;
    process.env.BLUEPRINT_EVALUATION_DATE = "2027-08-03";
    try {
      await refused(
        "prod",
        [],
        "blueprint:cluster.kubernetesVersion",
        /"1.36" is past its end of standard support on EKS \(2027-08-02\)/,
      );
    } finally {
      process.env.BLUEPRINT_EVALUATION_DATE = pinned;
    }
  });

  it("refuses a minor past end of standard support unless extended support is chosen", () => {
    expect(versionProblems(cluster("aws", "1.33"))).toEqual([
      {
        key: "blueprint:cluster.kubernetesVersion",
        message: expect.stringMatching(
          /"1.33" is past its end of standard support on EKS \(2026-07-29\): upgrade to "1.36", or set blueprint:cluster.extendedSupport: true/,
        ),
      },
    ]);
    expect(versionProblems(cluster("aws", "1.33", { extendedSupport: true }))).toEqual([]);
  });

  it("refuses a minor past end of extended support, even with extended support", () => {
    expect(versionProblems(cluster("aws", "1.30", { extendedSupport: true }))[0].message).toMatch(
      /past its end of extended support on EKS \(2026-07-23\)/,
    );
  });

  it("refuses minors a cloud does not offer", () => {
    expect(versionProblems(cluster("aws", "1.39"))[0].message).toMatch(
      /"1.39" does not exist on EKS \(offered on 2026-11-29: 1.32, 1.33, 1.34, 1.35, 1.36\)/,
    );
    // On GKE the release channel decides (1.37 is in Rapid only).
    expect(versionProblems(cluster("gcp", "1.37"))[0].message).toMatch(
      /"1.37" is not offered in the GKE REGULAR release channel/,
    );
  });

  it("evaluates the table on the day it is given, so a minor ages out deterministically", () => {
    expect(versionProblems(cluster("aws", "1.34"), new Date("2026-12-02T23:59:00Z"))).toEqual([]);
    expect(versionProblems(cluster("aws", "1.34"), new Date("2026-12-03T00:00:00Z"))[0].message).toMatch(
      /end of standard support on EKS \(2026-12-02\)/,
    );
    expect(versionProblems(cluster("aws", "1.36"), new Date("2026-05-01T00:00:00Z"))[0].message).toMatch(
      /not available on EKS before 2026-06-02/,
    );
  });

  it("on GKE takes extended support only through the Extended channel, and only when chosen", () => {
    expect(versionProblems(cluster("gcp", "1.34"))[0].message).toMatch(/past its end of standard support on GKE/);
    expect(
      versionProblems(cluster("gcp", "1.34", { extendedSupport: true, gcp: { releaseChannel: "EXTENDED" } })),
    ).toEqual([]);
    expect(versionProblems(cluster("gcp", "1.34", { extendedSupport: true }))[0]).toEqual({
      key: "blueprint:cluster.gcp.releaseChannel",
      message: expect.stringContaining("must be EXTENDED"),
    });
    expect(versionProblems(cluster("gcp", "1.36", { gcp: { releaseChannel: "EXTENDED" } }))[0]).toEqual({
      key: "blueprint:cluster.gcp.releaseChannel",
      message: expect.stringContaining("costs extra"),
    });
  });

  it("keeps every table entry's dates in order", () => {
    for (const [cloud, minors] of Object.entries(kubernetesVersionTable)) {
      for (const [minor, m] of Object.entries(minors)) {
        expect([
          cloud,
          minor,
          m.released < m.standardEnd && (m.extendedEnd === undefined || m.standardEnd < m.extendedEnd),
        ]).toEqual([cloud, minor, true]);
      }
    }
  });

  it("refuses an EKS stack on a minor past standard support before any resource, and pays for extended support only when told", async () => {
    await refused(
      "prod",
      [["blueprint:cluster.kubernetesVersion", "1.33"]],
      "blueprint:cluster.kubernetesVersion",
      /past its end of standard support on EKS/,
    );
    const cfg = setConfig(
      setConfig(stackConfig("dev.platform"), "blueprint:cluster.kubernetesVersion", "1.33"),
      "blueprint:cluster.extendedSupport",
      true,
    );
    const dev = await runLayers("dev", cfg);
    expect(inputs(one(dev, "aws:eks/cluster:Cluster")).upgradePolicy).toEqual({ supportType: "EXTENDED" });
    const ca = ofType(dev, "kubernetes:helm.sh/v3:Release")
      .map(inputs)
      .find((r) => r.chart === "cluster-autoscaler")!;
    expect(ca.values.image.tag).toBe("v1.33.0");
    expect(clusterAutoscalerImageTag("1.36")).toBe("v1.36.0");
  });
});

describe("egress", () => {
  it("lets an app reach the CIDRs and ports it lists, never link-local metadata", async () => {
    const cfg = setConfig(stackConfig("dev.shop"), "blueprint:apps.backend.egress", [
      { cidrs: ["10.99.0.0/16"], ports: [{ port: 5432 }] },
      { cidrs: ["0.0.0.0/0"], ports: [{ port: 443 }] },
    ]);
    const np = getObject(
      await runLayers("dev", stackConfig("dev.platform"), cfg),
      "NetworkPolicy",
      "shop/backend-egress",
    ) as unknown as { spec: Inputs };
    expect(np.spec.podSelector).toEqual({
      matchLabels: { "app.kubernetes.io/name": "backend", "app.kubernetes.io/part-of": "shop" },
    });
    expect(np.spec.policyTypes).toEqual(["Egress"]);
    expect(np.spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: "10.99.0.0/16" } }], ports: [{ port: 5432, protocol: "TCP" }] },
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } }], ports: [{ port: 443, protocol: "TCP" }] },
    ]);
  });

  it("refuses a link-local egress CIDR", () =>
    refused(
      "dev",
      [["blueprint:apps.backend.egress", [{ cidrs: ["169.254.169.254/32"], ports: [{ port: 80 }] }]]],
      "blueprint:apps.backend.egress.0.cidrs",
      /must not be link-local/,
      "shop",
    ));

  it("opens HTTPS to public addresses for an app with an IAM role (STS and AWS APIs)", async () => {
    const { platform, team } = withIdentity("dev", "frontend", ROLE);
    const np = getObject(
      await runLayers("dev", platform, team),
      "NetworkPolicy",
      "shop/frontend-egress",
    ) as unknown as { spec: Inputs };
    expect(np.spec.egress).toEqual([
      {
        to: [
          {
            ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"] },
          },
        ],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    ]);
  });

  it("opens the GKE metadata server and Google APIs for an app with a Google service account", async () => {
    const { platform, team } = withIdentity("prod-gke", "frontend", GSA);
    const np = getObject(
      await runLayers("prod-gke", platform, team),
      "NetworkPolicy",
      "shop/frontend-egress",
    ) as unknown as { spec: Inputs };
    const to = np.spec.egress.map((r: Inputs) => `${r.to[0].ipBlock.cidr}:${r.ports[0].port}`);
    expect(to).toEqual(["169.254.169.254/32:80", "169.254.169.252/32:988", "0.0.0.0/0:443"]);
  });

  it("adds no egress policy to an app that asks for none", async () => {
    expect(
      (await runLayers("dev")).objects.filter((o) => (o.metadata as { name: string }).name.endsWith("-egress")),
    ).toEqual([]);
  });
});

describe("zone spread in production", () => {
  it("splits each node pool into one group per zone, sharing out its bounds", () => {
    const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    expect(eksNodeGroupPlan({ general: { minSize: 3, maxSize: 12 } }, zones, true)).toEqual([
      { id: "general-a", pool: "general", zoneIndexes: [0], minSize: 1, maxSize: 4 },
      { id: "general-b", pool: "general", zoneIndexes: [1], minSize: 1, maxSize: 4 },
      { id: "general-c", pool: "general", zoneIndexes: [2], minSize: 1, maxSize: 4 },
    ]);
    expect(eksNodeGroupPlan({ general: { minSize: 2, maxSize: 4 } }, zones.slice(0, 2), false)).toEqual([
      { id: "general", pool: "general", zoneIndexes: [0, 1], minSize: 2, maxSize: 4 },
    ]);
  });

  it("puts each production node group in one zone's subnet", async () => {
    const prod = await runLayers("prod");
    const subnets = ofType(prod, "aws:eks/nodeGroup:NodeGroup").map((g) => inputs(g).subnetIds);
    expect(subnets.map((s) => s.length)).toEqual([1, 1, 1]);
    expect(new Set(subnets.flat()).size).toBe(3);
  });

  it("refuses a node group spanning zones in production", () =>
    refused(
      "prod",
      [["blueprint:cluster.aws.nodeGroups.general.perZone", false]],
      "blueprint:cluster.aws.nodeGroups.general.perZone",
      /must not be false in a production environment/,
    ));
});

describe("team roles on EKS", () => {
  it("require explicit principals in production", () =>
    refused(
      "prod",
      [["blueprint:cluster.aws.groupPrincipals", {}]],
      "blueprint:cluster.aws.groupPrincipals",
      /must name who may act as "shop-maintainers", "shop-developers", "shop-support", "payments-maintainers", "payments-developers", "payments-support" in a production environment/,
    ));

  it("trust only the listed principals of the account in production", async () => {
    const prod = await runLayers("prod");
    const role = ofType(prod, "aws:iam/role:Role").find((r) => r.name === "blueprint-prod-group-shop-maintainers")!;
    const trust = JSON.parse(inputs(role).assumeRolePolicy);
    expect(trust.Statement[0].Condition).toEqual({
      ArnLike: {
        "aws:PrincipalArn": [
          "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_ShopMaintainers_*",
        ],
      },
    });
  });

  it("may trust the whole account outside production", () => {
    expect(groupRoleTrust("arn:aws:iam::1:root")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: ["sts:AssumeRole", "sts:TagSession"] },
      ],
    });
  });
});

describe("load balancing", () => {
  let gke: RunResult;
  let eks: RunResult;
  beforeAll(async () => {
    [gke, eks] = [await runLayers("prod-gke"), await runLayers("prod")];
  });

  it("makes container-native load balancing explicit on GKE Services behind an Ingress", () => {
    expect(getObject(gke, "Service", "shop/frontend").metadata.annotations).toEqual({
      "cloud.google.com/neg": '{"ingress": true}',
    });
    expect(getObject(gke, "Service", "shop/backend").metadata.annotations).toBeUndefined();
  });

  it("gives each GKE Ingress a reserved global static IP", () => {
    // The Ingress's address (the other global address is the private services range).
    const address = ofType(gke, "gcp:compute/globalAddress:GlobalAddress").find((r) => r.name.includes("-ingress-"))!;
    expect(inputs(address)).toMatchObject({ addressType: "EXTERNAL", ipVersion: "IPV4" });
    expect(
      getObject(gke, "Ingress", "shop/frontend").metadata.annotations!["kubernetes.io/ingress.global-static-ip-name"],
    ).toBe(address.state.name);
  });

  it("health-checks ALB targets on the readiness path, and its port when it has its own", async () => {
    const annotations = getObject(eks, "Ingress", "shop/frontend").metadata.annotations!;
    expect(annotations).toMatchObject({ "alb.ingress.kubernetes.io/healthcheck-path": "/readyz" });
    expect(annotations["alb.ingress.kubernetes.io/healthcheck-port"]).toBeUndefined();
    const cfg = setConfig(stackConfig("prod.shop"), "blueprint:apps.frontend.probes.readiness", {
      path: "/ready",
      port: 9797,
    });
    expect(
      getObject(await runLayers("prod", stackConfig("prod.platform"), cfg), "Ingress", "shop/frontend").metadata
        .annotations,
    ).toMatchObject({
      "alb.ingress.kubernetes.io/healthcheck-path": "/ready",
      "alb.ingress.kubernetes.io/healthcheck-port": "9797",
    });
  });
});

describe("what a careful team changes", () => {
  let prod: RunResult;
  let gke: RunResult;
  beforeAll(async () => {
    [prod, gke] = [await runLayers("prod"), await runLayers("prod-gke")];
  });

  it("resolves EKS add-on versions per Kubernetes minor unless pinned", async () => {
    const versions = (r: RunResult) =>
      Object.fromEntries(ofType(r, "aws:eks/addon:Addon").map((a) => [inputs(a).addonName, inputs(a).addonVersion]));
    const now = versions(prod);
    expect(Object.values(now).every((v) => /^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(String(v)))).toBe(true);
    const older = versions(
      await runLayers(
        "dev",
        setConfig(
          setConfig(stackConfig("dev.platform"), "blueprint:cluster.kubernetesVersion", "1.35"),
          "blueprint:cluster.aws.addonVersions",
          { "vpc-cni": "v1.20.0-eksbuild.1" },
        ),
      ),
    );
    expect(older["vpc-cni"]).toBe("v1.20.0-eksbuild.1");
    expect(older.coredns).not.toBe(now.coredns);
  });

  it("identifies the cluster to the Kubernetes provider, and lets non-production providers skip unreachable clusters", async () => {
    const provider = (r: RunResult) => inputs(ofType(r, "pulumi:providers:kubernetes")[0]);
    expect(provider(prod).clusterIdentifier).toBe(one(prod, "aws:eks/cluster:Cluster").state.arn);
    // Provider inputs reach the engine as strings.
    expect(String(provider(prod).deleteUnreachable)).toBe("false");
    expect(provider(gke).clusterIdentifier).toBe("blueprint-prod-gke-gke-id");
    expect(String(provider(await runLayers("dev")).deleteUnreachable)).toBe("true");
    // The team stack's provider names the same cluster, from the contract.
    expect(inputs(ofType(prod, "pulumi:providers:kubernetes")[1]).clusterIdentifier).toBe(
      one(prod, "aws:eks/cluster:Cluster").state.arn,
    );
  });

  it("auto-names GKE key rings and keys, which outlive a destroy, and name-prefixes node pools", () => {
    expect(inputs(one(gke, "gcp:kms/keyRing:KeyRing", "blueprint-prod-gke-keys")).name).toBeUndefined();
    expect(ofType(gke, "gcp:kms/cryptoKey:CryptoKey").map((k) => inputs(k).name)).toEqual([undefined, undefined]);
    const pool = inputs(one(gke, "gcp:container/nodePool:NodePool"));
    expect(pool.name).toBeUndefined();
    expect(pool.namePrefix).toBe("general-");
  });

  it("encrypts the control-plane log group with the cluster's key, which CloudWatch Logs may use for that group only", () => {
    const key = one(prod, "aws:kms/key:Key", "blueprint-prod-secrets");
    expect(inputs(one(prod, "aws:cloudwatch/logGroup:LogGroup", "blueprint-prod-control-plane")).kmsKeyId).toBe(
      key.state.arn,
    );
    const logs = JSON.parse(inputs(key).policy).Statement.find((s: Inputs) => s.Sid === "ControlPlaneLogs");
    expect(logs.Principal).toEqual({ Service: "logs.eu-west-1.amazonaws.com" });
    expect(logs.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]).toBe(
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/eks/blueprint-prod/cluster",
    );
  });

  it("exports what trust policies are built from", () => {
    expect(prod.outputs.clusterIdentity).toEqual({
      oidcProviderArn: expect.stringMatching(/:oidc-provider\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\//),
      oidcIssuer: expect.stringMatching(/^https:\/\/oidc\.eks\./),
    });
    expect(gke.outputs.clusterIdentity).toEqual({ workloadIdentityPool: "acme-blueprint-prod.svc.id.goog" });
  });

  it("makes app-storage the default StorageClass on EKS and GKE only", async () => {
    const isDefault = (r: RunResult) =>
      getObject(r, "StorageClass", "app-storage").metadata.annotations?.["storageclass.kubernetes.io/is-default-class"];
    expect(isDefault(prod)).toBe("true");
    expect(isDefault(gke)).toBe("true");
    expect(isDefault(await runLayers("local"))).toBeUndefined();
  });

  it("exports no kubeconfig for an existing cluster reached through a context, rather than an empty one", async () => {
    expect((await runLayers("local")).outputs.kubeconfig).toBeNull();
  });

  it("scans every image of the registry mirror: Inspector on ECR, Artifact Analysis on GKE", async () => {
    const mirror = {
      upstream: "ghcr.io",
      credentialArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf",
    };
    const { resources } = await clusterHandle(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.registryMirror", mirror),
    );
    expect(
      resources.find((r) => r.type === "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")?.inputs,
    ).toEqual({
      scanType: "ENHANCED",
      rules: [{ scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: [{ filter: "ghcr/*", filterType: "WILDCARD" }] }],
    });
    const off = await clusterHandle(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.registryMirror", { ...mirror, scanning: "NONE" }),
    );
    expect(off.resources.some((r) => r.type.startsWith("aws:ecr/registryScanning"))).toBe(false);
    expect(inputs(one(gke, "gcp:projects/service:Service"))).toMatchObject({
      service: "containerscanning.googleapis.com",
      disableOnDestroy: false,
    });
    expect(inputs(one(gke, "gcp:artifactregistry/repository:Repository")).vulnerabilityScanningConfig).toEqual({
      enablementConfig: "INHERITED",
    });
  });
});

describe("placeholders", () => {
  it("are accepted by the offline render and refused by a real deployment, saying what to replace", async () => {
    expect((await clusterHandle("prod-gke.platform")).handle.cloud).toBe("gcp");
    await expect(
      clusterHandle("prod-gke.platform", stackConfig("prod-gke.platform"), { offline: false }),
    ).rejects.toThrow(
      /blueprint:cluster.gcp.project is the example project "acme-blueprint-prod": replace it with your project id/,
    );
  });

  it("name every stand-in value of a shipped stack", () => {
    const cluster = clusterSchema.parse(JSON.parse(stackConfig("prod.platform").config["blueprint:cluster"]));
    const keys = placeholderProblems(cluster, {
      production: true,
      hosts: [["blueprint:teams.shop.hosts", "shop.example.com"]],
    }).map((p) => p.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "blueprint:cluster.aws.publicAccessCidrs",
        "blueprint:cluster.aws.groupPrincipals.shop-maintainers",
        "blueprint:teams.shop.hosts",
      ]),
    );
    const own = clusterSchema.parse({
      ...JSON.parse(stackConfig("dev.platform").config["blueprint:cluster"]),
      aws: {
        region: "eu-west-1",
        publicAccessCidrs: ["198.18.0.0/24"],
        nodeGroups: { g: { instanceTypes: ["m7i.large"], minSize: 1, maxSize: 2 } },
      },
    });
    expect(placeholderProblems(own)).toEqual([]);
  });
});

describe("the render's record of cloud changes", () => {
  it("lists every cloud resource with its inputs and every Helm release with chart, version and values, secrets redacted", async () => {
    const prod = await runLayers("prod");
    const inv = cloudInventory(prod.resources);
    const cluster = inv.cloudResources.find((r) => r.type === "aws:eks/cluster:Cluster")!;
    expect((cluster.inputs as Inputs).version).toBe("1.36");
    expect(
      inv.cloudResources.some((r) => r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes"),
    ).toBe(false);
    expect(inv.helmReleases.map((h) => [h.chart, h.version]).sort()).toEqual([
      ["aws-load-balancer-controller", "1.14.1"],
      ["cluster-autoscaler", "9.50.1"],
      ["kube-prometheus-stack", "81.6.2"],
      ["prometheus-operator-crds", "33.0.1"],
    ]);
    expect((inv.helmReleases.find((h) => h.chart === "cluster-autoscaler")!.values as Inputs).image.tag).toBe(
      "v1.36.0",
    );
    const text = JSON.stringify(inv);
    expect(text).not.toContain("4dabf18193072939515e22adb298388d");
  });

  it("differs between two renders in exactly what changed in the cloud", async () => {
    const a = cloudInventory((await runLayers("dev")).resources);
    const b = cloudInventory(
      (await runLayers("dev", setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.logRetentionDays", 7)))
        .resources,
    );
    const changed = a.cloudResources
      .filter((r, i) => JSON.stringify(r) !== JSON.stringify(b.cloudResources[i]))
      .map((r) => r.type);
    expect(changed).toEqual(["aws:cloudwatch/logGroup:LogGroup"]);
  });
});
