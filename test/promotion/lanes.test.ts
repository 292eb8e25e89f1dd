import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../promotion/cli";
import { readPointer } from "../../promotion/pointer";
import { openProject } from "../../promotion/workspace";
import {
  drain,
  harness,
  HOUR,
  outputsJson,
  PODINFO,
  digest,
  releaseVerifiedInDev,
  removeTempProjects,
  teamStackFile,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

/** Every file under `stacks/` (lock files aside) with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== ".locks") walk(p);
      } else out.set(path.relative(dir, p), fs.readFileSync(p, "latin1"));
    }
  };
  walk(path.join(dir, "stacks"));
  return out;
}

/** Files added, changed or removed between two snapshots. */
function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((f) => before.get(f) !== after.get(f)).sort();
}

/** Whether a file under `stacks/` belongs to `lane`. */
const ofLane = (lane: string) => (f: string) =>
  f.startsWith(`stacks/releases/${lane}/`) ||
  f.startsWith(`stacks/history/${lane}/`) ||
  new RegExp(`^stacks/Pulumi\\.[^.]+\\.${lane}\\.yaml$`).test(f);

const run = (h: Harness, ...argv: string[]) => h.cliRaw(...argv);

describe("lanes are independent", () => {
  it("promoting, verifying, approving and rolling back shop leaves every payments file byte for byte", async () => {
    const h = harness();
    const before = snapshot(h.dir);
    const a = await releaseVerifiedInDev(h, "a");
    h.clock.advance(HOUR);
    expect(await h.cli("promote", "staging")).toBe(0);
    expect(await h.cli("approve", "prod", "--release", a)).toBe(0);
    await releaseVerifiedInDev(h, "b", "2".repeat(40));
    expect(await h.cli("rollback", "dev")).toBe(0);
    const touched = changed(before, snapshot(h.dir));
    expect(touched.length).toBeGreaterThan(5);
    expect(touched.filter((f) => !ofLane("shop")(f) && !f.startsWith("stacks/scans/"))).toEqual([]);
    expect(touched.filter(ofLane("payments"))).toEqual([]);
  });

  it("gives each lane its own chain per stage, each starting at record 1", async () => {
    const h = harness();
    const p: Harness = { ...h, lane: "payments", cli: (...argv) => h.cliRaw(...argv, "--lane", "payments") };
    await releaseVerifiedInDev(h, "a");
    await releaseVerifiedInDev(p, "a");
    for (const lane of ["shop", "payments"]) {
      const records = openProject(h.dir).lane(lane).history.list("dev");
      expect(records.map((r) => [r.lane, r.seq, r.kind])).toEqual([
        [lane, 1, "promotion"],
        [lane, 2, "verification"],
      ]);
      expect(records[0].prev).toBeNull();
    }
    // The same release in both lanes, but each lane's record is its own: same sequence, kind and
    // release, a different hash, because the lane is part of what is hashed.
    const [shop, payments] = ["shop", "payments"].map((l) =>
      fs.readdirSync(path.join(h.dir, "stacks/history", l, "dev")).sort(),
    );
    const parts = (f: string) => /^(\d{6}-[a-z]+-r-[0-9a-f]{12})-([0-9a-f]{12})\.json$/.exec(f)!.slice(1);
    expect(shop.map((f) => parts(f)[0])).toEqual([
      "000001-promotion-r-c917d4067ced",
      "000002-verification-r-c917d4067ced",
    ]);
    expect(payments.map((f) => parts(f)[0])).toEqual(shop.map((f) => parts(f)[0]));
    for (const [i, f] of shop.entries()) expect(parts(f)[1]).not.toBe(parts(payments[i])[1]);
  });

  it("refuses a record copied from another lane's folder, even as the first of a chain", async () => {
    const h = harness();
    await releaseVerifiedInDev(h, "a");
    const [first] = fs.readdirSync(h.historyDir("dev")).sort();
    fs.mkdirSync(path.join(h.dir, "stacks/history/payments/dev"), { recursive: true });
    fs.copyFileSync(path.join(h.historyDir("dev"), first), path.join(h.dir, "stacks/history/payments/dev", first));
    drain(h);
    expect(await run(h, "promote", "staging", "--lane", "payments")).toBe(1);
    expect(drain(h)).toContain(
      `stacks/history/payments/dev/${first}: is a record of lane "shop" in the folder of lane "payments"`,
    );
    expect(await run(h, "status")).toBe(1);
  });

  it("locks a stage per lane: shop's lock does not hold up payments", async () => {
    const h = harness();
    const lock = path.join(h.dir, "stacks/history/.locks/shop.dev.lock");
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(
      lock,
      JSON.stringify({
        pid: process.pid,
        host: os.hostname(),
        by: "Bob",
        since: h.clock.now().toISOString(),
        command: "promote dev",
      }),
    );
    expect(
      await run(
        h,
        "release",
        "create",
        "--lane",
        "payments",
        "--image",
        `podinfo=${PODINFO}@${digest("a")}`,
        "--commit",
        "1".repeat(40),
      ),
    ).toBe(0);
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await run(h, "promote", "dev", "--lane", "payments", "--release", id)).toBe(0);
    expect(
      await run(
        h,
        "release",
        "create",
        "--lane",
        "shop",
        "--image",
        `podinfo=${PODINFO}@${digest("a")}`,
        "--commit",
        "1".repeat(40),
      ),
    ).toBe(0);
    drain(h);
    expect(await run(h, "promote", "dev", "--lane", "shop", "--release", id)).toBe(1);
    expect(drain(h)).toContain('shop.dev.lock is held by "promote dev"');
  });

  it("refuses evidence of another lane's stack in the same stage (exit 1)", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h, "a");
    const theirs = outputsJson(
      { dir: h.dir, lane: "payments" },
      "payments-dev.json",
      id,
      `${PODINFO}@${digest("a")}`,
      "dev",
    );
    drain(h);
    expect(await h.cli("verify", "dev", "--outputs", theirs)).toBe(1);
    expect(drain(h)).toContain(
      "is the outputs of stack dev.payments, which is stage dev of lane payments, not dev (stack dev.shop)",
    );
  });

  it("refuses a lane's stack file that says it is another team's", async () => {
    const h = harness();
    fs.writeFileSync(
      h.stackFile("dev"),
      h.stackText("dev").replace("blueprint:team: shop", "blueprint:team: payments"),
    );
    expect(
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", "1".repeat(40)),
    ).toBe(0);
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await h.cli("promote", "dev", "--release", id)).toBe(1);
    expect(drain(h)).toContain("the stack file of lane shop must be a team stack of team shop");
  });
});

