import { appDashboard, dashboardProblems, platformDashboards, type FolderedDashboard } from "../../lib/dashboards";
import { checkRules, describePromtool } from "../helpers/promtool";

const TEAMS = {
  shop: [{ app: "frontend" }, { app: "backend" }],
  payments: [{ app: "api", slo: { objective: 99.5, window: "30d" } }],
};

describe("dashboards as code", () => {
  const all = platformDashboards(TEAMS);

  it("give the platform a cluster and a namespace view, and each team a folder with one dashboard per app", () => {
    expect(all.map((d) => [d.folder, d.dashboard.title])).toEqual([
      ["Platform", "Cluster"],
      ["Platform", "Namespace"],
      ["Team payments", "payments / api"],
      ["Team shop", "shop / backend"],
      ["Team shop", "shop / frontend"],
    ]);
  });

  it("draw RED panels for every app and SLO panels only for apps with an objective", () => {
    const titles = (d: FolderedDashboard) => d.dashboard.panels.map((p) => p.title);
    const api = all.find((d) => d.dashboard.title === "payments / api")!;
    const frontend = all.find((d) => d.dashboard.title === "shop / frontend")!;
    for (const d of [api, frontend])
      expect(titles(d).slice(0, 3)).toEqual(["Rate: requests per second", "Errors: 5xx ratio", "Duration: p99"]);
    expect(titles(api).filter((t) => /budget|Availability|Burn/.test(t))).toEqual([
      "Availability over 30d (objective 99.5%)",
      "Error budget left over 30d",
      "Burn rate (1h and 6h)",
    ]);
    expect(titles(frontend).some((t) => /budget|Availability|Burn/.test(t))).toBe(false);
    expect(JSON.stringify(api.dashboard)).toContain('job=\\"api\\"');
  });

  it("pass the dashboard checks: unique uids and panel ids, a 24-column grid without overlaps, a query and the Prometheus datasource on every panel", () => {
    expect(dashboardProblems(all)).toEqual([]);
    // JSON as Grafana loads it from a ConfigMap.
    for (const d of all) expect(JSON.parse(JSON.stringify(d.dashboard))).toEqual(d.dashboard);
  });

  it("catch a duplicate uid, an overlapping panel, a panel without a query and one on another datasource", () => {
    const one = appDashboard("shop", { app: "web" });
    const broken = {
      ...one,
      panels: [
        ...one.panels,
        { ...one.panels[0], id: 99, title: "on top" },
        { ...one.panels[1], id: 100, title: "empty", gridPos: { x: 0, y: 100, w: 12, h: 8 }, targets: [] },
        {
          ...one.panels[1],
          id: 101,
          title: "elsewhere",
          gridPos: { x: 12, y: 100, w: 12, h: 8 },
          datasource: { type: "prometheus" as const, uid: "loki" },
        },
      ],
    };
    expect(
      dashboardProblems([
        { folder: "x", dashboard: one },
        { folder: "y", dashboard: broken },
      ]),
    ).toEqual([
      'shop / web: uid "blueprint-shop-web" is used twice',
      'shop / web: panel "on top" overlaps another',
      'shop / web: panel "empty" has no query',
      'shop / web: panel "elsewhere" does not use the Prometheus datasource',
    ]);
  });
});

describePromtool("dashboard queries under promtool", () => {
  it("parse as PromQL, every panel of every dashboard (template variables filled in)", () => {
    const exprs = platformDashboards(TEAMS).flatMap((d) =>
      d.dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    );
    expect(exprs.length).toBeGreaterThan(20);
    const groups = [
      {
        name: "dashboards",
        rules: exprs.map((expr, i) => ({ record: `dashboard:query:${i}`, expr: expr.replace(/\$namespace/g, "shop") })),
      },
    ];
    const r = checkRules(groups);
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });
});
