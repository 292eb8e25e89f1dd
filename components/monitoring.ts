import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appMonitor, sloRuleGroups, type AppSlo, type MonitoringFlavour, type RuleGroup } from "../lib/observability";
import { appDashboard } from "../lib/dashboards";

/** What one app declares for monitoring, and where it runs. */
export interface AppMonitoringArgs {
  /** The cluster's flavour, from the platform contract: which kinds to render. */
  readonly monitoring: MonitoringFlavour;
  /** The app's name: the monitor's name and the `job` label of its series. */
  readonly app: string;
  readonly namespace: string;
  /** The team (`team` label of its alerts). */
  readonly team: string;
  /** Labels selecting the app's Service (prometheus-operator) or pods (GMP). */
  readonly selector: Readonly<Record<string, string>>;
  /** Labels of the monitor and rule objects. */
  readonly labels: Readonly<Record<string, string>>;
  /** The metrics path and scrape interval (the port is the one named `metrics`). */
  readonly metrics: { readonly path: string; readonly interval: string };
  /** The app's SLO, rendered as burn-rate alerts. */
  readonly slo?: { readonly objective: number; readonly window: string };
}

/** The rule kind of a flavour: PrometheusRule, or GMP's namespaced Rules (GMP ignores PrometheusRule). */
export function ruleObject(
  monitoring: MonitoringFlavour,
  name: string,
  namespace: string,
  labels: Readonly<Record<string, string>>,
  groups: readonly RuleGroup[],
): Record<string, unknown> | undefined {
  if (monitoring === "none") return undefined;
  const apiVersion = monitoring === "gmp" ? "monitoring.googleapis.com/v1" : "monitoring.coreos.com/v1";
  const kind = monitoring === "gmp" ? "Rules" : "PrometheusRule";
  return {
    apiVersion,
    kind,
    metadata: { name, namespace, labels: { ...labels } },
    spec: { groups: groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r })) })) },
  };
}

/**
 * One app's monitor (ServiceMonitor or PodMonitoring, on the port named `metrics`, with a sample
 * limit and high-cardinality labels dropped) and, with an SLO, its error-budget rules
 * (PrometheusRule or Rules). Registered in the team's namespace with the team's own access;
 * nothing is added to the app's pods.
 */
export class AppMonitoring extends pulumi.ComponentResource {
  constructor(name: string, args: AppMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:AppMonitoring", name, {}, opts);
    const parent = { parent: this };
    const monitor = appMonitor(
      args.monitoring,
      {
        app: args.app,
        namespace: args.namespace,
        team: args.team,
        path: args.metrics.path,
        interval: args.metrics.interval,
      },
      args.selector,
      args.labels,
    );
    if (monitor) new k8s.apiextensions.CustomResource(name, monitor as k8s.apiextensions.CustomResourceArgs, parent);
    if (args.slo) {
      const slo: AppSlo = {
        app: args.app,
        namespace: args.namespace,
        team: args.team,
        objective: args.slo.objective,
        window: args.slo.window,
      };
      const rules = ruleObject(args.monitoring, `${args.app}-slo`, args.namespace, args.labels, sloRuleGroups(slo));
      if (rules)
        new k8s.apiextensions.CustomResource(`${name}-slo`, rules as k8s.apiextensions.CustomResourceArgs, parent);
    }
    if (args.monitoring === "prometheus-operator") {
      // The app's RED (and SLO) dashboard, in the team's folder: the platform's Grafana loads
      // ConfigMaps labelled grafana_dashboard from every namespace.
      const d = appDashboard(args.team, { app: args.app, slo: args.slo });
      new k8s.core.v1.ConfigMap(
        `${name}-dashboard`,
        {
          metadata: {
            name: `${args.app}-dashboard`,
            namespace: args.namespace,
            labels: { ...args.labels, grafana_dashboard: "1" },
            annotations: { grafana_folder: `Team ${args.team}` },
          },
          data: { [`${d.uid}.json`]: JSON.stringify(d) },
        },
        parent,
      );
    }
    this.registerOutputs({});
  }
}
