/**
 * Observability as plain data, with no SDK import: defaults, the monitor a team app gets, its SLO
 * rules and the platform's alert rules. The same functions feed the Pulumi components, the
 * `promtool` tests and the dashboards, so what is tested is what is deployed.
 */

/** Which monitor and rule kinds a cluster runs (the contract's `monitoring` field). */
export type MonitoringFlavour = "prometheus-operator" | "gmp" | "none";

/** Observability defaults in one visible place. */
export const observabilityDefaults = {
  metricsPath: "/metrics",
  scrapeInterval: "30s",
  /** Shortest scrape interval an app may ask for. */
  minScrapeSeconds: 10,
  /** Samples one target may return per scrape; above it the scrape fails (and `up` is 0), which caps one app's share of the bill. */
  sampleLimit: 5000,
  /** Labels one series may carry. */
  labelLimit: 30,
  /** Labels dropped from every app series before ingestion: unbounded values that multiply series. */
  droppedLabels: ["request_id", "trace_id", "span_id", "user_id", "session_id", "url", "uri"],
  production: { logsDays: 90, metricsDays: 15 },
  nonProduction: { logsDays: 14, metricsDays: 7 },
  /** The request counter every app with an SLO exposes (podinfo's and the Prometheus client libraries' convention) and its status label. */
  sli: { requests: "http_request_duration_seconds_count", statusLabel: "status", errors: "5.." },
  /** Namespace of the platform's monitoring stack on prometheus-operator clusters. */
  monitoringNamespace: "monitoring",
  /** Namespace of Managed Prometheus's collectors on GKE. */
  gmpNamespace: "gmp-system",
  /** Where runbooks live, relative to the repository. */
  runbooks: "docs/runbooks.md",
} as const;

/** Where alert annotations link to: the repository's runbook page (set `BLUEPRINT_RUNBOOK_BASE` for an absolute URL). */
export function runbookUrl(alert: string, base = "docs/runbooks.md"): string {
  return `${base}#${alert.toLowerCase()}`;
}

/** One Prometheus rule (recording or alerting), as PrometheusRule and GMP Rules both take it. */
export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A rule group: the `spec.groups[]` of a PrometheusRule or GMP Rules, and a group of a promtool rule file. */
export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly Rule[];
}

/** An app's scrape declaration as the monitor renders it. */
export interface AppMetrics {
  readonly app: string;
  readonly namespace: string;
  readonly team: string;
  readonly path: string;
  readonly interval: string;
}

/** `metricRelabelings` (ServiceMonitor) / `metricRelabeling` (PodMonitoring) dropping high-cardinality labels. */
export function droppedLabelRelabelings(): { action: "labeldrop"; regex: string }[] {
  return [{ action: "labeldrop", regex: observabilityDefaults.droppedLabels.join("|") }];
}

/**
 * The monitor of one app: a ServiceMonitor (its Service's port named `metrics`) or a GMP
 * PodMonitoring (its pods' container port named `metrics`). The job label of every series is the
 * app's name either way: the Service's name, or the PodMonitoring's. Undefined for `none`.
 */
export function appMonitor(
  flavour: MonitoringFlavour,
  m: AppMetrics,
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): Record<string, unknown> | undefined {
  const d = observabilityDefaults;
  const metadata = { name: m.app, namespace: m.namespace, labels: { ...labels } };
  if (flavour === "prometheus-operator") {
    return {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata,
      spec: {
        selector: { matchLabels: { ...selector } },
        // Only the team's own namespace: a ServiceMonitor can otherwise select Services elsewhere.
        namespaceSelector: { matchNames: [m.namespace] },
        endpoints: [
          {
            port: "metrics",
            path: m.path,
            interval: m.interval,
            scheme: "http",
            metricRelabelings: droppedLabelRelabelings(),
          },
        ],
        sampleLimit: d.sampleLimit,
        labelLimit: d.labelLimit,
      },
    };
  }
  if (flavour === "gmp") {
    return {
      apiVersion: "monitoring.googleapis.com/v1",
      kind: "PodMonitoring",
      metadata,
      spec: {
        selector: { matchLabels: { ...selector } },
        endpoints: [
          {
            port: "metrics",
            path: m.path,
            interval: m.interval,
            scheme: "http",
            metricRelabeling: droppedLabelRelabelings(),
          },
        ],
        limits: { samples: d.sampleLimit, labels: d.labelLimit },
      },
    };
  }
  return undefined;
}

