/**
 * Grafana dashboards as code, from the same declarations as the monitors and rules: a cluster
 * view, a namespace view, and per team a folder with one dashboard of RED panels (rate, errors,
 * duration) per app and SLO panels for apps with an objective. Plain JSON (Grafana dashboard
 * schema version 39), no SDK import; the platform loads them through ConfigMaps.
 */
import { observabilityDefaults, errorRatioRecord } from "./observability";

/** One app as its team's dashboard sees it. */
export interface DashboardApp {
  readonly app: string;
  readonly slo?: { readonly objective: number; readonly window: string };
}

/** A Grafana panel (the subset these dashboards use). */
export interface Panel {
  readonly id: number;
  readonly type: "timeseries" | "stat" | "row";
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource?: { readonly type: "prometheus"; readonly uid: string };
  readonly targets?: readonly { readonly refId: string; readonly expr: string; readonly legendFormat?: string }[];
  readonly fieldConfig?: Record<string, unknown>;
}

/** A Grafana dashboard. */
export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly templating: { readonly list: readonly Record<string, unknown>[] };
  readonly panels: readonly Panel[];
}

/** A dashboard and the Grafana folder it goes in. */
export interface FolderedDashboard {
  readonly folder: string;
  readonly dashboard: Dashboard;
}

/** The Prometheus datasource every panel uses (kube-prometheus-stack's Grafana provisions it with this uid). */
export const DATASOURCE = { type: "prometheus", uid: "prometheus" } as const;

const SCHEMA_VERSION = 39;

function dashboard(
  uid: string,
  title: string,
  tags: string[],
  panels: Panel[],
  templating: Record<string, unknown>[] = [],
): Dashboard {
  return {
    uid,
    title,
    tags: ["blueprint", ...tags],
    schemaVersion: SCHEMA_VERSION,
    time: { from: "now-6h", to: "now" },
    refresh: "1m",
    templating: { list: templating },
    panels,
  };
}

/** Lays panels out two per row, 12 columns wide and 8 high, numbering them from 1. */
function layout(specs: readonly Omit<Panel, "id" | "gridPos">[]): Panel[] {
  return specs.map((p, i) => ({
    ...p,
    id: i + 1,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
  }));
}

function ts(title: string, expr: string, legendFormat: string, unit?: string): Omit<Panel, "id" | "gridPos"> {
  return {
    type: "timeseries",
    title,
    datasource: DATASOURCE,
    targets: [{ refId: "A", expr, legendFormat }],
    ...(unit ? { fieldConfig: { defaults: { unit }, overrides: [] } } : {}),
  };
}

function stat(title: string, expr: string, unit: string): Omit<Panel, "id" | "gridPos"> {
  return {
    type: "stat",
    title,
    datasource: DATASOURCE,
    targets: [{ refId: "A", expr }],
    fieldConfig: { defaults: { unit }, overrides: [] },
  };
}

/** A dashboard uid: at most 40 characters, Grafana's limit. */
function uid(...parts: string[]): string {
  return parts.join("-").slice(0, 40);
}

/** Nodes, pods and requests against allocatable for the whole cluster. */
export function clusterDashboard(): Dashboard {
  return dashboard(
    "blueprint-cluster",
    "Cluster",
    ["cluster"],
    layout([
      ts(
        "CPU requested / allocatable",
        `sum(kube_pod_container_resource_requests{resource="cpu"}) / sum(kube_node_status_allocatable{resource="cpu"})`,
        "requested",
        "percentunit",
      ),
      ts(
        "Memory requested / allocatable",
        `sum(kube_pod_container_resource_requests{resource="memory"}) / sum(kube_node_status_allocatable{resource="memory"})`,
        "requested",
        "percentunit",
      ),
      ts("Pods by phase", `sum by (phase) (kube_pod_status_phase)`, "{{phase}}"),
      ts(
        "Container restarts (1h)",
        `sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))`,
        "{{namespace}}",
      ),
      ts("Firing alerts by severity", `sum by (severity) (ALERTS{alertstate="firing"})`, "{{severity}}"),
      ts("Scrape targets down", `sum by (namespace, job) (up == 0)`, "{{namespace}}/{{job}}"),
    ]),
  );
}

