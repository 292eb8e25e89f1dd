import { z } from "zod";
import type { ConfigProblem } from "../lib/errors";
import { nameRecord } from "../lib/names";
import { observabilityDefaults, type MonitoringFlavour } from "../lib/observability";
import { workloadDefaults } from "../lib/defaults";

/**
 * The observability keys: what an app declares (`apps.<app>.metrics`, `apps.<app>.slo`) and what
 * the platform runs (`blueprint:observability`: the monitoring flavour, retention, alert routes,
 * opt-in rule groups). Apps write logs to stdout only; nothing is added to their pods.
 */

const D = observabilityDefaults;

/** A Prometheus duration in whole seconds, minutes or hours, such as "30s", "1m", "5m". */
const scrapeInterval = z
  .string()
  .regex(/^[1-9][0-9]*(s|m|h)$/, { message: 'must be a duration such as "30s", "1m" or "5m"' });

/** Seconds of a Prometheus duration of the form {@link scrapeInterval} accepts. */
export function durationSeconds(d: string): number {
  const n = Number(d.slice(0, -1));
  return d.endsWith("h") ? n * 3600 : d.endsWith("m") ? n * 60 : n;
}

/** `apps.<app>.metrics`: where the app serves Prometheus metrics. */
export const metricsSchema = z.strictObject({
  /** Container port serving the metrics; it becomes the container port named `metrics`. */
  port: z.number().int().min(1).max(65535),
  /** HTTP path of the metrics. @default "/metrics" */
  path: z.string().default(D.metricsPath),
  /** Scrape interval, at least 10s. @default "30s" */
  interval: scrapeInterval.default(D.scrapeInterval),
});
export type MetricsConfig = z.infer<typeof metricsSchema>;

/** `apps.<app>.slo`: an availability objective measured from the app's own request metrics. */
export const sloSchema = z.strictObject({
  /** Percent of requests that must succeed, 50 to 99.999. */
  objective: z.number(),
  /** Rolling window of the error budget: 28d or 30d. */
  window: z.string(),
});
export type SloConfig = z.infer<typeof sloSchema>;