/** An app's availability objective. */
export interface AppSlo {
  readonly app: string;
  readonly namespace: string;
  readonly team: string;
  /** Percent, 50 to 99.999. */
  readonly objective: number;
  /** "28d" or "30d". */
  readonly window: string;
}

/**
 * Multi-window, multi-burn-rate alerts (The Site Reliability Workbook, "Alerting on SLOs", table
 * 5-8): page when 2% of a 30-day budget burns in 1h (14.4x, checked over 1h and 5m) or 5% in 6h
 * (6x, over 6h and 30m); ticket when 10% burns in 3d (1x, over 3d and 6h). The short window
 * makes an alert stop soon after the burn stops.
 */
export const BURN_RATES = [
  { severity: "critical", factor: 14.4, long: "1h", short: "5m", for: "2m" },
  { severity: "critical", factor: 6, long: "6h", short: "30m", for: "15m" },
  { severity: "warning", factor: 1, long: "3d", short: "6h", for: "1h" },
] as const;

/** Name of the recording rule of an app's error ratio over `range`. */
export function errorRatioRecord(range: string): string {
  return `app:sli_error:ratio_rate${range}`;
}

/** A PromQL float without exponent or binary noise (0.001, not 0.0010000000000000009). */
function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/**
 * The SLO rules of one app: error-ratio recording rules over every window the burn-rate alerts
 * read, and the page and ticket alerts. A pure function of the declaration: the same groups become
 * a PrometheusRule or GMP Rules.
 */
export function sloRuleGroups(slo: AppSlo): RuleGroup[] {
  const d = observabilityDefaults.sli;
  const sel = `namespace="${slo.namespace}", job="${slo.app}"`;
  const budget = 1 - slo.objective / 100;
  const ranges = [...new Set(BURN_RATES.flatMap((b) => [b.long, b.short]))];
  const records: Rule[] = ranges.map((r) => ({
    record: errorRatioRecord(r),
    expr: `sum by (namespace, job) (rate(${d.requests}{${sel}, ${d.statusLabel}=~"${d.errors}"}[${r}]))\n/\nsum by (namespace, job) (rate(${d.requests}{${sel}}[${r}]))`,
    labels: { team: slo.team, slo_window: slo.window },
  }));
  const alerts: Rule[] = BURN_RATES.map((b) => {
    const threshold = num(b.factor * budget);
    const at = (r: string) => `${errorRatioRecord(r)}{${sel}} > ${threshold}`;
    return {
      alert: b.severity === "critical" ? "SLOErrorBudgetBurnFast" : "SLOErrorBudgetBurnSlow",
      expr: `${at(b.long)}\nand\n${at(b.short)}`,
      for: b.for,
      labels: { severity: b.severity, team: slo.team, burn_window: b.long },
      annotations: {
        summary: `${slo.app} burns its ${slo.objective}% / ${slo.window} error budget ${b.factor}x too fast`,
        description: `The error ratio of ${slo.namespace}/${slo.app} is above ${b.factor} x ${num(budget)} over ${b.long} and ${b.short}.`,
        runbook_url: runbookUrl(b.severity === "critical" ? "SLOErrorBudgetBurnFast" : "SLOErrorBudgetBurnSlow"),
      },
    };
  });
  // Fast and slow burns as separate alerts of one group; both critical windows share one name.
  return [{ name: `slo-${slo.app}`, rules: [...records, ...alerts] }];
}

/** What the platform rules depend on. */
export interface PlatformRuleOptions {
  /** Team namespaces (team name = namespace name). */
  readonly teams: readonly string[];
  /** The platform runs Fluent Bit itself (local and existing clusters), so its retries and drops are scraped. */
  readonly logShipper: boolean;
  /** Velero backs up volumes (its metrics exist). */
  readonly velero: boolean;
  /** Opt-in groups. */
  readonly controlPlane: boolean;
  readonly cpuThrottling: boolean;
  readonly overcommit: boolean;
}

