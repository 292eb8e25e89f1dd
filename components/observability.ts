import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import {
  alertmanagerConfig,
  observabilityDefaults,
  platformRuleGroups,
  slackSecretName,
  type AlertReceiver,
  type MonitoringFlavour,
  type PlatformRuleOptions,
} from "../lib/observability";
import { clusterDashboard, namespaceDashboard } from "../lib/dashboards";
import { ruleObject } from "./monitoring";
import { dataProtection } from "./protection";

/**
 * Pinned charts of the monitoring and logging stacks. Upgrades are explicit: bump a version here
 * and review the chart's changelog (the CRDs chart first: the operator of the stack expects its
 * CRDs, https://github.com/prometheus-community/helm-charts/tree/main/charts/prometheus-operator-crds).
 */
export const observabilityCharts = {
  /** The Prometheus operator's CRDs, a release of their own (prometheus-community/helm-charts#1500: they are too large for client-side apply). */
  operatorCrds: {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "prometheus-operator-crds",
    version: "33.0.1",
  },
  /** Prometheus operator, Prometheus, Alertmanager, kube-state-metrics and Grafana. */
  stack: {
    repo: "https://prometheus-community.github.io/helm-charts",
    chart: "kube-prometheus-stack",
    version: "81.6.2",
  },
  /** Log shipping on local and existing clusters. */
  fluentBit: { repo: "https://fluent.github.io/helm-charts", chart: "fluent-bit", version: "0.50.0" },
  opensearch: { repo: "https://opensearch-project.github.io/helm-charts", chart: "opensearch", version: "3.6.0" },
  opensearchDashboards: {
    repo: "https://opensearch-project.github.io/helm-charts",
    chart: "opensearch-dashboards",
    version: "3.6.0",
  },
} as const;

/** Namespaces of the platform's observability stores and agents: never a team namespace. */
export const observabilityNamespaces = {
  /** Prometheus, Alertmanager, Grafana, the operator, kube-state-metrics: none needs host access. */
  monitoring: { name: observabilityDefaults.monitoringNamespace, podSecurity: "baseline" },
  /** Fluent Bit reads node log files through hostPath, which only `privileged` admits; nothing else runs here. */
  logging: { name: "logging", podSecurity: "privileged" },
  /** OpenSearch and its Dashboards: `node.store.allow_mmap: false`, so no privileged sysctl init container. */
  opensearch: { name: "opensearch", podSecurity: "baseline" },
} as const;

/** What the platform's observability needs from the platform stack. */
export interface PlatformObservabilityArgs {
  readonly monitoring: MonitoringFlavour;
  /** Run Fluent Bit -> OpenSearch + Dashboards in the cluster (local and existing clusters; clouds ship logs themselves). */
  readonly logStore: boolean;
  /** Team names (their namespaces). */
  readonly teams: readonly string[];
  readonly rules: Omit<PlatformRuleOptions, "teams" | "logShipper">;
  readonly metricsDays: number;
  readonly logsDays: number;
  readonly alerting: {
    readonly platform: AlertReceiver;
    readonly teams: Readonly<Record<string, AlertReceiver>>;
    readonly smarthost?: string;
    readonly from?: string;
  };
  /** Pod Security version label, e.g. `v1.36`. */
  readonly podSecurityVersion: string;
  /** The managed control plane is not scraped (EKS, GKE): its rules and the chart's scrapes stay off. */
  readonly managedControlPlane: boolean;
  /** Protect the namespaces holding metrics and logs from deletion (production). @default false */
  readonly protect?: boolean;
  /**
   * A Service whose metrics the platform's Prometheus scrapes (Velero's on an existing cluster,
   * whose alert rules read them): its namespace, selector labels and port name.
   */
  readonly backupMetrics?: {
    readonly namespace: string;
    readonly selector: Readonly<Record<string, string>>;
    readonly port: string;
  };
}

function namespace(
  name: string,
  level: string,
  version: string,
  parent: pulumi.Resource,
  protect: boolean,
): k8s.core.v1.Namespace {
  return new k8s.core.v1.Namespace(
    name,
    {
      metadata: {
        name,
        labels: {
          "app.kubernetes.io/managed-by": "pulumi",
          "app.kubernetes.io/part-of": "platform",
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/enforce-version": version,
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/warn-version": version,
        },
      },
    },
    { parent, ...dataProtection(protect) },
  );
}