/** One namespace (chosen in a variable): CPU and memory against quota, restarts, volumes. */
export function namespaceDashboard(): Dashboard {
  const ns = `namespace="$namespace"`;
  return dashboard(
    "blueprint-namespace",
    "Namespace",
    ["namespace"],
    layout([
      ts(
        "CPU used",
        `sum by (pod) (rate(container_cpu_usage_seconds_total{${ns}, container!=""}[5m]))`,
        "{{pod}}",
        "short",
      ),
      ts(
        "Memory working set",
        `sum by (pod) (container_memory_working_set_bytes{${ns}, container!=""})`,
        "{{pod}}",
        "bytes",
      ),
      ts(
        "Quota used",
        `kube_resourcequota{${ns}, type="used"} / ignoring (type) kube_resourcequota{${ns}, type="hard"}`,
        "{{resource}}",
        "percentunit",
      ),
      ts("Restarts (1h)", `sum by (pod) (increase(kube_pod_container_status_restarts_total{${ns}}[1h]))`, "{{pod}}"),
      ts(
        "Volume free",
        `kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}}`,
        "{{persistentvolumeclaim}}",
        "percentunit",
      ),
      ts("Firing alerts", `sum by (alertname) (ALERTS{${ns}, alertstate="firing"})`, "{{alertname}}"),
    ]),
    [
      {
        name: "namespace",
        type: "query",
        datasource: DATASOURCE,
        query: "label_values(kube_namespace_status_phase, namespace)",
        refresh: 1,
        includeAll: false,
        multi: false,
      },
    ],
  );
}

/** RED panels for one app, and its SLO panels when it has an objective. */
export function appDashboard(team: string, app: DashboardApp): Dashboard {
  const d = observabilityDefaults.sli;
  const sel = `namespace="${team}", job="${app.app}"`;
  const panels = [
    ts("Rate: requests per second", `sum by (status) (rate(${d.requests}{${sel}}[5m]))`, "{{status}}", "reqps"),
    ts(
      "Errors: 5xx ratio",
      `sum(rate(${d.requests}{${sel}, ${d.statusLabel}=~"${d.errors}"}[5m])) / sum(rate(${d.requests}{${sel}}[5m]))`,
      "errors",
      "percentunit",
    ),
    ts(
      "Duration: p99",
      `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`,
      "p99",
      "s",
    ),
    ts("Targets up", `sum(up{${sel}})`, "up"),
  ];
  if (app.slo) {
    const budget = 1 - app.slo.objective / 100;
    const days = Number(app.slo.window.slice(0, -1));
    panels.push(
      stat(
        `Availability over ${app.slo.window} (objective ${app.slo.objective}%)`,
        `1 - (sum(rate(${d.requests}{${sel}, ${d.statusLabel}=~"${d.errors}"}[${days}d])) / sum(rate(${d.requests}{${sel}}[${days}d])))`,
        "percentunit",
      ),
      stat(
        `Error budget left over ${app.slo.window}`,
        `1 - (sum(rate(${d.requests}{${sel}, ${d.statusLabel}=~"${d.errors}"}[${days}d])) / sum(rate(${d.requests}{${sel}}[${days}d]))) / ${Number(budget.toPrecision(12))}`,
        "percentunit",
      ),
      ts(
        "Burn rate (1h and 6h)",
        `${errorRatioRecord("1h")}{${sel}} / ${Number(budget.toPrecision(12))}`,
        "1h",
        "short",
      ),
    );
  }
  return dashboard(uid("blueprint", team, app.app), `${team} / ${app.app}`, ["team", team], layout(panels));
}

/** Every dashboard of the platform: cluster and namespace views, then a folder per team. */
export function platformDashboards(teams: Readonly<Record<string, readonly DashboardApp[]>>): FolderedDashboard[] {
  const out: FolderedDashboard[] = [
    { folder: "Platform", dashboard: clusterDashboard() },
    { folder: "Platform", dashboard: namespaceDashboard() },
  ];
  for (const team of Object.keys(teams).sort()) {
    for (const app of [...teams[team]].sort((a, b) => a.app.localeCompare(b.app)))
      out.push({ folder: `Team ${team}`, dashboard: appDashboard(team, app) });
  }
  return out;
}

/** Why a dashboard would not load or would mislead: duplicate ids or uids, overlapping panels, panels without a query. */
export function dashboardProblems(dashboards: readonly FolderedDashboard[]): string[] {
  const out: string[] = [];
  const uids = new Set<string>();
  for (const { dashboard: d } of dashboards) {
    if (uids.has(d.uid)) out.push(`${d.title}: uid "${d.uid}" is used twice`);
    uids.add(d.uid);
    if (!/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid))
      out.push(`${d.title}: uid "${d.uid}" is not 1-40 letters, digits, '-' or '_'`);
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const p of d.panels) {
      if (ids.has(p.id)) out.push(`${d.title}: panel id ${p.id} is used twice`);
      ids.add(p.id);
      if (p.gridPos.x + p.gridPos.w > 24) out.push(`${d.title}: panel "${p.title}" is wider than the 24-column grid`);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const cell = `${x},${y}`;
          if (cells.has(cell)) {
            out.push(`${d.title}: panel "${p.title}" overlaps another`);
            x = Infinity;
            break;
          }
          cells.add(cell);
        }
      }
      if (p.type !== "row" && (!p.targets || p.targets.length === 0 || p.targets.some((t) => t.expr.trim() === "")))
        out.push(`${d.title}: panel "${p.title}" has no query`);
      if (p.type !== "row" && p.datasource?.uid !== DATASOURCE.uid)
        out.push(`${d.title}: panel "${p.title}" does not use the Prometheus datasource`);
    }
  }
  return out;
}