function alert(
  name: string,
  expr: string,
  forDuration: string,
  severity: "critical" | "warning" | "info",
  team: string,
  summary: string,
  description: string,
): Rule {
  return {
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, team },
    annotations: { summary, description, runbook_url: runbookUrl(name) },
  };
}

/** The alerts every team namespace gets, with the team's own label, in one group per team. */
function teamAlerts(team: string): Rule[] {
  const ns = `namespace="${team}"`;
  return [
    alert(
      "KubeDeploymentRolloutStuck",
      `kube_deployment_status_condition{${ns}, condition="Progressing", status="false"} == 1`,
      "5m",
      "warning",
      team,
      "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} rollout is stuck",
      "The Deployment made no progress within its progressDeadlineSeconds (Progressing=False).",
    ),
    alert(
      "KubePodCrashLooping",
      `max_over_time(kube_pod_container_status_waiting_reason{${ns}, reason="CrashLoopBackOff"}[5m]) >= 1`,
      "15m",
      "warning",
      team,
      "Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash looping",
      "The container has been waiting in CrashLoopBackOff for 15 minutes.",
    ),
    alert(
      "KubeContainerOOMKilled",
      `(kube_pod_container_status_restarts_total{${ns}} - kube_pod_container_status_restarts_total{${ns}} offset 10m >= 1)\nand ignoring (reason)\nmin_over_time(kube_pod_container_status_last_terminated_reason{${ns}, reason="OOMKilled"}[10m]) == 1`,
      "0m",
      "warning",
      team,
      "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} was OOMKilled",
      "The container restarted in the last 10 minutes after hitting its memory limit.",
    ),
    alert(
      "KubeReleaseJobFailed",
      `kube_job_failed{${ns}, condition="true"} == 1`,
      "0m",
      "critical",
      team,
      "Job {{ $labels.namespace }}/{{ $labels.job_name }} failed",
      "A release Job (migration) failed: its Deployment did not roll.",
    ),
    alert(
      "KubeHpaMaxedOut",
      // Quiet when min = max (nothing could scale) and when the HPA does not report ScalingLimited
      // (kubernetes-monitoring/kubernetes-mixin#1193: current = max alone is a false positive).
      `kube_horizontalpodautoscaler_status_current_replicas{${ns}} == kube_horizontalpodautoscaler_spec_max_replicas{${ns}}\nand on (namespace, horizontalpodautoscaler)\n(kube_horizontalpodautoscaler_spec_max_replicas{${ns}} != kube_horizontalpodautoscaler_spec_min_replicas{${ns}})\nand on (namespace, horizontalpodautoscaler)\n(kube_horizontalpodautoscaler_status_condition{${ns}, condition="ScalingLimited", status="true"} == 1)`,
      "15m",
      "warning",
      team,
      "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is pinned at its maximum",
      "The HPA wants more replicas than maxReplicas allows (ScalingLimited) for 15 minutes.",
    ),
    alert(
      "KubePersistentVolumeFillingUp",
      `(kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}}) < 0.15\nand\npredict_linear(kubelet_volume_stats_available_bytes{${ns}}[6h], 4 * 24 * 3600) < 0`,
      "1h",
      "warning",
      team,
      "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} will be full within 4 days",
      "Less than 15% is free and the trend of the last 6 hours fills it within 4 days.",
    ),
    alert(
      "KubePersistentVolumeFull",
      `(kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}}) < 0.03`,
      "1m",
      "critical",
      team,
      "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is almost full",
      "Less than 3% of the volume is free.",
    ),
    alert(
      "TargetDown",
      `up{${ns}} == 0`,
      "10m",
      "warning",
      team,
      "Scrape target {{ $labels.namespace }}/{{ $labels.job }} ({{ $labels.instance }}) is down",
      "A declared metrics endpoint failed every scrape for 10 minutes (also when it returns more samples than the limit).",
    ),
  ];
}

