import { byKind, getObject, runStack, setConfig, stackConfig, type K8sObject } from "../helpers/program";
import { observabilityDefaults } from "../../lib/observability";

type Container = { name: string; ports?: { name: string; containerPort: number }[] };
type PodSpec = { containers: Container[]; initContainers?: Container[]; volumes?: { name: string }[] };

function podSpec(o: K8sObject): PodSpec {
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

describe("what a team stack renders for its apps' metrics and SLOs", () => {
  it("puts the metrics on a container and Service port named metrics, and a ServiceMonitor with limits on it (prometheus-operator)", async () => {
    const result = await runStack("dev.payments");
    const deploy = getObject(result, "Deployment", "payments/api");
    expect(podSpec(deploy).containers[0].ports).toEqual([
      { name: "http", containerPort: 9898, protocol: "TCP" },
      { name: "metrics", containerPort: 9797, protocol: "TCP" },
    ]);
    const service = getObject(result, "Service", "payments/api");
    expect(
      (service.spec as { ports: { name: string; targetPort: string }[] }).ports.map((p) => [p.name, p.targetPort]),
    ).toEqual([
      ["http", "http"],
      ["metrics", "metrics"],
    ]);
    const sm = getObject(result, "ServiceMonitor", "payments/api");
    expect(sm.apiVersion).toBe("monitoring.coreos.com/v1");
    const spec = sm.spec as {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: Record<string, unknown>[];
      sampleLimit: number;
      labelLimit: number;
    };
    // The monitor selects exactly the app's Service, in the team's own namespace.
    expect(spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "api" });
    for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(service.metadata.labels?.[k]).toBe(v);
    expect(spec.namespaceSelector).toEqual({ matchNames: ["payments"] });
    expect(spec.endpoints).toEqual([
      {
        port: "metrics",
        path: "/metrics",
        interval: "30s",
        scheme: "http",
        metricRelabelings: [{ action: "labeldrop", regex: observabilityDefaults.droppedLabels.join("|") }],
      },
    ]);
    expect(spec.sampleLimit).toBe(5000);
    expect(spec.labelLimit).toBe(30);
    // The SLO's rules, in the team's namespace, with the team's label.
    const rule = getObject(result, "PrometheusRule", "payments/api-slo");
    const alerts = (rule.spec as { groups: { rules: { alert?: string; labels: Record<string, string> }[] }[] }).groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert);
    expect(alerts.map((a) => [a.alert, a.labels.team])).toEqual([
      ["SLOErrorBudgetBurnFast", "payments"],
      ["SLOErrorBudgetBurnFast", "payments"],
      ["SLOErrorBudgetBurnSlow", "payments"],
    ]);
    // Its dashboard, in the team's Grafana folder, with RED and SLO panels.
    const cm = getObject(result, "ConfigMap", "payments/api-dashboard");
    expect(cm.metadata.labels?.grafana_dashboard).toBe("1");
    expect(cm.metadata.annotations?.grafana_folder).toBe("Team payments");
    const dashboard = JSON.parse(Object.values(cm.data as Record<string, string>)[0]) as {
      panels: { title: string }[];
    };
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        "Rate: requests per second",
        "Errors: 5xx ratio",
        "Duration: p99",
        "Error budget left over 30d",
      ]),
    );
  });

  it("renders PodMonitoring and GMP Rules on GKE, never the kinds Managed Prometheus ignores", async () => {
    const result = await runStack("prod-gke.payments");
    expect(byKind(result, "ServiceMonitor").size).toBe(0);
    expect(byKind(result, "PrometheusRule").size).toBe(0);
    const pm = getObject(result, "PodMonitoring", "payments/api");
    expect(pm.apiVersion).toBe("monitoring.googleapis.com/v1");
    expect(pm.spec).toMatchObject({
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
      endpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      limits: { samples: 5000, labels: 30 },
    });
    const rules = getObject(result, "Rules", "payments/api-slo");
    expect(rules.apiVersion).toBe("monitoring.googleapis.com/v1");
    expect(JSON.stringify(rules.spec)).toContain('job=\\"api\\"');
    // No Grafana of the platform's on GKE: no dashboard ConfigMaps either.
    expect([...byKind(result, "ConfigMap").keys()].filter((k) => k.endsWith("-dashboard"))).toEqual([]);
  });

  it("adds no sidecar, init container or agent volume to any app pod: the pod is the same with and without metrics", async () => {
    const withMetrics = await runStack("dev.payments");
    const cfg = setConfig(
      setConfig(stackConfig("dev.payments"), "blueprint:apps.api.slo", undefined),
      "blueprint:apps.api.metrics",
      undefined,
    );
    const without = await runStack("dev.payments", cfg);
    for (const result of [withMetrics, without]) {
      for (const kind of ["Deployment", "Job"]) {
        for (const o of byKind(result, kind).values()) {
          const spec = kind === "Job" ? (o.spec as { template: { spec: PodSpec } }).template.spec : podSpec(o);
          expect(spec.containers.map((c) => c.name)).toEqual(["app"]);
          expect(spec.initContainers).toBeUndefined();
          expect((spec.volumes ?? []).map((v) => v.name)).toEqual(["tmp"]);
        }
      }
    }
    // Only the port and the monitor differ.
    const a = podSpec(getObject(withMetrics, "Deployment", "payments/api"));
    const b = podSpec(getObject(without, "Deployment", "payments/api"));
    expect({ ...a.containers[0], ports: undefined, command: undefined }).toEqual({
      ...b.containers[0],
      ports: undefined,
      command: undefined,
    });
    expect(byKind(without, "ServiceMonitor").size).toBe(0);
    expect(byKind(without, "PrometheusRule").size).toBe(0);
  });
});

describe("what the platform renders in team namespaces for monitoring", () => {
  it("admits the flavour's scraper to the port named metrics only, and nothing when monitoring is none", async () => {
    const dev = await runStack("dev.platform");
    const policy = getObject(dev, "NetworkPolicy", "shop/allow-metrics-scrape");
    expect(policy.spec).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
            },
          ],
          ports: [{ protocol: "TCP", port: "metrics" }],
        },
      ],
    });
    const gke = await runStack("prod-gke.platform");
    expect(
      (getObject(gke, "NetworkPolicy", "shop/allow-metrics-scrape").spec as { ingress: { from: unknown[] }[] })
        .ingress[0].from,
    ).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gmp-system" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "collector" } },
      },
    ]);
    const none = await runStack(
      "dev.platform",
      setConfig(stackConfig("dev.platform"), "blueprint:observability", { monitoring: "none" }),
    );
    expect(byKind(none, "NetworkPolicy").has("shop/allow-metrics-scrape")).toBe(false);
    const roles = [...byKind(none, "Role").values()].flatMap((r) => r.rules as { apiGroups: string[] }[]);
    expect(roles.some((r) => r.apiGroups.some((g) => g.startsWith("monitoring.")))).toBe(false);
  });
});