describe("choosing a lane", () => {
  it("requires --lane when there are several lanes, naming them (exit 2)", async () => {
    const h = harness();
    for (const argv of [
      ["promote", "dev", "--release", "r-000000000000"],
      ["release", "create", "--image", "x=y"],
      ["verify", "dev", "--outputs", "o.json"],
      ["rollback", "dev"],
      ["approve", "prod", "--release", "r-000000000000"],
    ]) {
      expect(await run(h, ...argv)).toBe(2);
      expect(drain(h)).toBe(
        `${argv[0]}: --lane <team> is required: this project has 2 lanes (payments, shop) (see npm run ${argv[0]} -- --help)`,
      );
    }
  });

  it("treats an unknown lane as bad usage, listing the lanes (exit 2)", async () => {
    const h = harness();
    expect(await run(h, "promote", "dev", "--lane", "shipping", "--release", "r-000000000000")).toBe(2);
    expect(drain(h)).toContain('--lane "shipping" is not a lane (lanes: payments, shop)');
    expect(await run(h, "status", "--lane", "platform")).toBe(2);
    expect(drain(h)).toContain('--lane "platform" is not a lane (lanes: payments, shop)');
    expect(await run(h, "promote", "dev", "--lane")).toBe(2);
    expect(drain(h)).toContain("--lane needs a team name");
  });

  it("lets --lane be left out when the project has one lane", async () => {
    const h = harness(undefined, "shop", ["shop"]);
    fs.writeFileSync(path.join(h.dir, "stacks/stages.yaml"), "stages:\n  dev: {}\n  staging:\n    from: [dev]\n");
    expect(
      await run(h, "release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", "1".repeat(40)),
    ).toBe(0);
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await run(h, "promote", "dev", "--release", id)).toBe(0);
    expect(readPointer(h.stackFile("dev"), "dev").pointer?.id).toBe(id);
  });

  it("says which team stack file a lane is missing", async () => {
    const h = harness();
    fs.rmSync(path.join(h.dir, "stacks/Pulumi.staging.payments.yaml"));
    expect(await run(h, "promote", "dev", "--lane", "payments", "--release", "r-000000000000")).toBe(2);
    expect(drain(h)).toContain(
      "lane payments has no team stack file for stage staging (stacks/Pulumi.staging.payments.yaml)",
    );
  });

  it("shows a lane left out of one environment as incomplete, and status still works for every lane", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    fs.rmSync(path.join(h.dir, "stacks/Pulumi.staging.payments.yaml"));
    drain(h);
    expect(await run(h, "status")).toBe(0);
    const out = drain(h);
    const flat = out.replace(/\s+/g, " ");
    expect(flat).toContain(
      "note: lane payments is incomplete: it has no team stack for staging (stacks/Pulumi.staging.payments.yaml); its commands refuse until it has one in every stage's environment: npm run team -- add payments --environments staging (docs/teams.md)",
    );
    expect(out).toMatch(/^payments +- +\(no stack\) /m);
    expect(out).toMatch(new RegExp(`^shop +${id.slice(0, 10)} ✓`, "m"));
    expect(await run(h, "status", "--lane", "payments")).toBe(0);
    expect(drain(h)).toContain("release   (no stack file: stacks/Pulumi.staging.payments.yaml)");
  });

  it("never takes the platform stack for a lane", () => {
    const h = harness();
    expect(fs.existsSync(path.join(h.dir, "stacks/Pulumi.dev.platform.yaml"))).toBe(true);
    expect(openProject(h.dir).lanes).toEqual(["payments", "shop"]);
  });
});

