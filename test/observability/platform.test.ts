import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { byKind, getObject, runStack, setConfig, stackConfig, type K8sObject } from "../helpers/program";
import { alertmanagerConfig } from "../../lib/observability";
import { observabilityCharts } from "../../components/observability";
import type { RunResult } from "../../tools/offline/run";
import { scratch } from "../helpers/promtool";

type Release = { name: string; chart: string; version: string; namespace: string; values: Record<string, unknown> };

function releases(r: RunResult): Release[] {
  return r.resources
    .filter((x) => x.type === "kubernetes:helm.sh/v3:Release")
    .map((x) => x.inputs as unknown as Release);
}
function release(r: RunResult, chart: string): Release {
  const found = releases(r).find((x) => x.chart === chart);
  if (!found)
    throw new Error(
      `no release of ${chart} among ${releases(r)
        .map((x) => x.chart)
        .join(", ")}`,
    );
  return found;
}
function groupNames(o: K8sObject): string[] {
  return (o.spec as { groups: { name: string }[] }).groups.map((g) => g.name);
}
const TEAM_NAMESPACES = ["shop", "payments"];

describe("the platform's observability per flavour", () => {
  it("EKS: the operator CRDs as a pinned release of their own, kube-prometheus-stack pinned without CRDs or default rules, the platform's rules and routes", async () => {
    const dev = await runStack("dev.platform");
    const crds = release(dev, "prometheus-operator-crds");
    const stack = release(dev, "kube-prometheus-stack");
    expect([crds.version, stack.version]).toEqual([
      observabilityCharts.operatorCrds.version,
      observabilityCharts.stack.version,
    ]);
    expect(crds.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(stack.values).toMatchObject({
      crds: { enabled: false },
      defaultRules: { create: false },
      kubeScheduler: { enabled: false },
      kubeControllerManager: { enabled: false },
      nodeExporter: { enabled: false },
      prometheus: {
        prometheusSpec: {
          retention: "7d",
          enforcedNamespaceLabel: "namespace",
          ruleSelectorNilUsesHelmValues: false,
          serviceMonitorSelectorNilUsesHelmValues: false,
        },
      },
    });
    const routes = (
      stack.values.alertmanager as { config: { route: { routes: { receiver: string; matchers: string[] }[] } } }
    ).config.route.routes;
    // No team receiver configured: every alert goes to the platform's.
    expect(routes).toEqual([]);
    const rule = getObject(dev, "PrometheusRule", "monitoring/platform-alerts");
    expect(groupNames(rule)).toEqual(["team-payments", "team-shop"]);
    // Managed control plane, no Fluent Bit of the platform's, no Velero on EKS: those groups stay out.
    const prod = await runStack("prod.platform");
    expect(
      (release(prod, "kube-prometheus-stack").values.prometheus as { prometheusSpec: { retention: string } })
        .prometheusSpec.retention,
    ).toBe("15d");
  });

  it("routes each team's alerts to its receiver, and the platform's to the platform's", async () => {
    const cfg = setConfig(stackConfig("dev.platform"), "blueprint:observability.alerting", {
      smarthost: "smtp.example.com:587",
      from: "alerts@example.com",
      platform: { email: ["platform@example.com"] },
      teams: { shop: { slackChannel: "#shop-alerts" }, payments: { email: ["payments-oncall@example.com"] } },
    });
    const dev = await runStack("dev.platform", cfg);
    const values = release(dev, "kube-prometheus-stack").values.alertmanager as {
      config: { route: { receiver: string; routes: unknown[] }; receivers: { name: string }[] };
      alertmanagerSpec: { secrets: string[] };
    };
    expect(values.config.route.receiver).toBe("platform");
    expect(values.config.route.routes).toEqual([
      { receiver: "team-payments", matchers: ['team="payments"'], continue: false },
      { receiver: "team-shop", matchers: ['team="shop"'], continue: false },
    ]);
    expect(values.config.receivers.map((r) => r.name)).toEqual(["platform", "team-payments", "team-shop"]);
    // The Slack URL is a file mounted from a Secret, never in the configuration.
    expect(values.alertmanagerSpec.secrets).toEqual(["alertmanager-slack-team-shop"]);
    expect(JSON.stringify(values.config)).toContain("/etc/alertmanager/secrets/alertmanager-slack-team-shop/url");
    expect(JSON.stringify(values.config)).not.toMatch(/hooks\.slack\.com/);
  });

  it("GKE: Managed Prometheus ClusterRules and the managed Alertmanager's Secret, no Helm release and no PrometheusRule", async () => {
    const gke = await runStack("prod-gke.platform");
    expect(releases(gke).filter((r) => /prometheus|grafana|fluent|opensearch/.test(r.chart))).toEqual([]);
    expect(byKind(gke, "PrometheusRule").size).toBe(0);
    const rules = getObject(gke, "ClusterRules", "platform-alerts");
    expect(rules.apiVersion).toBe("monitoring.googleapis.com/v1");
    expect(rules.metadata.namespace).toBeUndefined();
    expect(groupNames(rules)).toEqual(["team-payments", "team-shop"]);
    const secret = getObject(gke, "Secret", "gmp-public/alertmanager");
    expect(Object.keys(secret.stringData as object)).toEqual(["alertmanager.yaml"]);
    // The rendered copy redacts it; the registered input holds the configuration.
    const raw = gke.resources.find(
      (x) => x.type === "kubernetes:core/v1:Secret" && (x.inputs.metadata as { name: string }).name === "alertmanager",
    )!;
    // The whole stringData is a secret: the SDK's wrapper holds it under `value`.
    const data = (raw.inputs.stringData as { value: Record<string, string> }).value;
    const config = parse(data["alertmanager.yaml"]) as { route: { receiver: string } };
    expect(config.route.receiver).toBe("platform");
  });

  it("local: Fluent Bit with Replace_Dots, Suppress_Type_Name and a bounded filesystem buffer to OpenSearch without mmap or a privileged init, each in a platform namespace", async () => {
    const local = await runStack("local.platform");
    const fb = release(local, "fluent-bit");
    const config = fb.values.config as Record<string, string>;
    expect(config.outputs).toMatch(/Replace_Dots On/);
    expect(config.outputs).toMatch(/Suppress_Type_Name On/);
    expect(config.outputs).toMatch(/storage\.total_limit_size 2G/);
    expect(config.inputs).toMatch(/storage\.type filesystem/);
    expect(config.service).toMatch(/HTTP_Server On/);
    const os = release(local, "opensearch");
    expect(os.values).toMatchObject({ sysctlInit: { enabled: false } });
    expect(JSON.stringify(os.values)).toContain("node.store.allow_mmap: false");
    for (const r of releases(local)) expect(TEAM_NAMESPACES).not.toContain(r.namespace);
    expect(
      Object.fromEntries(
        releases(local)
          .filter((r) => /fluent|opensearch|prometheus/.test(r.chart))
          .map((r) => [r.chart, r.namespace]),
      ),
    ).toEqual({
      "prometheus-operator-crds": "monitoring",
      "kube-prometheus-stack": "monitoring",
      opensearch: "opensearch",
      "opensearch-dashboards": "opensearch",
      "fluent-bit": "logging",
    });
    const level = (ns: string) =>
      getObject(local, "Namespace", ns).metadata.labels?.["pod-security.kubernetes.io/enforce"];
    expect([level("monitoring"), level("logging"), level("opensearch")]).toEqual([
      "baseline",
      "privileged",
      "baseline",
    ]);
    // The platform runs the shipper and Velero here: their alerts are in.
    expect(groupNames(getObject(local, "PrometheusRule", "monitoring/platform-alerts"))).toEqual([
      "team-payments",
      "team-shop",
      "log-shipping",
      "backups",
    ]);
    const ism = JSON.parse(
      (getObject(local, "ConfigMap", "opensearch/logs-retention-policy").data as Record<string, string>)["policy.json"],
    );
    expect(ism.policy.states[0].transitions[0].conditions.min_index_age).toBe("14d");
  });

  it("renders nothing of a monitoring stack when monitoring is none", async () => {
    const none = await runStack(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:observability", { monitoring: "none" }),
    );
    expect(releases(none).filter((r) => /prometheus/.test(r.chart))).toEqual([]);
    expect(byKind(none, "PrometheusRule").size).toBe(0);
    expect(byKind(none, "Namespace").has("monitoring")).toBe(false);
  });
});

const hasAmtool = spawnSync("amtool", ["--version"], { stdio: "ignore" }).status === 0;
(hasAmtool || process.env.CI === "true" ? describe : describe.skip)("Alertmanager configuration under amtool", () => {
  function check(config: Record<string, unknown>): { status: number; output: string } {
    const dir = scratch();
    const file = path.join(dir, "alertmanager.yml");
    fs.writeFileSync(file, stringify(config));
    const r = spawnSync("amtool", ["check-config", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  }

  it("passes amtool check-config with e-mail and Slack receivers", () => {
    const r = check(
      alertmanagerConfig({
        smarthost: "smtp.example.com:587",
        from: "alerts@example.com",
        platform: { email: ["platform@example.com"] },
        teams: { shop: { email: [], slackChannel: "#shop" }, payments: { email: ["p@example.com"] } },
        slackUrlFile: (n) => `/etc/alertmanager/secrets/alertmanager-slack-${n}/url`,
      }),
    );
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  it("fails amtool check-config for e-mail without a relay (the check is real)", () => {
    const r = check(
      alertmanagerConfig({ platform: { email: ["platform@example.com"] }, teams: {}, slackUrlFile: () => "/x" }),
    );
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/smarthost/i);
  });
});
