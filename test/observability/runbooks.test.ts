import * as fs from "node:fs";
import * as path from "node:path";
import { platformRuleGroups, sloRuleGroups, type RuleGroup } from "../../lib/observability";

const RUNBOOKS = path.join(__dirname, "..", "..", "docs", "runbooks.md");

/** The anchors of docs/runbooks.md's `## <Alert>` sections. */
function sections(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^## (\S+)\s*$/gm)].map((m) => m[1].toLowerCase()));
}

/** Alerts whose runbook link has no section to land on. */
function missingRunbooks(groups: readonly RuleGroup[], markdown: string): string[] {
  const anchors = sections(markdown);
  return groups
    .flatMap((g) => g.rules)
    .filter((r) => r.alert)
    .filter((r) => {
      const url = r.annotations?.runbook_url ?? "";
      const [file, anchor] = url.split("#");
      return file !== "docs/runbooks.md" || !anchors.has(anchor);
    })
    .map((r) => r.alert!);
}

describe("runbooks", () => {
  const all = [
    ...platformRuleGroups({
      teams: ["shop"],
      logShipper: true,
      velero: true,
      controlPlane: true,
      cpuThrottling: true,
      overcommit: true,
    }),
    ...sloRuleGroups({ app: "api", namespace: "shop", team: "shop", objective: 99.9, window: "30d" }),
  ];

  it("have a section for every alert the platform can render, where its runbook_url points", () => {
    const markdown = fs.readFileSync(RUNBOOKS, "utf8");
    expect(all.flatMap((g) => g.rules).filter((r) => r.alert).length).toBeGreaterThan(15);
    expect(missingRunbooks(all, markdown)).toEqual([]);
  });

  it("catch an alert without a section, and a link to another page", () => {
    const markdown = fs.readFileSync(RUNBOOKS, "utf8").replace(/^## TargetDown$/m, "## Target down");
    expect(missingRunbooks(all, markdown)).toEqual(["TargetDown"]);
    const elsewhere: RuleGroup[] = [
      {
        name: "x",
        rules: [{ alert: "TargetDown", expr: "up == 0", annotations: { runbook_url: "docs/other.md#targetdown" } }],
      },
    ];
    expect(missingRunbooks(elsewhere, fs.readFileSync(RUNBOOKS, "utf8"))).toEqual(["TargetDown"]);
  });
});
