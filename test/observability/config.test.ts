import { parsePlatform, parseTeam } from "../../config/load";
import { resolveObservability } from "../../config/observability";
import { collect, contractLookup, stackConfig, withEdits, type KeyPath } from "../helpers/program";
import type { StackConfig } from "../../lib/project";
import type { ContractLookup } from "../../config/contract";

type Edit = [KeyPath, unknown];

async function teamProblems(stack: string, edits: Edit[], lookup?: ContractLookup): Promise<string[]> {
  const cfg = withEdits(stackConfig(stack), edits);
  const found = lookup ?? (await contractLookup(stack));
  return collect(() => parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), found));
}

function platformProblems(stack: string, edits: Edit[]): string[] {
  const cfg: StackConfig = withEdits(stackConfig(stack), edits);
  return collect(() => parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
}

const F = "blueprint:apps.api";

describe("observability config of a team stack: apps.<app>.metrics and .slo", () => {
  it("accepts the shipped apps, which declare metrics on a port of their own, and the payments SLO", async () => {
    expect(await teamProblems("dev.payments", [])).toEqual([]);
    expect(await teamProblems("prod-gke.payments", [])).toEqual([]);
    const cfg = stackConfig("prod.payments");
    expect(JSON.parse(cfg.config["blueprint:apps"]).api).toMatchObject({
      metrics: { port: 9797, path: "/metrics" },
      slo: { objective: 99.5, window: "30d" },
    });
  });

  it("refuses a metrics port that is the app's own http port, or the Service's port 80", async () => {
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.port", 9898]])).toEqual([
      `${F}.metrics.port is the app's port (9898, named http): serve metrics on a port of its own, which becomes the container port named "metrics" (podinfo: --port-metrics=9797), so the scraper is admitted to the metrics only`,
    ]);
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.port", 80]])).toEqual([
      `${F}.metrics.port is the Service's http port (80); the Service exposes the metrics port under its own number, so choose another`,
    ]);
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.port", 70000]])).toEqual([
      `${F}.metrics.port must be at most 65535, got 70000`,
    ]);
  });

  it("refuses a metrics path without a leading slash or with a query", async () => {
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.path", "metrics"]])).toEqual([
      `${F}.metrics.path must start with "/" and hold no whitespace, "?" or "#", got "metrics"`,
    ]);
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.path", "/metrics?x=1"]])).toEqual([
      `${F}.metrics.path must start with "/" and hold no whitespace, "?" or "#", got "/metrics?x=1"`,
    ]);
  });

  it("refuses a scrape interval under 10 s, or one that is not a duration", async () => {
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.interval", "5s"]])).toEqual([
      `${F}.metrics.interval must be at least 10s (each scrape is billed per sample on managed Prometheus), got "5s"`,
    ]);
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.interval", "soon"]])).toEqual([
      `${F}.metrics.interval must be a duration such as "30s", "1m" or "5m", got "soon"`,
    ]);
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics.interval", "10s"]])).toEqual([]);
  });

  it("refuses an SLO objective outside 50-99.999 and a window other than 28d or 30d", async () => {
    for (const objective of [100, 49.9, 99.9999]) {
      expect(await teamProblems("dev.payments", [["blueprint:apps.api.slo.objective", objective]])).toEqual([
        `${F}.slo.objective must be a percentage between 50 and 99.999, got ${objective}`,
      ]);
    }
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.slo.window", "7d"]])).toEqual([
      `${F}.slo.window must be one of 28d, 30d, got "7d"`,
    ]);
    expect(
      await teamProblems("dev.payments", [["blueprint:apps.api.slo", { objective: 99.999, window: "28d" }]]),
    ).toEqual([]);
  });

  it("refuses an SLO without metrics, and metrics where the platform runs no monitoring", async () => {
    expect(await teamProblems("dev.payments", [["blueprint:apps.api.metrics", undefined]])).toEqual([
      `${F}.slo needs apps.<app>.metrics: the error budget is computed from the app's own request metrics`,
    ]);
    const none = await contractLookup("dev.payments", (c) => {
      c.monitoring = "none";
    });
    expect(await teamProblems("dev.payments", [], none)).toEqual([
      `${F}.metrics is declared, but the platform runs no monitoring (its contract says monitoring: none): remove it or ask the platform team to enable blueprint:observability.monitoring`,
    ]);
  });

  it("reports every problem of the stack at once, naming the stack file", async () => {
    const cfg = withEdits(stackConfig("dev.payments"), [
      ["blueprint:apps.api.metrics.path", "x"],
      ["blueprint:apps.api.slo.window", "1d"],
    ]);
    const lookup = await contractLookup("dev.payments");
    expect(() => parseTeam(cfg.config, "dev.payments", "blueprint", new Set(), lookup)).toThrow(
      /^2 configuration problems in stacks\/Pulumi\.dev\.payments\.yaml:\nstacks\/Pulumi\.dev\.payments\.yaml: blueprint:apps\.api\.metrics\.path .*\nstacks\/Pulumi\.dev\.payments\.yaml: blueprint:apps\.api\.slo\.window /,
    );
  });
});