/** The platform's alert rule groups: one per team, then the platform's own and the opt-in ones. */
export function platformRuleGroups(o: PlatformRuleOptions): RuleGroup[] {
  const groups: RuleGroup[] = [...o.teams].sort().map((t) => ({ name: `team-${t}`, rules: teamAlerts(t) }));
  const platform = "platform";
  if (o.logShipper) {
    groups.push({
      name: "log-shipping",
      rules: [
        alert(
          "LogShipperDroppingRecords",
          `sum by (pod, name) (rate(fluentbit_output_dropped_records_total[5m])) > 0`,
          "10m",
          "critical",
          platform,
          "Fluent Bit {{ $labels.pod }} drops records on output {{ $labels.name }}",
          "Log records are lost: the store refuses them or the buffer is full.",
        ),
        alert(
          "LogShipperRetriesFailing",
          `sum by (pod, name) (rate(fluentbit_output_retries_failed_total[5m])) > 0`,
          "10m",
          "warning",
          platform,
          "Fluent Bit {{ $labels.pod }} gives up retries on output {{ $labels.name }}",
          "Chunks exhausted their retries and were discarded.",
        ),
      ],
    });
  }
  if (o.velero) {
    groups.push({
      name: "backups",
      rules: [
        alert(
          "VeleroBackupFailed",
          `increase(velero_backup_failure_total{schedule!=""}[1h]) > 0`,
          "0m",
          "critical",
          platform,
          "Velero backup of schedule {{ $labels.schedule }} failed",
          "A scheduled backup failed in the last hour.",
        ),
        alert(
          "VeleroBackupStale",
          `time() - velero_backup_last_successful_timestamp{schedule!=""} > 25 * 3600`,
          "15m",
          "warning",
          platform,
          "Velero schedule {{ $labels.schedule }} has no successful backup for over 25 hours",
          "The last successful backup of a daily schedule is older than a day and an hour.",
        ),
      ],
    });
  }
  if (o.controlPlane) {
    groups.push({
      name: "control-plane",
      rules: [
        alert(
          "KubeSchedulerDown",
          `absent(up{job="kube-scheduler"} == 1)`,
          "15m",
          "critical",
          platform,
          "kube-scheduler is not scraped",
          "No kube-scheduler target is up.",
        ),
        alert(
          "KubeControllerManagerDown",
          `absent(up{job="kube-controller-manager"} == 1)`,
          "15m",
          "critical",
          platform,
          "kube-controller-manager is not scraped",
          "No kube-controller-manager target is up.",
        ),
      ],
    });
  }
  if (o.cpuThrottling) {
    groups.push({
      name: "cpu-throttling",
      rules: [
        alert(
          "CPUThrottlingHigh",
          `sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{container!=""}[5m]))\n/\nsum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{container!=""}[5m])) > 0.25`,
          "15m",
          "info",
          platform,
          "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is CPU throttled",
          "More than 25% of CFS periods were throttled over 5 minutes.",
        ),
      ],
    });
  }
  if (o.overcommit) {
    groups.push({
      name: "overcommit",
      rules: [
        alert(
          "KubeCPUOvercommit",
          `sum(kube_pod_container_resource_requests{resource="cpu"}) > sum(kube_node_status_allocatable{resource="cpu"}) - max(kube_node_status_allocatable{resource="cpu"})`,
          "10m",
          "warning",
          platform,
          "CPU requests do not fit if a node is lost",
          "The cluster cannot tolerate the loss of its largest node.",
        ),
      ],
    });
  }
  return groups;
}

/** The metric names a PromQL expression reads (identifiers followed by `{`, `[` or whitespace that are not functions or keywords). */
export function seriesOf(expr: string): string[] {
  const words = new Set([
    "sum",
    "by",
    "rate",
    "increase",
    "max_over_time",
    "min_over_time",
    "predict_linear",
    "absent",
    "time",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "offset",
    "max",
    "min",
    "count",
    "avg",
    "bool",
    "group_left",
    "group_right",
  ]);
  const noStrings = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\boffset\s+\w+/g, " ");
  const out = new Set<string>();
  for (const m of noStrings.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const w = m[0];
    const after = noStrings.slice(m.index! + w.length).trimStart()[0];
    if (words.has(w) || /^[0-9]/.test(w) || after === "(") continue;
    if (/^\d+[smhdwy]$/.test(w)) continue;
    out.add(w);
  }
  return [...out].sort();
}