describe("per-lane overrides in stages.yaml", () => {
  const stages = (lanes: string) =>
    `stages:\n  dev: {}\n  staging:\n    from: [dev]\n    soak: 1h\n  prod:\n    from: [staging]\n    approvals: 1\n${lanes}`;

  it("apply to the lane they name and to no other", async () => {
    const h = harness(stages("lanes:\n  payments:\n    staging: { soak: 4h }\n    prod: { approvals: 2 }\n"));
    const project = openProject(h.dir);
    expect(
      ["shop", "payments"].map((l) => [
        project.lane(l).stages.get("staging").soak,
        project.lane(l).stages.get("prod").approvals,
      ]),
    ).toEqual([
      ["1h", 1],
      ["4h", 2],
    ]);
    // Where a stage is and what feeds it stay the same.
    expect(project.lane("payments").stages.get("prod").from).toEqual(["staging"]);

    const p = harness(stages("lanes:\n  payments:\n    staging: { soak: 4h }\n"), "payments");
    await releaseVerifiedInDev(p, "a");
    p.clock.advance(2 * HOUR);
    drain(p);
    expect(await p.cli("promote", "staging")).toBe(1);
    expect(drain(p)).toContain("soak time 4h in dev has not elapsed");
    const s = harness(stages("lanes:\n  payments:\n    staging: { soak: 4h }\n"), "shop");
    await releaseVerifiedInDev(s, "a");
    s.clock.advance(2 * HOUR);
    expect(await s.cli("promote", "staging")).toBe(0);
  });

  it.each([
    [
      "a stage that does not exist",
      "lanes:\n  payments:\n    qa: { soak: 1h }\n",
      'lanes.payments.qa names "qa", which is not a stage',
    ],
    [
      "a lane without team stack files",
      "lanes:\n  shipping:\n    prod: { approvals: 2 }\n",
      "lanes.shipping overrides a lane that has no team stack file",
    ],
    ["where a stage is", "lanes:\n  payments:\n    prod: { stack: staging }\n", "lanes.payments.prod"],
    ["what feeds a stage", "lanes:\n  payments:\n    prod: { from: [dev] }\n", "lanes.payments.prod"],
    [
      "a soak on an entry stage",
      "lanes:\n  payments:\n    dev: { soak: 1h }\n",
      'lanes.payments.dev.soak is counted from the upstream verification, so it needs "from"',
    ],
  ])("refuse an override of %s (exit 2)", async (_what, lanes, message) => {
    const h = harness(stages(lanes));
    expect(await h.cli("status")).toBe(2);
    expect(drain(h)).toContain(message);
  });
});

