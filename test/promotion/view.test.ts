import * as fs from "node:fs";
import * as path from "node:path";
import { escapeHtml, renderHtml } from "../../promotion/view/html";
import { escapeMarkdown, renderMarkdown } from "../../promotion/view/markdown";
import type { PromotionView, StageView } from "../../promotion/view/model";
import { main } from "../../promotion/cli";
import { openProject } from "../../promotion/workspace";
import { promotionView } from "../../promotion/view/model";
import { drain, harness, HOUR, releaseVerifiedInDev, removeTempProjects } from "./fixtures";
import { viewScenario, type Scenario } from "./view-scenario";

let s: Scenario;
let view: PromotionView;
beforeAll(async () => {
  s = await viewScenario();
  view = await s.view();
});
afterAll(removeTempProjects);

const stage = (lane: string, name: string): StageView =>
  view.lanes.find((l) => l.name === lane)!.stages.find((x) => x.name === name)!;

describe("the promotion view's data", () => {
  it("has every lane by every stage, in promotion order", () => {
    expect(view.lanes.map((l) => l.name)).toEqual(["payments", "shop"]);
    for (const l of view.lanes) expect(l.stages.map((x) => x.name)).toEqual(["dev", "staging", "prod", "prod-gke"]);
  });

  it("says what each stage runs and whether it is verified, failed or has no release", () => {
    expect([stage("shop", "dev").release, stage("shop", "dev").verification]).toEqual([s.waiting, "verified"]);
    expect([stage("shop", "prod").release, stage("shop", "prod").verification]).toEqual([s.running, "verified"]);
    expect([stage("payments", "dev").release, stage("payments", "dev").verification]).toEqual([s.failed, "failed"]);
    expect(stage("payments", "dev").verificationProblem).toContain("which is not an image of release");
    expect([stage("shop", "prod-gke").release, stage("shop", "prod-gke").verification]).toEqual([null, "none"]);
  });

  it("marks a running release that a later scan fails as running, now failing its gate, with the finding", () => {
    const prod = stage("shop", "prod");
    expect(prod.running.gate).toBe("fails");
    expect(prod.running.problems.join("\n")).toMatch(/1 findings at critical or above \(at most 0\): CVE-2026-40001/);
    expect(stage("shop", "staging").running.gate).toBe("no-gate");
    expect(stage("shop", "prod-gke").running.gate).toBe("no-release");
  });

  it("gives each waiting release its soak left, approvals given and needed, gate state and every blocker", () => {
    const [b] = stage("shop", "staging").waiting;
    expect(b.release).toBe(s.waiting);
    expect(b.ready).toBe(false);
    expect(b.blockers.map((x) => x.rule)).toEqual(["soak"]);
    expect(b.soakRemainingMs).toBeGreaterThan(50 * 60_000);
    expect(b.soakRemainingMs).toBeLessThanOrEqual(60 * 60_000);
    const [a] = stage("shop", "prod-gke").waiting;
    expect(a.release).toBe(s.running);
    expect(a.approvals).toEqual({ given: 0, needed: 1, by: [] });
    expect(a.gate).toBe("fails");
    expect([...new Set(a.blockers.map((x) => x.rule))]).toEqual(["approval", "vulnerabilities", "registry"]);
    expect(a.soakRemainingMs).toBe(0);
  });

  it("keeps each lane's timeline newest first with actor, time and reason", () => {
    const shop = view.lanes.find((l) => l.name === "shop")!;
    const approval = shop.timeline.find((t) => t.kind === "approval")!;
    expect([approval.stage, approval.by, approval.detail]).toEqual([
      "prod",
      "Alice <alice@example.com>",
      "reason: change ticket CHG-1042",
    ]);
    const times = shop.timeline.map((t) => t.at);
    expect(times).toEqual([...times].sort().reverse());
  });

  it("says the chains are intact, and broken (with the file) when a record is edited", async () => {
    expect(view.chain).toEqual({ intact: true, problems: [] });
    const dir = path.join(s.h.dir, "stacks", "history", "shop", "prod");
    const file = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.includes("-approval-"))!,
    );
    const before = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, before.replace("CHG-1042", "CHG-9999"));
    try {
      const broken = await s.view();
      expect(broken.chain.intact).toBe(false);
      expect(broken.chain.problems[0]).toMatch(/^lane shop: stacks\/history\/shop\/prod\/000001-approval-/);
      expect(broken.lanes.find((l) => l.name === "payments")!.chain.intact).toBe(true);
    } finally {
      fs.writeFileSync(file, before);
    }
  });
});

