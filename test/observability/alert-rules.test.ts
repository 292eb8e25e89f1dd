import {
  BURN_RATES,
  platformRuleGroups,
  seriesOf,
  SERIES_SOURCES,
  sloRuleGroups,
  type PlatformRuleOptions,
  type Rule,
  type RuleGroup,
} from "../../lib/observability";
import { checkRules, describePromtool, testRules } from "../helpers/promtool";

const ALL: PlatformRuleOptions = {
  teams: ["shop", "payments"],
  logShipper: true,
  velero: true,
  controlPlane: true,
  cpuThrottling: true,
  overcommit: true,
};
const NONE: PlatformRuleOptions = {
  teams: ["shop"],
  logShipper: false,
  velero: false,
  controlPlane: false,
  cpuThrottling: false,
  overcommit: false,
};
const SLO = { app: "backend", namespace: "shop", team: "shop", objective: 99.9, window: "30d" };

function alertsOf(groups: readonly RuleGroup[]): Rule[] {
  return groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

/** The annotations Prometheus renders for an alert with these labels (`{{ $labels.x }}` only). */
function rendered(rule: Rule, labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rule.annotations ?? {}).map(([k, v]) => [
      k,
      v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? ""),
    ]),
  );
}

/** An expected alert: its labels (series labels plus the rule's) and its rendered annotations. */
function expected(
  groups: readonly RuleGroup[],
  alert: string,
  seriesLabels: Record<string, string>,
  extra: Record<string, string> = {},
): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } {
  const team = extra.team ?? seriesLabels.namespace ?? "platform";
  const rule = alertsOf(groups).find(
    (r) => r.alert === alert && r.labels?.team === team && Object.entries(extra).every(([k, v]) => r.labels?.[k] === v),
  )!;
  const labels = { ...seriesLabels, ...rule.labels };
  return { exp_labels: labels, exp_annotations: rendered(rule, labels) };
}

describe("platform alert rules (a pure function of the platform's declarations)", () => {
  it("give every alert a for, a severity, a team label and a runbook link to docs/runbooks.md", () => {
    const alerts = alertsOf([...platformRuleGroups(ALL), ...sloRuleGroups(SLO)]);
    expect(alerts.length).toBeGreaterThan(15);
    for (const a of alerts) {
      expect(a.for).toMatch(/^\d+[mh]$/);
      expect(["critical", "warning", "info"]).toContain(a.labels?.severity);
      expect(a.labels?.team).toMatch(/^(shop|payments|platform)$/);
      expect(a.annotations?.runbook_url).toBe(`docs/runbooks.md#${a.alert!.toLowerCase()}`);
    }
  });

  it("give each team's alerts that team's label and only that namespace's series", () => {
    const groups = platformRuleGroups(ALL);
    const shop = groups.find((g) => g.name === "team-shop")!;
    expect(
      shop.rules.every(
        (r) =>
          r.labels?.team === "shop" && r.expr.includes('namespace="shop"') && !r.expr.includes('namespace="payments"'),
      ),
    ).toBe(true);
    expect(groups.find((g) => g.name === "team-payments")!.rules.every((r) => r.labels?.team === "payments")).toBe(
      true,
    );
  });

  it("leave the control-plane, throttling and overcommit rules out unless asked, and log shipping and backups out where they do not run", () => {
    const names = alertsOf(platformRuleGroups(NONE)).map((a) => a.alert);
    for (const off of [
      "KubeSchedulerDown",
      "CPUThrottlingHigh",
      "KubeCPUOvercommit",
      "LogShipperDroppingRecords",
      "VeleroBackupFailed",
    ])
      expect(names).not.toContain(off);
    const all = alertsOf(platformRuleGroups(ALL)).map((a) => a.alert);
    for (const on of [
      "KubeSchedulerDown",
      "CPUThrottlingHigh",
      "KubeCPUOvercommit",
      "LogShipperDroppingRecords",
      "VeleroBackupFailed",
      "VeleroBackupStale",
    ])
      expect(all).toContain(on);
  });

  it("read only series whose collector is known", () => {
    const used = new Set(
      [...platformRuleGroups(ALL), ...sloRuleGroups(SLO)].flatMap((g) => g.rules).flatMap((r) => seriesOf(r.expr)),
    );
    const unknown = [...used].filter((s) => !SERIES_SOURCES[s] && !s.startsWith("app:"));
    expect(unknown).toEqual([]);
    expect(used).toContain("kube_horizontalpodautoscaler_status_condition");
  });

  it("write SLO thresholds from the objective: 14.4x, 6x and 1x of the error budget", () => {
    const alerts = alertsOf(sloRuleGroups({ ...SLO, objective: 99 }));
    expect(alerts.map((a) => /> ([0-9.]+)/.exec(a.expr)![1])).toEqual(["0.144", "0.06", "0.01"]);
    expect(alerts.map((a) => a.labels?.burn_window)).toEqual(BURN_RATES.map((b) => b.long));
    expect(alertsOf(sloRuleGroups({ ...SLO, objective: 99.9 })).map((a) => /> ([0-9.]+)/.exec(a.expr)![1])).toEqual([
      "0.0144",
      "0.006",
      "0.001",
    ]);
  });
});