describe("status of every lane", () => {
  it("shows lanes by stages, then what waits with every blocker, within 100 columns", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h, "a");
    h.clock.advance(20 * 60_000);
    drain(h);
    expect(await run(h, "status")).toBe(0);
    const lines = [...h.out];
    const text = drain(h);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines[0].split(/\s+/)).toEqual(["lane", "dev", "staging", "prod", "prod-gke"]);
    expect(lines[1].split(/\s+/)).toEqual(["payments", "-", "-", "-", "-"]);
    expect(lines[2].split(/\s+/)).toEqual(["shop", id.slice(0, 10), "✓", "-", "-", "-"]);
    expect(text).toContain("shop -> staging  (stack staging.shop; from dev; soak 1h)");
    expect(text).toContain(`  waiting   ${id}: blocked by soak`);
    expect(text).not.toContain("payments -> ");
  });

  it("marks a failed and an unverified release", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h, "a");
    h.clock.advance(HOUR);
    expect(await h.cli("promote", "staging")).toBe(0);
    expect(
      await h.cli("verify", "dev", "--outputs", outputsJson(h, "bad.json", id, `${PODINFO}@${digest("b")}`, "dev")),
    ).toBe(1);
    drain(h);
    expect(await run(h, "status")).toBe(0);
    expect(h.out[2].split(/\s+/)).toEqual(["shop", id.slice(0, 10), "✗", id.slice(0, 10), "?", "-", "-"]);
  });

  it("with --lane shows that lane alone, in detail", async () => {
    const h = harness();
    await releaseVerifiedInDev(h, "a");
    drain(h);
    expect(await run(h, "status", "--lane", "payments")).toBe(0);
    const text = drain(h);
    expect(text).toContain("dev  (stack dev.payments; entry: CI)");
    expect(text).not.toContain("shop");
  });

  it("says so when there is no lane at all", async () => {
    const h = harness("stages:\n  dev: {}\n  staging:\n    from: [dev]\n");
    for (const f of fs
      .readdirSync(path.join(h.dir, "stacks"))
      .filter((x) => /^Pulumi\..*\.(shop|payments)\.yaml$/.test(x)))
      fs.rmSync(path.join(h.dir, "stacks", f));
    expect(
      await main(["promote", "dev", "--release", "r-000000000000"], { projectDir: h.dir, deps: h.deps(), vars: {} }),
    ).toBe(2);
    expect(drain(h)).toContain("no lane: there is no team stack file (stacks/Pulumi.<environment>.<team>.yaml)");
    teamStackFile(h.dir, "dev", "shop");
    expect(await run(h, "promote", "dev", "--release", "r-000000000000")).toBe(2);
    expect(drain(h)).toContain("lane shop has no team stack file for stage staging");
  });
});