/** A team's alert receiver: where Alertmanager sends the team's alerts. */
const receiverSchema = z.strictObject({
  /** E-mail addresses (the platform's SMTP relay, `smarthost`, must be set). */
  email: z
    .array(z.string().regex(/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i, { message: "must be e-mail addresses" }))
    .default([]),
  /** Slack channel; the webhook URL is read from the Secret `alertmanager-slack-<team>` in the monitoring namespace, never from config. */
  slackChannel: z
    .string()
    .regex(/^#[a-z0-9_-]{1,80}$/, { message: 'must be a Slack channel such as "#shop-alerts"' })
    .optional(),
});
export type ReceiverConfig = z.infer<typeof receiverSchema>;

/** `blueprint:observability` of a platform stack. */
export const observabilitySchema = z.strictObject({
  /**
   * Which monitor and rule kinds team stacks render: `prometheus-operator` (ServiceMonitor,
   * PrometheusRule; EKS and existing clusters), `gmp` (PodMonitoring, Rules; GKE Managed
   * Prometheus) or `none`. @default by cloud: gcp -> gmp, else prometheus-operator
   */
  monitoring: z.enum(["prometheus-operator", "gmp", "none"]).optional(),
  retention: z
    .strictObject({
      /** Days logs are kept (CloudWatch log groups, the Cloud Logging `_Default` bucket, the OpenSearch ISM policy). */
      logsDays: z.number().int().min(1).max(3653).optional(),
      /** Days Prometheus keeps samples (prometheus-operator; Managed Prometheus keeps 24 months on its own). */
      metricsDays: z.number().int().min(1).max(3650).optional(),
    })
    .default({}),
  alerting: z
    .strictObject({
      /** SMTP relay (`host:port`) for e-mail receivers. */
      smarthost: z
        .string()
        .regex(/^[a-z0-9.-]+:[0-9]{1,5}$/, { message: 'must be host:port such as "smtp.example.com:587"' })
        .optional(),
      /** Sender address of alert e-mails. */
      from: z
        .string()
        .regex(/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i, { message: "must be an e-mail address" })
        .optional(),
      /** Receiver of alerts no team label routes (platform alerts). */
      platform: receiverSchema.prefault({}),
      /** Per team (a key of blueprint:teams): its receiver; alerts carry a `team` label. */
      teams: nameRecord(receiverSchema).prefault({}),
    })
    .prefault({}),
  /** Opt-in rule groups, off by default (noisy or wrong on managed control planes). */
  rules: z
    .strictObject({
      /** kube-scheduler and controller-manager down: fires forever on EKS and GKE, whose control plane is not scraped. */
      controlPlane: z.boolean().default(false),
      cpuThrottling: z.boolean().default(false),
      overcommit: z.boolean().default(false),
    })
    .prefault({}),
});
export type ObservabilityConfig = z.infer<typeof observabilitySchema>;

/** The observability settings with every default resolved for a cloud and production flag. */
export interface ResolvedObservability {
  readonly monitoring: MonitoringFlavour;
  readonly logsDays: number;
  readonly metricsDays: number;
  readonly alerting: ObservabilityConfig["alerting"];
  readonly rules: ObservabilityConfig["rules"];
}

/** Fills the defaults that depend on the cloud and on production. */
export function resolveObservability(
  cfg: ObservabilityConfig,
  cloud: "aws" | "gcp" | "existing",
  production: boolean,
): ResolvedObservability {
  return {
    monitoring: cfg.monitoring ?? (cloud === "gcp" ? "gmp" : "prometheus-operator"),
    logsDays: cfg.retention.logsDays ?? (production ? D.production.logsDays : D.nonProduction.logsDays),
    metricsDays: cfg.retention.metricsDays ?? (production ? D.production.metricsDays : D.nonProduction.metricsDays),
    alerting: cfg.alerting,
    rules: cfg.rules,
  };
}

/** The flavours each cloud's platform installs. */
export const FLAVOURS_BY_CLOUD: Readonly<Record<"aws" | "gcp" | "existing", readonly MonitoringFlavour[]>> = {
  aws: ["prometheus-operator", "none"],
  gcp: ["gmp", "none"],
  existing: ["prometheus-operator", "none"],
};

/** Retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days. */
const CLOUDWATCH_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Cross-field rules of `blueprint:observability`: flavour per cloud, retention minima, receivers of known teams. */
export function observabilityProblems(
  cfg: ObservabilityConfig,
  cloud: "aws" | "gcp" | "existing" | undefined,
  production: boolean,
  teams: readonly string[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string) => problems.push({ key: `blueprint:observability.${key}`, message });
  if (cloud && cfg.monitoring && !FLAVOURS_BY_CLOUD[cloud].includes(cfg.monitoring)) {
    add(
      "monitoring",
      `"${cfg.monitoring}" is not a monitoring flavour this blueprint runs on cloud ${cloud} (allowed: ${FLAVOURS_BY_CLOUD[cloud].join(", ")})`,
    );
  }
  const logs = cfg.retention.logsDays;
  if (production && logs !== undefined && logs < D.production.logsDays) {
    add(
      "retention.logsDays",
      `must be at least ${D.production.logsDays} in a production environment (blueprint:production is true), got ${logs}`,
    );
  }
  if (cloud === "aws" && logs !== undefined && !CLOUDWATCH_DAYS.includes(logs)) {
    add(
      "retention.logsDays",
      `must be a retention period CloudWatch Logs accepts (${CLOUDWATCH_DAYS.join(", ")}), got ${logs}`,
    );
  }
  const metrics = cfg.retention.metricsDays;
  if (production && metrics !== undefined && metrics < D.production.metricsDays) {
    add(
      "retention.metricsDays",
      `must be at least ${D.production.metricsDays} in a production environment (blueprint:production is true), got ${metrics}`,
    );
  }
  for (const team of Object.keys(cfg.alerting.teams)) {
    if (!teams.includes(team))
      add(
        `alerting.teams.${team}`,
        `names a team that is not in blueprint:teams (teams: ${teams.join(", ") || "none"})`,
      );
  }
  const receivers: [string, ReceiverConfig][] = [
    ["alerting.platform", cfg.alerting.platform],
    ...Object.entries(cfg.alerting.teams).map(([t, r]) => [`alerting.teams.${t}`, r] as [string, ReceiverConfig]),
  ];
  const flavour = cfg.monitoring ?? (cloud === "gcp" ? "gmp" : "prometheus-operator");
  for (const [key, r] of receivers) {
    if (r.email.length > 0 && (!cfg.alerting.smarthost || !cfg.alerting.from))
      add(
        `${key}.email`,
        "needs blueprint:observability.alerting.smarthost and .from (the SMTP relay alert e-mails go through)",
      );
    if (r.slackChannel && flavour === "gmp")
      add(
        `${key}.slackChannel`,
        "cannot be used with Managed Prometheus: its Alertmanager reads one Secret and mounts no webhook URL file, so the URL would sit in the configuration; use email",
      );
  }
  return problems;
}

/** Windows an SLO may use: the SRE workbook's burn-rate thresholds are computed for 28 or 30 days. */
export const SLO_WINDOWS = ["28d", "30d"] as const;

/**
 * Cross-field rules of an app's `metrics` and `slo`: the path, the interval, the port against the
 * app's own, the objective's range and the window. `key` is `apps.<app>`.
 */
export function appObservabilityProblems(
  key: string,
  app: { port: number; metrics?: MetricsConfig; slo?: SloConfig },
  monitoring: MonitoringFlavour | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (k: string, message: string) => problems.push({ key: `blueprint:${key}.${k}`, message });
  const m = app.metrics;
  if (m) {
    if (!/^\/[^\s?#]*$/.test(m.path))
      add("metrics.path", `must start with "/" and hold no whitespace, "?" or "#", got ${JSON.stringify(m.path)}`);
    if (durationSeconds(m.interval) < D.minScrapeSeconds)
      add(
        "metrics.interval",
        `must be at least ${D.minScrapeSeconds}s (each scrape is billed per sample on managed Prometheus), got "${m.interval}"`,
      );
    if (m.port === app.port) {
      add(
        "metrics.port",
        `is the app's port (${app.port}, named http): serve metrics on a port of its own, which becomes the container port named "metrics" (podinfo: --port-metrics=9797), so the scraper is admitted to the metrics only`,
      );
    } else if (m.port === workloadDefaults.servicePort) {
      add(
        "metrics.port",
        `is the Service's http port (${workloadDefaults.servicePort}); the Service exposes the metrics port under its own number, so choose another`,
      );
    }
  }
  const s = app.slo;
  if (s) {
    if (!(s.objective >= 50 && s.objective <= 99.999))
      add("slo.objective", `must be a percentage between 50 and 99.999, got ${s.objective}`);
    if (!(SLO_WINDOWS as readonly string[]).includes(s.window))
      add("slo.window", `must be one of ${SLO_WINDOWS.join(", ")}, got ${JSON.stringify(s.window)}`);
    if (!m) add("slo", "needs apps.<app>.metrics: the error budget is computed from the app's own request metrics");
  }
  if (m && monitoring === "none")
    add(
      "metrics",
      "is declared, but the platform runs no monitoring (its contract says monitoring: none): remove it or ask the platform team to enable blueprint:observability.monitoring",
    );
  return problems;
}
