import { one, ofType, registration, runStackWithGraph } from "../cluster/harness";
import { setConfig, stackConfig } from "../helpers/program";
import { platformRuleGroups, seriesOf, SERIES_SOURCES } from "../../lib/observability";
import { gkeDefaults } from "../../components/cluster/gke/defaults";
import type { RunResult } from "../../tools/offline/run";

type Inputs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const inputs = (r: { inputs: Record<string, unknown> }) => r.inputs as Inputs;

describe("logs and metrics add-ons of the clusters", () => {
  let eks: Awaited<ReturnType<typeof runStackWithGraph>>;
  let gke: RunResult;
  beforeAll(async () => {
    eks = await runStackWithGraph("prod.platform");
    gke = (await runStackWithGraph("prod-gke.platform")).result;
  });

  it("EKS: creates the CloudWatch add-on's four log groups with retention and the cluster's key, before the add-on", () => {
    const key = one(eks.result, "aws:kms/key:Key", "blueprint-prod-secrets");
    const groups = ofType(eks.result, "aws:cloudwatch/logGroup:LogGroup").filter((g) =>
      String(inputs(g).name).startsWith("/aws/containerinsights/"),
    );
    expect(groups.map((g) => inputs(g).name)).toEqual(
      ["application", "dataplane", "host", "performance"].map((g) => `/aws/containerinsights/blueprint-prod/${g}`),
    );
    for (const g of groups) {
      expect(inputs(g).retentionInDays).toBe(90);
      expect(inputs(g).kmsKeyId).toBe(key.state.arn);
    }
    const addon = one(eks.result, "aws:eks/addon:Addon", "blueprint-prod-amazon-cloudwatch-observability");
    const waits = registration(
      eks.graph,
      "aws:eks/addon:Addon::blueprint-prod-amazon-cloudwatch-observability",
    ).dependsOn;
    for (const g of groups) expect(waits).toContain(`aws:cloudwatch/logGroup:LogGroup::${g.name}`);
    expect(inputs(addon).addonVersion).toBe("v4.10.3-eksbuild.1");
  });

  it("EKS: lets CloudWatch Logs use the cluster key for the Container Insights groups only", () => {
    const policy = JSON.parse(inputs(one(eks.result, "aws:kms/key:Key", "blueprint-prod-secrets")).policy);
    const ci = policy.Statement.find((s: Inputs) => s.Sid === "ContainerInsightsLogs");
    expect(ci.Condition).toEqual({
      ArnLike: {
        "kms:EncryptionContext:aws:logs:arn":
          "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/containerinsights/blueprint-prod/*",
      },
    });
  });

  it("EKS: configures the add-on explicitly: container logs and Container Insights on, Application Signals off", () => {
    const config = JSON.parse(
      inputs(one(eks.result, "aws:eks/addon:Addon", "blueprint-prod-amazon-cloudwatch-observability"))
        .configurationValues,
    );
    expect(config.containerLogs).toEqual({ enabled: true });
    expect(config.manager.applicationSignals.autoMonitor.monitorAllServices).toBe(false);
    expect(JSON.stringify(config.agent)).not.toContain("application_signals");
  });

  it("EKS: keeps a pinned version from blueprint:cluster.aws.addonVersions, and the environment's log retention", async () => {
    let cfg = setConfig(stackConfig("dev.platform"), "blueprint:cluster.aws.addonVersions", {
      "amazon-cloudwatch-observability": "v4.9.0-eksbuild.1",
    });
    cfg = setConfig(cfg, "blueprint:observability.retention.logsDays", 30);
    const { result } = await runStackWithGraph("dev.platform", cfg);
    expect(
      inputs(one(result, "aws:eks/addon:Addon", "blueprint-dev-amazon-cloudwatch-observability")).addonVersion,
    ).toBe("v4.9.0-eksbuild.1");
    const app = ofType(result, "aws:cloudwatch/logGroup:LogGroup").find(
      (g) => inputs(g).name === "/aws/containerinsights/blueprint-dev/application",
    )!;
    expect(inputs(app).retentionInDays).toBe(30);
  });

  it("GKE: sets the _Default logging bucket's retention, and turns on the kube-state-metrics, kubelet and cAdvisor series the rules read", () => {
    const bucket = inputs(one(gke, "gcp:logging/projectBucketConfig:ProjectBucketConfig"));
    expect(bucket).toMatchObject({
      project: "acme-blueprint-prod",
      location: "global",
      bucketId: "_Default",
      retentionDays: 90,
    });
    const components = inputs(one(gke, "gcp:container/cluster:Cluster")).monitoringConfig.enableComponents as string[];
    expect(inputs(one(gke, "gcp:container/cluster:Cluster")).monitoringConfig.managedPrometheus).toEqual({
      enabled: true,
    });
    // Every series the platform's team rules read comes from a source this cluster collects.
    const needed: Record<string, string[]> = {
      "kube-state-metrics": ["DEPLOYMENT", "POD", "HPA"],
      kubelet: ["KUBELET"],
      cadvisor: ["CADVISOR"],
      scrape: [],
    };
    const sources = new Set(
      platformRuleGroups({
        teams: ["shop"],
        logShipper: false,
        velero: false,
        controlPlane: false,
        cpuThrottling: true,
        overcommit: false,
      })
        .flatMap((g) => g.rules)
        .flatMap((r) => seriesOf(r.expr))
        .map((s) => SERIES_SOURCES[s]),
    );
    for (const source of sources) {
      expect(Object.keys(needed)).toContain(source);
      for (const c of needed[source]) expect(components).toContain(c);
    }
    expect(components).toEqual(gkeDefaults.monitoringComponents);
  });
});