describePromtool("alert rules under promtool", () => {
  it("pass promtool check rules, every group with every option on and off", () => {
    for (const groups of [
      platformRuleGroups(ALL),
      platformRuleGroups(NONE),
      sloRuleGroups(SLO),
      sloRuleGroups({ ...SLO, objective: 99.999, window: "28d" }),
    ]) {
      const r = checkRules(groups);
      expect(r.output).toContain("SUCCESS");
      expect(r.status).toBe(0);
    }
  });

  it("fail promtool check rules for a broken expression (the check is real)", () => {
    const r = checkRules([
      { name: "broken", rules: [{ alert: "Broken", expr: "sum(rate(x[5m]) >", labels: { severity: "warning" } }] },
    ]);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/parse error|unexpected/i);
  });

  const groups = platformRuleGroups(ALL);
  const team = "shop";
  const quiet = (alertname: string, eval_time: string) => ({ eval_time, alertname, exp_alerts: [] });

  it("fire on a stuck rollout and stay quiet while it progresses or before its for", () => {
    const stuck = { namespace: team, deployment: "web", condition: "Progressing", status: "false" };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_deployment_status_condition{namespace="shop",deployment="web",condition="Progressing",status="false"}`,
              values: "1x20",
            },
          ],
          alert_rule_test: [
            quiet("KubeDeploymentRolloutStuck", "3m"),
            {
              eval_time: "10m",
              alertname: "KubeDeploymentRolloutStuck",
              exp_alerts: [expected(groups, "KubeDeploymentRolloutStuck", stuck)],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_deployment_status_condition{namespace="shop",deployment="web",condition="Progressing",status="false"}`,
              values: "0x20",
            },
          ],
          alert_rule_test: [quiet("KubeDeploymentRolloutStuck", "10m")],
        },
        // Another team's stuck rollout is not this team's alert, but its own team's.
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_deployment_status_condition{namespace="payments",deployment="api",condition="Progressing",status="false"}`,
              values: "1x20",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "10m",
              alertname: "KubeDeploymentRolloutStuck",
              exp_alerts: [
                expected(platformRuleGroups({ ...ALL, teams: ["payments"] }), "KubeDeploymentRolloutStuck", {
                  namespace: "payments",
                  deployment: "api",
                  condition: "Progressing",
                  status: "false",
                }),
              ],
            },
          ],
        },
      ],
    });
  });

  it("fire on a crash loop that lasts 15 minutes, not on a container that is only creating", () => {
    const s = { namespace: team, pod: "web-1", container: "app", reason: "CrashLoopBackOff" };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_pod_container_status_waiting_reason{namespace="shop",pod="web-1",container="app",reason="CrashLoopBackOff"}`,
              values: "1x30",
            },
          ],
          alert_rule_test: [
            quiet("KubePodCrashLooping", "10m"),
            {
              eval_time: "20m",
              alertname: "KubePodCrashLooping",
              exp_alerts: [expected(groups, "KubePodCrashLooping", s)],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            {
              series: `kube_pod_container_status_waiting_reason{namespace="shop",pod="web-1",container="app",reason="ContainerCreating"}`,
              values: "1x30",
            },
          ],
          alert_rule_test: [quiet("KubePodCrashLooping", "20m")],
        },
      ],
    });
  });

  it("fire on a restart after an OOMKill, not after another error", () => {
    const restarts = {
      series: `kube_pod_container_status_restarts_total{namespace="shop",pod="web-1",container="app"}`,
      values: "0x15 1x10",
    };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            restarts,
            {
              series: `kube_pod_container_status_last_terminated_reason{namespace="shop",pod="web-1",container="app",reason="OOMKilled"}`,
              values: "1x25",
            },
          ],
          alert_rule_test: [
            quiet("KubeContainerOOMKilled", "10m"),
            {
              eval_time: "18m",
              alertname: "KubeContainerOOMKilled",
              exp_alerts: [
                expected(groups, "KubeContainerOOMKilled", { namespace: team, pod: "web-1", container: "app" }),
              ],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            restarts,
            {
              series: `kube_pod_container_status_last_terminated_reason{namespace="shop",pod="web-1",container="app",reason="Error"}`,
              values: "1x25",
            },
          ],
          alert_rule_test: [quiet("KubeContainerOOMKilled", "18m")],
        },
      ],
    });
  });

  it("fire on a failed release Job, not on one that completed", () => {
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: `kube_job_failed{namespace="shop",job_name="web-migrate",condition="true"}`, values: "1x5" },
          ],
          alert_rule_test: [
            {
              eval_time: "2m",
              alertname: "KubeReleaseJobFailed",
              exp_alerts: [
                expected(groups, "KubeReleaseJobFailed", {
                  namespace: team,
                  job_name: "web-migrate",
                  condition: "true",
                }),
              ],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            { series: `kube_job_failed{namespace="shop",job_name="web-migrate",condition="true"}`, values: "0x5" },
            { series: `kube_job_failed{namespace="shop",job_name="web-migrate",condition="false"}`, values: "1x5" },
          ],
          alert_rule_test: [quiet("KubeReleaseJobFailed", "2m")],
        },
      ],
    });
  });

  it("fire on an HPA limited at its maximum; stay quiet when min = max or when it is not ScalingLimited (kubernetes-mixin#1193)", () => {
    const hpa = (min: number, max: number, current: number, limited: number) => [
      {
        series: `kube_horizontalpodautoscaler_status_current_replicas{namespace="shop",horizontalpodautoscaler="web"}`,
        values: `${current}x30`,
      },
      {
        series: `kube_horizontalpodautoscaler_spec_max_replicas{namespace="shop",horizontalpodautoscaler="web"}`,
        values: `${max}x30`,
      },
      {
        series: `kube_horizontalpodautoscaler_spec_min_replicas{namespace="shop",horizontalpodautoscaler="web"}`,
        values: `${min}x30`,
      },
      {
        series: `kube_horizontalpodautoscaler_status_condition{namespace="shop",horizontalpodautoscaler="web",condition="ScalingLimited",status="true"}`,
        values: `${limited}x30`,
      },
    ];
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: hpa(2, 4, 4, 1),
          alert_rule_test: [
            quiet("KubeHpaMaxedOut", "10m"),
            {
              eval_time: "20m",
              alertname: "KubeHpaMaxedOut",
              exp_alerts: [expected(groups, "KubeHpaMaxedOut", { namespace: team, horizontalpodautoscaler: "web" })],
            },
          ],
        },
        { interval: "1m", input_series: hpa(4, 4, 4, 1), alert_rule_test: [quiet("KubeHpaMaxedOut", "20m")] },
        { interval: "1m", input_series: hpa(2, 4, 4, 0), alert_rule_test: [quiet("KubeHpaMaxedOut", "20m")] },
        { interval: "1m", input_series: hpa(2, 4, 3, 1), alert_rule_test: [quiet("KubeHpaMaxedOut", "20m")] },
      ],
    });
  });

  it("fire on a volume under 15% free and filling within 4 days, or under 3% free; stay quiet on a low but steady one", () => {
    const pvc = { namespace: team, persistentvolumeclaim: "data" };
    const cap = {
      series: `kubelet_volume_stats_capacity_bytes{namespace="shop",persistentvolumeclaim="data"}`,
      values: "100x200",
    };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            cap,
            {
              series: `kubelet_volume_stats_available_bytes{namespace="shop",persistentvolumeclaim="data"}`,
              values: "14-0.01x200",
            },
          ],
          alert_rule_test: [
            quiet("KubePersistentVolumeFillingUp", "30m"),
            {
              eval_time: "90m",
              alertname: "KubePersistentVolumeFillingUp",
              exp_alerts: [expected(groups, "KubePersistentVolumeFillingUp", pvc)],
            },
            quiet("KubePersistentVolumeFull", "90m"),
          ],
        },
        {
          interval: "1m",
          input_series: [
            cap,
            {
              series: `kubelet_volume_stats_available_bytes{namespace="shop",persistentvolumeclaim="data"}`,
              values: "14x200",
            },
          ],
          alert_rule_test: [quiet("KubePersistentVolumeFillingUp", "90m")],
        },
        {
          interval: "1m",
          input_series: [
            cap,
            {
              series: `kubelet_volume_stats_available_bytes{namespace="shop",persistentvolumeclaim="data"}`,
              values: "2x200",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "5m",
              alertname: "KubePersistentVolumeFull",
              exp_alerts: [expected(groups, "KubePersistentVolumeFull", pvc)],
            },
          ],
        },
      ],
    });
  });

  it("fire on a scrape target down for 10 minutes, not on one that is up", () => {
    const t = { namespace: team, job: "web", instance: "10.0.0.1:9797" };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [{ series: `up{namespace="shop",job="web",instance="10.0.0.1:9797"}`, values: "0x20" }],
          alert_rule_test: [
            quiet("TargetDown", "5m"),
            { eval_time: "15m", alertname: "TargetDown", exp_alerts: [expected(groups, "TargetDown", t)] },
          ],
        },
        {
          interval: "1m",
          input_series: [{ series: `up{namespace="shop",job="web",instance="10.0.0.1:9797"}`, values: "1x20" }],
          alert_rule_test: [quiet("TargetDown", "15m")],
        },
      ],
    });
  });

  it("fire when the log shipper drops records or exhausts retries, not while its counters stand still", () => {
    const s = { pod: "fluent-bit-abc", name: "opensearch.0" };
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: `fluentbit_output_dropped_records_total{pod="fluent-bit-abc",name="opensearch.0"}`,
              values: "0+10x30",
            },
            {
              series: `fluentbit_output_retries_failed_total{pod="fluent-bit-abc",name="opensearch.0"}`,
              values: "0+1x30",
            },
          ],
          alert_rule_test: [
            {
              eval_time: "20m",
              alertname: "LogShipperDroppingRecords",
              exp_alerts: [expected(groups, "LogShipperDroppingRecords", s)],
            },
            {
              eval_time: "20m",
              alertname: "LogShipperRetriesFailing",
              exp_alerts: [expected(groups, "LogShipperRetriesFailing", s)],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [
            {
              series: `fluentbit_output_dropped_records_total{pod="fluent-bit-abc",name="opensearch.0"}`,
              values: "5x30",
            },
            {
              series: `fluentbit_output_retries_failed_total{pod="fluent-bit-abc",name="opensearch.0"}`,
              values: "2x30",
            },
          ],
          alert_rule_test: [quiet("LogShipperDroppingRecords", "20m"), quiet("LogShipperRetriesFailing", "20m")],
        },
      ],
    });
  });

  it("fire on a failed or stale Velero backup, not on a fresh one", () => {
    testRules(groups, {
      tests: [
        {
          interval: "1m",
          input_series: [{ series: `velero_backup_failure_total{schedule="daily"}`, values: "0 0 0 1x20" }],
          alert_rule_test: [
            {
              eval_time: "10m",
              alertname: "VeleroBackupFailed",
              exp_alerts: [expected(groups, "VeleroBackupFailed", { schedule: "daily" })],
            },
          ],
        },
        {
          interval: "1m",
          input_series: [{ series: `velero_backup_failure_total{schedule="daily"}`, values: "0x20" }],
          alert_rule_test: [quiet("VeleroBackupFailed", "10m")],
        },
      ],
    });
    // A day of samples: evaluated every 5 minutes to keep the run short.
    testRules(groups, {
      evaluation_interval: "5m",
      tests: [
        {
          interval: "5m",
          input_series: [{ series: `velero_backup_last_successful_timestamp{schedule="daily"}`, values: "0x320" }],
          alert_rule_test: [
            quiet("VeleroBackupStale", "24h"),
            {
              eval_time: "26h",
              alertname: "VeleroBackupStale",
              exp_alerts: [expected(groups, "VeleroBackupStale", { schedule: "daily" })],
            },
          ],
        },
        {
          interval: "5m",
          input_series: [{ series: `velero_backup_last_successful_timestamp{schedule="daily"}`, values: "0+300x320" }],
          alert_rule_test: [quiet("VeleroBackupStale", "26h")],
        },
      ],
    });
  });

  it("page on a fast SLO burn on both windows, page only the 6h burn at 10x, and stay quiet within budget", () => {
    const slo = sloRuleGroups(SLO);
    const series = (errors: number, ok: number) => [
      {
        series: `http_request_duration_seconds_count{namespace="shop",job="backend",status="500"}`,
        values: `0+${errors}x200`,
      },
      {
        series: `http_request_duration_seconds_count{namespace="shop",job="backend",status="200"}`,
        values: `0+${ok}x200`,
      },
    ];
    const labels = { namespace: "shop", job: "backend", slo_window: "30d" };
    testRules(slo, {
      tests: [
        // 2% errors: 20x the 0.1% budget, above 14.4x and 6x, and 1x.
        {
          interval: "1m",
          input_series: series(20, 980),
          alert_rule_test: [
            {
              eval_time: "70m",
              alertname: "SLOErrorBudgetBurnFast",
              exp_alerts: [
                expected(slo, "SLOErrorBudgetBurnFast", labels, { burn_window: "1h" }),
                expected(slo, "SLOErrorBudgetBurnFast", labels, { burn_window: "6h" }),
              ],
            },
            {
              eval_time: "70m",
              alertname: "SLOErrorBudgetBurnSlow",
              exp_alerts: [expected(slo, "SLOErrorBudgetBurnSlow", labels)],
            },
          ],
        },
        // 1% errors: 10x, above 6x but under 14.4x.
        {
          interval: "1m",
          input_series: series(10, 990),
          alert_rule_test: [
            {
              eval_time: "70m",
              alertname: "SLOErrorBudgetBurnFast",
              exp_alerts: [expected(slo, "SLOErrorBudgetBurnFast", labels, { burn_window: "6h" })],
            },
          ],
        },
        // 0.05% errors: half the budget.
        {
          interval: "1m",
          input_series: series(1, 1999),
          alert_rule_test: [quiet("SLOErrorBudgetBurnFast", "70m"), quiet("SLOErrorBudgetBurnSlow", "70m")],
        },
      ],
    });
  });

  it("fails a fixture whose expectation is wrong (promtool test rules is really consulted)", () => {
    expect(() =>
      testRules(groups, {
        tests: [
          {
            interval: "1m",
            input_series: [{ series: `up{namespace="shop",job="web",instance="x"}`, values: "1x20" }],
            alert_rule_test: [
              {
                eval_time: "15m",
                alertname: "TargetDown",
                exp_alerts: [expected(groups, "TargetDown", { namespace: team, job: "web", instance: "x" })],
              },
            ],
          },
        ],
      }),
    ).toThrow(/FAILED/);
  });
});