/** The kube-prometheus-stack values: the platform owns rules, routes and dashboards; teams add monitors and rules in their namespaces. */
export function stackValues(
  args: PlatformObservabilityArgs,
  routing: Record<string, unknown>,
  slackReceivers: readonly string[],
): Record<string, unknown> {
  return {
    crds: { enabled: false },
    // The chart's own rules include control-plane alerts that fire forever on managed clusters
    // (prometheus-community/helm-charts#4106); the platform's rules replace them.
    defaultRules: { create: false },
    kubeScheduler: { enabled: !args.managedControlPlane },
    kubeControllerManager: { enabled: !args.managedControlPlane },
    kubeEtcd: { enabled: !args.managedControlPlane },
    kubeProxy: { enabled: !args.managedControlPlane },
    // node-exporter needs host access (privileged Pod Security); no rule or dashboard reads it.
    nodeExporter: { enabled: false },
    prometheus: {
      prometheusSpec: {
        retention: `${args.metricsDays}d`,
        // Samples on a volume, so the retention survives a restart (the chart's default is an emptyDir).
        storageSpec: {
          volumeClaimTemplate: {
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: args.protect ? "50Gi" : "10Gi" } },
            },
          },
        },
        // Pick up every team's ServiceMonitors and PrometheusRules, not only the chart's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorNamespaceSelector: {},
        ruleNamespaceSelector: {},
        // A team's rules and monitors see only their own namespace's series; the platform's rules see all.
        enforcedNamespaceLabel: "namespace",
        excludedFromEnforcement: [
          {
            group: "monitoring.coreos.com",
            resource: "prometheusrules",
            namespace: observabilityNamespaces.monitoring.name,
            name: "platform-alerts",
          },
        ],
        // Per-target limits are set on each team monitor; this caps any monitor that sets none.
        enforcedSampleLimit: observabilityDefaults.sampleLimit,
        enforcedLabelLimit: observabilityDefaults.labelLimit,
      },
    },
    alertmanager: {
      config: routing,
      alertmanagerSpec: { secrets: slackReceivers.map(slackSecretName) },
    },
    grafana: {
      // Dashboards are ConfigMaps labelled grafana_dashboard, in any namespace; the folder comes from an annotation.
      sidecar: {
        dashboards: {
          enabled: true,
          label: "grafana_dashboard",
          labelValue: "1",
          searchNamespace: "ALL",
          folderAnnotation: "grafana_folder",
          provider: { foldersFromFilesStructure: true },
        },
      },
      defaultDashboardsEnabled: false,
    },
  };
}

/** Fluent Bit: tail container logs, Kubernetes metadata, bounded filesystem buffer, OpenSearch output; metrics for the log-shipping alerts. */
export function fluentBitValues(logsIndex: string): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: true, namespace: observabilityNamespaces.logging.name },
    config: {
      service: [
        "[SERVICE]",
        "    Flush 1",
        "    HTTP_Server On",
        "    HTTP_Listen 0.0.0.0",
        "    HTTP_Port 2020",
        "    storage.path /var/fluent-bit/state/flb-storage/",
        "    storage.sync normal",
        "    storage.backlog.mem_limit 16M",
        "    storage.metrics on",
      ].join("\n"),
      inputs: [
        "[INPUT]",
        "    Name tail",
        "    Path /var/log/containers/*.log",
        "    multiline.parser cri, docker",
        "    Tag kube.*",
        "    Mem_Buf_Limit 16MB",
        "    Skip_Long_Lines On",
        "    storage.type filesystem",
      ].join("\n"),
      filters: ["[FILTER]", "    Name kubernetes", "    Match kube.*", "    Merge_Log On", "    Keep_Log Off"].join(
        "\n",
      ),
      outputs: [
        "[OUTPUT]",
        "    Name opensearch",
        "    Match kube.*",
        `    Host opensearch-cluster-master.${observabilityNamespaces.opensearch.name}.svc`,
        "    Port 9200",
        `    Logstash_Format On`,
        `    Logstash_Prefix ${logsIndex}`,
        // `app` and `app.kubernetes.io/name` in one index conflict unless dots are replaced (fluent/fluent-bit#4386).
        "    Replace_Dots On",
        // OpenSearch 2 and later refuse mapping types.
        "    Suppress_Type_Name On",
        "    Retry_Limit 5",
        // The bound of the filesystem buffer: beyond it the oldest chunks are dropped, and the drop is counted.
        "    storage.total_limit_size 2G",
      ].join("\n"),
    },
  };
}

/**
 * OpenSearch on a small cluster: one node, mmap off so no privileged sysctl init container. The
 * security plugin is off (a local or lab cluster): a NetworkPolicy admits only Fluent Bit and
 * Dashboards to it instead.
 */