describe("what status keeps of reading the records", () => {
  it("still finds a record edited in place after status cached it, even with its size and mtime kept", async () => {
    const h = harness();
    await releaseVerifiedInDev(h, "a");
    expect(await run(h, "status")).toBe(0);
    expect(fs.existsSync(path.join(h.dir, "stacks/history/.cache/shop.json"))).toBe(true);
    const [first] = fs
      .readdirSync(h.historyDir("dev"))
      .sort()
      .map((f) => path.join(h.historyDir("dev"), f));
    const { mtime } = fs.statSync(first);
    const text = fs.readFileSync(first, "utf8");
    fs.writeFileSync(first, text.replace(/"by": "Release Bot/, '"by": "Mallory Bot'));
    fs.utimesSync(first, mtime, mtime);
    expect(fs.statSync(first).size).toBe(Buffer.byteLength(text));
    drain(h);
    expect(await run(h, "status")).toBe(1);
    expect(drain(h).replace(/\s+/g, " ")).toContain("was edited after it was written");
  });

  it("reports the same with a cache that is missing, garbled or out of date", async () => {
    const h = harness();
    await releaseVerifiedInDev(h, "a");
    drain(h);
    expect(await run(h, "status")).toBe(0);
    const fresh = drain(h);
    const cache = path.join(h.dir, "stacks/history/.cache/shop.json");
    for (const garble of [
      "{ not json",
      JSON.stringify({ version: 1, entries: { "dev/x.json": { id: [1, 2, 3, 4], hash: "0".repeat(64), record: {} } } }),
      "",
    ]) {
      fs.writeFileSync(cache, garble);
      expect(await run(h, "status")).toBe(0);
      expect(drain(h)).toBe(fresh);
    }
  });

  it("is never what promote, approve, verify or rollback judge by", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h, "a");
    expect(await run(h, "status")).toBe(0);
    // A cache that says dev's verification failed: the commands read the records themselves.
    const cache = path.join(h.dir, "stacks/history/.cache/shop.json");
    const json = JSON.parse(fs.readFileSync(cache, "utf8")) as {
      entries: Record<string, { value: { record: { kind: string; result?: string } } }>;
    };
    for (const e of Object.values(json.entries))
      if (e.value.record.kind === "verification") e.value.record.result = "failed";
    fs.writeFileSync(cache, JSON.stringify(json));
    h.clock.advance(HOUR);
    drain(h);
    // The report believes it (it is this machine's own cache)...
    expect(await run(h, "status")).toBe(0);
    expect(h.out[2].split(/\s+/)).toEqual(["shop", id.slice(0, 10), "✗", "-", "-", "-"]);
    drain(h);
    // ...the rules do not.
    expect(await h.cli("promote", "staging")).toBe(0);
    expect(drain(h)).toContain(`promoted staging: (no release) -> ${id}`);
  });
});

describe("files of no lane", () => {
  it("are named by status, which reads nothing in them", async () => {
    const h = harness();
    fs.mkdirSync(path.join(h.dir, "stacks/history/shipping/dev"), { recursive: true });
    fs.writeFileSync(path.join(h.dir, "stacks/history/shipping/dev/junk.json"), "{");
    fs.mkdirSync(path.join(h.dir, "stacks/releases/shipping"), { recursive: true });
    expect(await run(h, "status")).toBe(0);
    const text = drain(h);
    expect(text).toContain(
      "note: stacks/history/shipping is not a lane's folder (lanes: payments, shop); nothing in it is read",
    );
    expect(text).toContain("note: stacks/releases/shipping is not a lane's folder");
  });
});

describe("messages about a lane's override", () => {
  it("name the override where the lane has one, and the stage's setting where it has not", async () => {
    const stages =
      "stages:\n  dev: {}\n  staging:\n    from: [dev]\n    approvals: 1\nlanes:\n  payments:\n    staging: { approvals: 0 }\n";
    const h = harness(stages);
    expect(
      await run(
        h,
        "release",
        "create",
        "--lane",
        "payments",
        "--image",
        `podinfo=${PODINFO}@${digest("a")}`,
        "--commit",
        "1".repeat(40),
      ),
    ).toBe(0);
    const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    expect(await run(h, "approve", "staging", "--lane", "payments", "--release", id)).toBe(1);
    expect(drain(h)).toContain(
      "does not require approvals (stacks/stages.yaml: lanes.payments.staging.approvals is 0)",
    );
    const plain = harness("stages:\n  dev: {}\n  staging:\n    from: [dev]\n");
    expect(
      await run(
        plain,
        "release",
        "create",
        "--lane",
        "payments",
        "--image",
        `podinfo=${PODINFO}@${digest("a")}`,
        "--commit",
        "1".repeat(40),
      ),
    ).toBe(0);
    drain(plain);
    expect(await run(plain, "approve", "staging", "--lane", "payments", "--release", id)).toBe(1);
    expect(drain(plain)).toContain("does not require approvals (stacks/stages.yaml: stages.staging.approvals is 0)");
  });
});