/** Which collector produces each series the rules read, so a flavour can prove it scrapes them. */
export const SERIES_SOURCES: Readonly<
  Record<
    string,
    "kube-state-metrics" | "kubelet" | "cadvisor" | "scrape" | "fluent-bit" | "velero" | "app" | "recording"
  >
> = {
  kube_deployment_status_condition: "kube-state-metrics",
  kube_pod_container_status_waiting_reason: "kube-state-metrics",
  kube_pod_container_status_restarts_total: "kube-state-metrics",
  kube_pod_container_status_last_terminated_reason: "kube-state-metrics",
  kube_job_failed: "kube-state-metrics",
  kube_horizontalpodautoscaler_status_current_replicas: "kube-state-metrics",
  kube_horizontalpodautoscaler_spec_max_replicas: "kube-state-metrics",
  kube_horizontalpodautoscaler_spec_min_replicas: "kube-state-metrics",
  kube_horizontalpodautoscaler_status_condition: "kube-state-metrics",
  kube_pod_container_resource_requests: "kube-state-metrics",
  kube_node_status_allocatable: "kube-state-metrics",
  kubelet_volume_stats_available_bytes: "kubelet",
  kubelet_volume_stats_capacity_bytes: "kubelet",
  container_cpu_cfs_throttled_periods_total: "cadvisor",
  container_cpu_cfs_periods_total: "cadvisor",
  up: "scrape",
  fluentbit_output_dropped_records_total: "fluent-bit",
  fluentbit_output_retries_failed_total: "fluent-bit",
  velero_backup_failure_total: "velero",
  velero_backup_last_successful_timestamp: "velero",
  http_request_duration_seconds_count: "app",
};

/** A rule file as promtool and Prometheus read it. */
export function ruleFile(groups: readonly RuleGroup[]): { groups: RuleGroup[] } {
  return { groups: groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r })) })) };
}

/** A receiver of alerts: e-mail addresses and/or a Slack channel. */
export interface AlertReceiver {
  readonly email: readonly string[];
  readonly slackChannel?: string;
}

/** Who receives what: the platform's receiver (alerts without a team route) and one per team. */
export interface AlertRouting {
  readonly platform: AlertReceiver;
  readonly teams: Readonly<Record<string, AlertReceiver>>;
  /** SMTP relay and sender, for e-mail receivers. */
  readonly smarthost?: string;
  readonly from?: string;
  /**
   * Where a Slack webhook URL file of a receiver lives: `(receiver) => path`. The URL is a secret:
   * it is mounted from a Secret, never written into the configuration.
   */
  readonly slackUrlFile: (receiver: string) => string;
}

/** The Secret holding a receiver's Slack webhook URL (key `url`), created by the platform team. */
export function slackSecretName(receiver: string): string {
  return `alertmanager-slack-${receiver}`;
}

/**
 * Alertmanager's configuration: alerts grouped by alert, namespace and team, routed by their
 * `team` label to that team's receiver (alerts of a team without one, and the platform's own,
 * go to the platform's), warnings inhibited while the same alert is critical.
 */
export function alertmanagerConfig(r: AlertRouting): Record<string, unknown> {
  const receiver = (name: string, x: AlertReceiver) => ({
    name,
    ...(x.email.length ? { email_configs: x.email.map((to) => ({ to, send_resolved: true })) } : {}),
    ...(x.slackChannel
      ? {
          slack_configs: [
            {
              channel: x.slackChannel,
              api_url_file: r.slackUrlFile(name),
              send_resolved: true,
              title: "{{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
              text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.runbook_url }}\n{{ end }}",
            },
          ],
        }
      : {}),
  });
  const teams = Object.keys(r.teams).sort();
  return {
    ...(r.smarthost
      ? { global: { smtp_smarthost: r.smarthost, ...(r.from ? { smtp_from: r.from } : {}), smtp_require_tls: true } }
      : {}),
    route: {
      receiver: "platform",
      group_by: ["alertname", "namespace", "team"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: teams.map((t) => ({ receiver: `team-${t}`, matchers: [`team="${t}"`], continue: false })),
    },
    receivers: [receiver("platform", r.platform), ...teams.map((t) => receiver(`team-${t}`, r.teams[t]))],
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["alertname", "namespace", "team"],
      },
    ],
  };
}