export function opensearchValues(): Record<string, unknown> {
  return {
    singleNode: true,
    sysctlInit: { enabled: false },
    extraEnvs: [
      { name: "DISABLE_SECURITY_PLUGIN", value: "true" },
      { name: "DISABLE_INSTALL_DEMO_CONFIG", value: "true" },
    ],
    protocol: "http",
    config: {
      "opensearch.yml":
        "cluster.name: logs\nnetwork.host: 0.0.0.0\nnode.store.allow_mmap: false\nplugins.security.disabled: true\n",
    },
    podSecurityContext: {
      fsGroup: 1000,
      runAsUser: 1000,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: {
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
    },
    persistence: { enabled: true, size: "20Gi" },
  };
}

/** The OpenSearch ISM policy deleting log indices after the retention period. */
export function ismPolicy(logsIndex: string, days: number): Record<string, unknown> {
  return {
    policy: {
      description: `Delete ${logsIndex}-* indices after ${days} days`,
      default_state: "hot",
      states: [
        {
          name: "hot",
          actions: [],
          transitions: [{ state_name: "delete", conditions: { min_index_age: `${days}d` } }],
        },
        { name: "delete", actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [`${logsIndex}-*`], priority: 100 }],
    },
  };
}

/**
 * The platform's observability in the cluster: the monitoring stack (operator CRDs as a release
 * of their own, then kube-prometheus-stack) or, on GKE, Managed Prometheus's ClusterRules and
 * Alertmanager config; the platform's alert rules and routes; the cluster and namespace
 * dashboards; and on local and existing clusters Fluent Bit -> OpenSearch + Dashboards. Stores and
 * agents live in platform namespaces with their own Pod Security level.
 */
export class PlatformObservability extends pulumi.ComponentResource {
  /** Helm releases, by chart, with their pinned versions (resource options are not visible under mocks). */
  public readonly releases: Readonly<Record<string, string>>;

  constructor(name: string, args: PlatformObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("blueprint:k8s:PlatformObservability", name, {}, opts);
    const parent = { parent: this };
    const releases: Record<string, string> = {};
    const groups = platformRuleGroups({ ...args.rules, teams: args.teams, logShipper: args.logStore });
    const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "platform" };
    const slackReceivers = [
      ...(args.alerting.platform.slackChannel ? ["platform"] : []),
      ...Object.entries(args.alerting.teams)
        .filter(([, r]) => r.slackChannel)
        .map(([t]) => `team-${t}`),
    ];
    const routing = alertmanagerConfig({
      ...args.alerting,
      slackUrlFile: (receiver) => `/etc/alertmanager/secrets/${slackSecretName(receiver)}/url`,
    });

    if (args.monitoring === "prometheus-operator") {
      const ns = namespace(
        observabilityNamespaces.monitoring.name,
        observabilityNamespaces.monitoring.podSecurity,
        args.podSecurityVersion,
        this,
        args.protect ?? false,
      );
      const c = observabilityCharts;
      const crds = new k8s.helm.v3.Release(
        `${name}-operator-crds`,
        {
          name: "prometheus-operator-crds",
          chart: c.operatorCrds.chart,
          version: c.operatorCrds.version,
          repositoryOpts: { repo: c.operatorCrds.repo },
          namespace: ns.metadata.name,
        },
        { ...parent, dependsOn: [ns] },
      );
      const stack = new k8s.helm.v3.Release(
        `${name}-stack`,
        {
          name: "kube-prometheus-stack",
          chart: c.stack.chart,
          version: c.stack.version,
          repositoryOpts: { repo: c.stack.repo },
          namespace: ns.metadata.name,
          values: stackValues(args, routing, slackReceivers),
        },
        { ...parent, dependsOn: [crds] },
      );
      releases[c.operatorCrds.chart] = c.operatorCrds.version;
      releases[c.stack.chart] = c.stack.version;
      const rules = ruleObject(
        "prometheus-operator",
        "platform-alerts",
        observabilityNamespaces.monitoring.name,
        labels,
        groups,
      )!;
      new k8s.apiextensions.CustomResource(`${name}-platform-alerts`, rules as k8s.apiextensions.CustomResourceArgs, {
        ...parent,
        dependsOn: [crds],
      });
      if (args.backupMetrics) {
        // Made here rather than by the backup chart: the chart would look for the operator's CRDs
        // before this stack has installed them, and skip its monitor.
        const m = args.backupMetrics;
        new k8s.apiextensions.CustomResource(
          `${name}-backup-metrics`,
          {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: "volume-backups", namespace: m.namespace, labels },
            spec: {
              namespaceSelector: { matchNames: [m.namespace] },
              selector: { matchLabels: { ...m.selector } },
              endpoints: [{ port: m.port, interval: "30s" }],
            },
          },
          { ...parent, dependsOn: [crds] },
        );
      }
      for (const d of [clusterDashboard(), namespaceDashboard()]) {
        new k8s.core.v1.ConfigMap(
          `${name}-${d.uid}`,
          {
            metadata: {
              name: d.uid,
              namespace: ns.metadata.name,
              labels: { ...labels, grafana_dashboard: "1" },
              annotations: { grafana_folder: "Platform" },
            },
            data: { [`${d.uid}.json`]: JSON.stringify(d) },
          },
          { ...parent, dependsOn: [stack] },
        );
      }
    } else if (args.monitoring === "gmp") {
      // Managed Prometheus reads ClusterRules (cluster-wide) and ignores PrometheusRule
      // (prometheus-community/helm-charts#5641); its managed Alertmanager reads the Secret
      // `alertmanager` in gmp-public (https://cloud.google.com/stackdriver/docs/managed-prometheus/rules-managed#config-rules).
      const rules = ruleObject("gmp", "platform-alerts", "", labels, groups)!;
      const { namespace: _ns, ...metadata } = rules.metadata as Record<string, unknown>;
      new k8s.apiextensions.CustomResource(
        `${name}-platform-alerts`,
        { ...rules, kind: "ClusterRules", metadata } as unknown as k8s.apiextensions.CustomResourceArgs,
        parent,
      );
      new k8s.core.v1.Secret(
        `${name}-alertmanager`,
        {
          metadata: { name: "alertmanager", namespace: "gmp-public", labels },
          stringData: { "alertmanager.yaml": stringify(routing) },
        },
        parent,
      );
    }

    if (args.logStore) {
      const c = observabilityCharts;
      const logging = namespace(
        observabilityNamespaces.logging.name,
        observabilityNamespaces.logging.podSecurity,
        args.podSecurityVersion,
        this,
        args.protect ?? false,
      );
      const store = namespace(
        observabilityNamespaces.opensearch.name,
        observabilityNamespaces.opensearch.podSecurity,
        args.podSecurityVersion,
        this,
        args.protect ?? false,
      );
      const opensearch = new k8s.helm.v3.Release(
        `${name}-opensearch`,
        {
          name: "opensearch",
          chart: c.opensearch.chart,
          version: c.opensearch.version,
          repositoryOpts: { repo: c.opensearch.repo },
          namespace: store.metadata.name,
          values: opensearchValues(),
        },
        { ...parent, dependsOn: [store] },
      );
      new k8s.helm.v3.Release(
        `${name}-opensearch-dashboards`,
        {
          name: "opensearch-dashboards",
          chart: c.opensearchDashboards.chart,
          version: c.opensearchDashboards.version,
          repositoryOpts: { repo: c.opensearchDashboards.repo },
          namespace: store.metadata.name,
          values: {
            opensearchHosts: `http://opensearch-cluster-master.${observabilityNamespaces.opensearch.name}.svc:9200`,
            extraEnvs: [{ name: "DISABLE_SECURITY_DASHBOARDS_PLUGIN", value: "true" }],
          },
        },
        { ...parent, dependsOn: [opensearch] },
      );
      // The store takes writes from Fluent Bit and reads from Dashboards (and itself), nothing else.
      new k8s.networking.v1.NetworkPolicy(
        `${name}-opensearch-clients`,
        {
          metadata: { name: "opensearch-clients", namespace: store.metadata.name, labels },
          spec: {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [
              {
                from: [
                  { podSelector: {} },
                  {
                    namespaceSelector: {
                      matchLabels: { "kubernetes.io/metadata.name": observabilityNamespaces.logging.name },
                    },
                  },
                ],
              },
            ],
          },
        },
        { ...parent, dependsOn: [store] },
      );
      new k8s.core.v1.ConfigMap(
        `${name}-ism-policy`,
        {
          metadata: { name: "logs-retention-policy", namespace: store.metadata.name, labels },
          data: { "policy.json": JSON.stringify(ismPolicy("logs", args.logsDays)) },
        },
        { ...parent, dependsOn: [store] },
      );
      new k8s.helm.v3.Release(
        `${name}-fluent-bit`,
        {
          name: "fluent-bit",
          chart: c.fluentBit.chart,
          version: c.fluentBit.version,
          repositoryOpts: { repo: c.fluentBit.repo },
          namespace: logging.metadata.name,
          values: fluentBitValues("logs"),
        },
        { ...parent, dependsOn: [logging, opensearch] },
      );
      releases[c.opensearch.chart] = c.opensearch.version;
      releases[c.opensearchDashboards.chart] = c.opensearchDashboards.version;
      releases[c.fluentBit.chart] = c.fluentBit.version;
    }
    this.releases = releases;
    this.registerOutputs({});
  }
}