describe("the promotion view's data, at the edges", () => {
  it("marks a release ready once every rule passes, with no blocker and no soak left", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const before = (await promotionView(openProject(h.dir), h.deps(), h.clock.now(), "shop")).lanes[0].stages.find(
      (x) => x.name === "staging",
    )!.waiting[0];
    expect([before.ready, before.blockers.map((b) => b.rule)]).toEqual([false, ["soak"]]);
    h.clock.advance(HOUR);
    const after = (await promotionView(openProject(h.dir), h.deps(), h.clock.now(), "shop")).lanes[0].stages.find(
      (x) => x.name === "staging",
    )!.waiting[0];
    expect(after).toMatchObject({ release: id, ready: true, blockers: [], soakRemainingMs: 0 });
    expect(renderMarkdown(await promotionView(openProject(h.dir), h.deps(), h.clock.now()))).toContain(
      `- **shop → staging**: \`${id}\` → ready to promote`,
    );
  });

  it("shows a lane without a team stack file as unusable, in every view, and the chains as not intact", async () => {
    const h = harness();
    fs.rmSync(path.join(h.dir, "stacks", "Pulumi.prod.payments.yaml"));
    const v = await promotionView(openProject(h.dir), h.deps(), h.clock.now());
    const payments = v.lanes.find((l) => l.name === "payments")!;
    expect(payments.error).toMatch(
      /^lane payments has no team stack file for stage prod \(stacks\/Pulumi\.prod\.payments\.yaml\)/,
    );
    expect(payments.stages).toEqual([]);
    expect(v.chain.intact).toBe(false);
    expect(renderHtml(v)).toContain(
      '<tr data-lane="payments"><th scope="row">payments<span class="facts">lane payments has no team stack file',
    );
    expect(renderMarkdown(v)).toContain("| **payments** | unusable | unusable | unusable | unusable |");
  });

  it("notes a pointer that no record put there", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const file = h.stackFile("staging");
    const dev = fs.readFileSync(h.stackFile("dev"), "utf8");
    const pointer = /  blueprint:release:\n(?:    .*\n|      .*\n)+/.exec(dev)![0];
    fs.writeFileSync(
      file,
      fs.readFileSync(file, "utf8").replace(/  blueprint:release:\n(?:    .*\n|      .*\n)+/, pointer),
    );
    const staging = (await promotionView(openProject(h.dir), h.deps(), h.clock.now(), "shop")).lanes[0].stages.find(
      (x) => x.name === "staging",
    )!;
    expect([staging.release, staging.verification]).toEqual([id, "unverified"]);
    expect(staging.notes).toEqual(["no record put this release here"]);
  });
});

describe("the Markdown view", () => {
  it("has the matrix with a word and a symbol for each state, the failing gate, and every blocker", () => {
    const md = renderMarkdown(view);
    expect(md).toContain("| lane | dev | staging | prod | prod-gke |");
    expect(md).toContain(`| **shop** | \`${s.waiting.slice(0, 10)}\` ✓ verified |`);
    expect(md).toContain(`\`${s.running.slice(0, 10)}\` ✓ verified, ⚠ running, now fails the gate |`);
    expect(md).toContain(`| **payments** | \`${s.failed.slice(0, 10)}\` ✗ verification failed |`);
    expect(md).toContain("### ⚠ Running, now fails the gate");
    expect(md).toMatch(
      /- \*\*shop → prod-gke\*\*: `r-[0-9a-f]{12}` ⊘ blocked by approval, vulnerabilities, registry \(approvals 0 of 1; scan gate fails\)/,
    );
    expect(md).toContain("**History chains: ✓ intact**");
  });

  it("renders what teams write as text: no HTML, no table broken by a pipe or a line break", () => {
    expect(escapeMarkdown("<img src=x onerror=alert(1)> a|b\nc *d*")).toBe(
      "&lt;img src=x onerror=alert(1)&gt; a\\|b c \\*d\\*",
    );
    const hostile: PromotionView = {
      ...view,
      project: "x</summary><script>",
      lanes: view.lanes.map((l) => ({ ...l, timeline: l.timeline.map((t) => ({ ...t, detail: "a | b\n| c <b>" })) })),
    };
    const md = renderMarkdown(hostile);
    expect(md).not.toMatch(/<script>|<b>/);
    for (const line of md.split("\n").filter((x) => x.startsWith("| 20")))
      expect(line.split(/(?<!\\)\|/).length).toBe(8);
  });

  it("folds long timelines after the limit and says how many are left out", () => {
    const md = renderMarkdown(view, { timelineLimit: 2 });
    expect(md).toMatch(/\d+ older record\(s\) not shown: npm run status -- --lane shop --html FILE/);
  });
});