describe("observability config of a platform stack: blueprint:observability", () => {
  it("accepts the shipped platforms, and resolves the flavour and retention per cloud and production", () => {
    for (const env of ["dev", "staging", "prod", "prod-gke", "local"])
      expect(platformProblems(`${env}.platform`, [])).toEqual([]);
    expect(
      resolveObservability(
        {
          retention: {},
          alerting: { platform: { email: [] }, teams: {} },
          rules: { controlPlane: false, cpuThrottling: false, overcommit: false },
        },
        "gcp",
        true,
      ),
    ).toMatchObject({ monitoring: "gmp", logsDays: 90, metricsDays: 15 });
    expect(
      resolveObservability(
        {
          retention: { logsDays: 30 },
          alerting: { platform: { email: [] }, teams: {} },
          rules: { controlPlane: false, cpuThrottling: false, overcommit: false },
        },
        "aws",
        false,
      ),
    ).toMatchObject({ monitoring: "prometheus-operator", logsDays: 30, metricsDays: 7 });
  });

  it("refuses a monitoring flavour the cluster lacks", () => {
    expect(platformProblems("dev.platform", [["blueprint:observability.monitoring", "gmp"]])).toEqual([
      'blueprint:observability.monitoring "gmp" is not a monitoring flavour this blueprint runs on cloud aws (allowed: prometheus-operator, none)',
    ]);
    expect(
      platformProblems("prod-gke.platform", [["blueprint:observability.monitoring", "prometheus-operator"]]),
    ).toEqual([
      'blueprint:observability.monitoring "prometheus-operator" is not a monitoring flavour this blueprint runs on cloud gcp (allowed: gmp, none)',
    ]);
    expect(platformProblems("dev.platform", [["blueprint:observability.monitoring", "datadog"]])).toEqual([
      'blueprint:observability.monitoring must be one of "prometheus-operator", "gmp", "none", got "datadog"',
    ]);
  });

  it("refuses retention in production below the minimum, and a log retention CloudWatch does not accept", () => {
    expect(
      platformProblems("prod.platform", [["blueprint:observability.retention", { logsDays: 30, metricsDays: 7 }]]),
    ).toEqual([
      "blueprint:observability.retention.logsDays must be at least 90 in a production environment (blueprint:production is true), got 30",
      "blueprint:observability.retention.metricsDays must be at least 15 in a production environment (blueprint:production is true), got 7",
    ]);
    expect(platformProblems("dev.platform", [["blueprint:observability.retention.logsDays", 10]])).toEqual([
      "blueprint:observability.retention.logsDays must be a retention period CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), got 10",
    ]);
    expect(platformProblems("dev.platform", [["blueprint:observability.retention.logsDays", 7]])).toEqual([]);
  });

  it("refuses alert routes of unknown teams, e-mail without a relay, and unknown keys", () => {
    expect(
      platformProblems("dev.platform", [
        ["blueprint:observability.alerting.teams", { billing: { slackChannel: "#billing" } }],
      ]),
    ).toEqual([
      "blueprint:observability.alerting.teams.billing names a team that is not in blueprint:teams (teams: shop, payments)",
    ]);
    expect(
      platformProblems("dev.platform", [
        ["blueprint:observability.alerting.teams", { shop: { email: ["oncall@example.com"] } }],
      ]),
    ).toEqual([
      "blueprint:observability.alerting.teams.shop.email needs blueprint:observability.alerting.smarthost and .from (the SMTP relay alert e-mails go through)",
    ]);
    expect(platformProblems("dev.platform", [["blueprint:observability.rules", { kubeScheduler: true }]])).toEqual([
      'blueprint:observability.rules has unknown key "kubeScheduler" (allowed: controlPlane, cpuThrottling, overcommit)',
    ]);
  });

  it("refuses blueprint:observability in a team stack, pointing at the platform stack", async () => {
    expect(await teamProblems("dev.shop", [["blueprint:observability", { monitoring: "none" }]])).toEqual([
      "blueprint:observability belongs in the platform stack (<env>.platform), not in a team stack",
    ]);
  });
});