describe("the HTML page", () => {
  it("is one file with no script and no external resource, under a policy that forbids loading anything", () => {
    const html = renderHtml(view);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`,
    );
    expect(html).not.toMatch(/<script|<link|<img|<iframe|src=|href=|url\(|@import/i);
  });

  it("escapes everything a team writes", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const hostile: PromotionView = {
      ...view,
      lanes: view.lanes.map((l) => ({
        ...l,
        timeline: l.timeline.map((t) => ({ ...t, by: `<script>alert(1)</script> <x@y>` })),
      })),
    };
    expect(renderHtml(hostile)).not.toContain("<script>alert");
  });
});

describe("npm run status --html and --format", () => {
  it("writes the page and prints a one-line summary; --format markdown and json print the view", async () => {
    const file = path.join(s.h.dir, "out", "status.html");
    drain(s.h);
    expect(await s.h.cliRaw("status", "--html", file)).toBe(0);
    expect(drain(s.h)).toBe(`wrote ${file}: 2 lane(s) by 4 stage(s), history chains intact`);
    expect(fs.readFileSync(file, "utf8")).toContain('data-lane="payments"');
    expect(await s.h.cliRaw("status", "--format", "markdown", "--lane", "shop")).toBe(0);
    const md = drain(s.h);
    expect(md).toContain("| **shop** |");
    expect(md).not.toContain("payments");
    expect(await s.h.cliRaw("status", "--format", "json")).toBe(0);
    const json = JSON.parse(drain(s.h)) as PromotionView;
    expect(json.lanes.find((l) => l.name === "shop")!.stages.find((x) => x.name === "prod")!.running.gate).toBe(
      "fails",
    );
  });

  it("writes --html relative to the folder the command was run from (npm's INIT_CWD), not the project's", async () => {
    const sub = path.join(s.h.dir, "reports", "today");
    fs.mkdirSync(sub, { recursive: true });
    // As `npm run status -- --html view.html` run in reports/today sets them (trusted only when npm ran `status` itself).
    const npm = { INIT_CWD: sub, npm_lifecycle_event: "status" };
    const saved = { INIT_CWD: process.env.INIT_CWD, npm_lifecycle_event: process.env.npm_lifecycle_event };
    Object.assign(process.env, npm);
    try {
      expect(await main(["status", "--html", "view.html"], { projectDir: s.h.dir, deps: s.h.deps(), vars: npm })).toBe(
        0,
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    expect(fs.existsSync(path.join(sub, "view.html"))).toBe(true);
    expect(fs.existsSync(path.join(s.h.dir, "view.html"))).toBe(false);
  });

  it("refuses an unknown format, --html without a file, and --html naming a folder, writing nothing", async () => {
    drain(s.h);
    expect(await s.h.cliRaw("status", "--format", "yaml")).toBe(2);
    expect(drain(s.h)).toBe('status: --format is text, markdown, json, got "yaml" (see npm run status -- --help)');
    expect(await s.h.cliRaw("status", "--html")).toBe(2);
    expect(drain(s.h)).toMatch(/^status: Option '--html <value>' argument missing/);
    expect(await s.h.cliRaw("status", "--html", s.h.dir)).toBe(2);
    expect(drain(s.h)).toMatch(/^status: --html .* is a folder; give a file name/);
  });

  it("says what the text status says: the same releases in the same stages, the same blockers word for word", async () => {
    const lines: string[] = [];
    // Unwrapped (a terminal as wide as the longest line), so every message reads in one piece.
    await main(["status"], {
      projectDir: s.h.dir,
      deps: { ...s.h.deps(), out: (l) => lines.push(l), columns: 1_000_000 },
      vars: {},
    });
    const text = lines.join("\n");
    for (const lane of view.lanes) {
      for (const st of lane.stages) {
        for (const c of st.waiting) {
          expect(text).toContain(`${lane.name} -> ${st.name}`);
          for (const b of c.blockers) expect(text).toContain(`- [${b.rule}] ${b.message}`);
        }
      }
    }
    expect(
      view.lanes.flatMap((l) => l.stages.flatMap((st) => st.waiting.flatMap((c) => c.blockers))).length,
    ).toBeGreaterThan(4);
    // And the other way: every blocker the text lists is one the view shows.
    const viewBlockers = new Set(
      view.lanes.flatMap((l) =>
        l.stages.flatMap((st) => st.waiting.flatMap((c) => c.blockers.map((b) => `- [${b.rule}] ${b.message}`))),
      ),
    );
    const textBlockers = lines.map((l) => l.trim()).filter((l) => /^- \[[a-z-]+\] /.test(l));
    expect(textBlockers.length).toBeGreaterThan(4);
    expect(textBlockers.filter((b) => !viewBlockers.has(b))).toEqual([]);
  });

  it("text status lists a running release that now fails its gate, and nothing of the kind before the rescan", async () => {
    drain(s.h);
    await s.h.cliRaw("status");
    const text = drain(s.h);
    expect(text).toContain("running, now fails the gate (rebuild: a new release walks the stages again):");
    expect(text).toMatch(new RegExp(`shop -> prod  running ${s.running}, now fails the gate:`));
    expect(text).toContain("CVE-2026-40001");
    const fresh = harness();
    await fresh.cliRaw("status");
    expect(fresh.out.join("\n")).not.toContain("now fails the gate");
  });
});
