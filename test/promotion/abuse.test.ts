import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../promotion/cli";
import { chainRecord, MAX_RECORD_BYTES, type VerificationRecord } from "../../promotion/history";
import { readPointer, writePointer } from "../../promotion/pointer";
import { PROJECT_DIR } from "../helpers/program";
import {
  COMMIT_B,
  digest,
  drain,
  harness,
  HOUR,
  outputsJson,
  PODINFO,
  podsJson,
  releaseVerifiedInDev,
  removeTempProjects,
  spawnCli,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

const ref = (c: string) => `${PODINFO}@${digest(c)}`;
const files = (h: Harness, stage: string) => {
  const dir = h.historyDir(stage);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .sort()
        .map((f) => path.join(dir, f))
    : [];
};
const rel = (h: Harness, file: string) => path.relative(h.dir, file);
const pointer = (h: Harness, stack: string) => readPointer(h.stackFile(stack), stack).pointer;
const verifications = (h: Harness, stage: string) =>
  h
    .ws()
    .history.list(stage)
    .filter((r): r is VerificationRecord => r.kind === "verification");

/** dev verified, then promoted to staging after the soak: staging runs the release, unverified. */
async function inStaging(h: Harness): Promise<string> {
  const id = await releaseVerifiedInDev(h);
  h.clock.advance(HOUR);
  expect(await h.cli("promote", "staging")).toBe(0);
  drain(h);
  return id;
}

/** Output and exit code of one command, with the check that the error is a single line (when the command fails). */
async function oneLine(h: Harness, ...argv: string[]): Promise<{ code: number; text: string }> {
  const r = await output(h, ...argv);
  if (r.code !== 0)
    expect({ argv, lines: r.text.split("\n") }).toEqual({
      argv,
      lines: [expect.stringMatching(new RegExp(`^${argv[0]}: \\S`))],
    });
  return r;
}

/** Output and exit code of one command whose refusal is a report or a list of problems, not one line. */
async function output(h: Harness, ...argv: string[]): Promise<{ code: number; text: string }> {
  drain(h);
  const code = await h.cli(...argv);
  const text = drain(h);
  return { code, text };
}

describe("evidence must come from the stage", () => {
  it("refuses dev's outputs given to staging (exit 1) and records nothing", async () => {
    const h = harness();
    const id = await inStaging(h);
    const before = files(h, "staging");
    const r = await oneLine(
      h,
      "verify",
      "staging",
      "--outputs",
      outputsJson(h, "dev-outputs.json", id, ref("a"), "dev"),
    );
    expect(r.code).toBe(1);
    expect(r.text).toContain(
      "is the outputs of stack dev.shop, which is stage dev, not staging (stack staging.shop). Evidence of one stage never counts for another; nothing recorded",
    );
    expect(files(h, "staging")).toEqual(before);
  });

  it("refuses outputs of the right stack from another cluster (exit 1)", async () => {
    const h = harness();
    const id = await inStaging(h);
    const r = await oneLine(
      h,
      "verify",
      "staging",
      "--outputs",
      outputsJson(h, "o.json", id, ref("a"), "staging", { cluster: "aws/us-east-1/somewhere-else" }),
    );
    expect(r.code).toBe(1);
    expect(r.text).toContain(
      'comes from cluster "aws/us-east-1/somewhere-else", but stage staging\'s stack file deploys to existing/kind-staging/blueprint-staging',
    );
  });

  it.each([
    [
      "outputs of a stack that is no stage",
      { stack: "someone-elses" },
      "is the outputs of stack someone-elses.shop, not staging.shop",
    ],
    ["outputs without a stack", { stack: "" }, "is the outputs of stack , not staging.shop"],
  ])("treats %s as bad usage (exit 2), recording nothing", async (_what, origin, message) => {
    const h = harness();
    const id = await inStaging(h);
    const before = files(h, "staging");
    const r = await oneLine(
      h,
      "verify",
      "staging",
      "--outputs",
      outputsJson(h, "o.json", id, ref("a"), "staging", origin),
    );
    expect(r.code).toBe(2);
    expect(r.text).toContain(message);
    expect(r.text).toMatch(/\(see npm run verify -- --help\)$/);
    expect(r.text.split("\n")).toHaveLength(1);
    expect(files(h, "staging")).toEqual(before);
  });

  it.each([
    ["no stack output", { releaseId: "r-000000000000", images: { frontend: "x" } }, 'has no "stack" output'],
    [
      "no releaseId output",
      { stack: "staging.shop", cluster: "existing/kind-staging/blueprint-staging", images: { frontend: "x" } },
      'has no "releaseId" output',
    ],
    [
      "no images",
      { stack: "staging.shop", cluster: "existing/kind-staging/blueprint-staging", releaseId: null, images: {} },
      "reports no images",
    ],
    ["a list", [1, 2], "expected the JSON object of `pulumi stack output --json`"],
    [
      "an image that is not a string",
      { stack: "staging.shop", images: { frontend: { a: 1 } } },
      "images.frontend is not a string",
    ],
  ])("treats outputs with %s as bad usage (exit 2)", async (_what, json, message) => {
    const h = harness();
    await inStaging(h);
    const file = path.join(h.dir, "bad.json");
    fs.writeFileSync(file, JSON.stringify(json));
    const before = files(h, "staging");
    const r = await oneLine(h, "verify", "staging", "--outputs", file);
    expect(r.code).toBe(2);
    expect(r.text).toContain(message);
    expect(files(h, "staging")).toEqual(before);
  });

  it("refuses pods of another stage (exit 1), and treats pods without the stack annotation, unmanaged pods and broken pod lists as bad usage (exit 2)", async () => {
    const h = harness();
    const id = await inStaging(h);
    const before = files(h, "staging");
    const devPods = podsJson(h, "dev-pods.json", [
      { name: "frontend-1", imageID: ref("a"), version: id, stack: "dev" },
    ]);
    let r = await oneLine(h, "verify", "staging", "--pods", devPods);
    expect(r.code).toBe(1);
    expect(r.text).toContain("none of stack staging.shop; they are of stack dev.shop, which is stage dev, not staging");

    const unlabelled = podsJson(h, "old-pods.json", [{ name: "frontend-1", imageID: ref("a"), stack: null }]);
    r = await oneLine(h, "verify", "staging", "--pods", unlabelled);
    expect(r.code).toBe(2);
    expect(r.text).toContain("has the blueprint.dev/stack annotation");

    const unmanaged = podsJson(h, "system-pods.json", [
      { name: "coredns", imageID: ref("9"), managed: false, stack: "staging" },
    ]);
    r = await oneLine(h, "verify", "staging", "--pods", unmanaged);
    expect(r.code).toBe(2);
    expect(r.text).toContain("has no running pods labelled app.kubernetes.io/managed-by=pulumi");

    for (const [json, message] of [
      ['{"items":[null]}', "items[0] is null, not a pod"],
      ['{"items":[1]}', "items[0] is number, not a pod"],
      ['{"items":', "not valid JSON"],
      ['{"kind":"List"}', 'an object with "items"'],
    ]) {
      fs.writeFileSync(path.join(h.dir, "broken.json"), json);
      r = await oneLine(h, "verify", "staging", "--pods", path.join(h.dir, "broken.json"));
      expect(r.code).toBe(2);
      expect(r.text).toContain(message);
      expect(r.text.split("\n")).toHaveLength(1);
    }
    expect(files(h, "staging")).toEqual(before);
  });

  it("uses only the stage's pods from a list of the whole cluster", async () => {
    const h = harness();
    const id = await inStaging(h);
    const pods = podsJson(h, "all-pods.json", [
      { name: "frontend-1", imageID: ref("a"), version: id, stack: "staging" },
      { name: "frontend-dev", imageID: ref("f"), version: "r-000000000000", stack: "dev" },
    ]);
    expect((await oneLine(h, "verify", "staging", "--pods", pods)).code).toBe(0);
    expect(verifications(h, "staging").at(-1)!.evidence[0]).toMatchObject({ pods: 1, stack: "staging.shop" });
  });

  it("refuses an evidence file over 16 MiB before reading it, recording nothing", async () => {
    const h = harness();
    await inStaging(h);
    const big = path.join(h.dir, "huge-pods.json");
    fs.closeSync(fs.openSync(big, "w"));
    fs.truncateSync(big, 45 * 1024 * 1024);
    const before = files(h, "staging");
    const r = await oneLine(h, "verify", "staging", "--pods", big);
    expect(r.code).toBe(2);
    expect(r.text).toContain("45.0 MiB is more than the 16 MiB an evidence file may have");
    expect(files(h, "staging")).toEqual(before);
  });

  it("records a real mismatch as a failed verification holding a bounded summary, never the evidence", async () => {
    const h = harness();
    const id = await inStaging(h);
    const many = Array.from({ length: 3000 }, (_, i) => ({
      name: `frontend-${i}-${'\u0000"'.repeat(200)}`,
      imageID: ref("b"),
      version: id,
      stack: "staging",
    }));
    const pods = podsJson(h, "many-pods.json", many);
    expect(fs.statSync(pods).size).toBeGreaterThan(1024 * 1024);
    const r = await output(h, "verify", "staging", "--pods", pods);
    expect(r.code).toBe(1);
    expect(r.text).toContain("(and 2980 more)");
    const record = files(h, "staging").at(-1)!;
    expect(fs.statSync(record).size).toBeLessThan(MAX_RECORD_BYTES);
    expect(fs.readFileSync(record, "utf8")).not.toContain("\\u0000");
    expect(verifications(h, "staging").at(-1)).toMatchObject({
      result: "failed",
      problemCount: 3000,
      evidence: [{ pods: 3000, images: 3000 }],
    });
    expect(verifications(h, "staging").at(-1)!.problems).toHaveLength(20);
  });

  it("records outputs that lack an app's image as a failed verification: the stage does not run what its stack file says", async () => {
    const h = harness();
    const id = await inStaging(h);
    const file = outputsJson(h, "o.json", id, ref("a"), "staging");
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    delete json.images.backend;
    fs.writeFileSync(file, JSON.stringify(json));
    const r = await output(h, "verify", "staging", "--outputs", file);
    expect(r.code).toBe(1);
    expect(r.text).toContain("has no image for app backend, which the stack file deploys");
    expect(verifications(h, "staging").at(-1)).toMatchObject({ result: "failed", problemCount: 1 });
  });

  it("refuses to verify a release the history does not show put in the stage (a hand-edited stack file)", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const file = h.stackFile("staging");
    writePointer(file, "staging", readPointer(file, "staging").pointer, { id, images: { podinfo: ref("a") } });
    const r = await oneLine(h, "verify", "staging", "--outputs", outputsJson(h, "o.json", id, ref("a"), "staging"));
    expect(r.code).toBe(1);
    expect(r.text).toContain("but the history of staging does not show it put there");
    expect(files(h, "staging")).toEqual([]);
  });
});

describe("the history is a hash chain per stage", () => {
  it("detects an edited record: status names the file and the repair, promote refuses", async () => {
    const h = harness();
    await inStaging(h);
    const [first] = files(h, "dev");
    fs.writeFileSync(
      first,
      fs
        .readFileSync(first, "utf8")
        .replace('"by": "Release Bot <ci@example.com>"', '"by": "Someone Else <else@example.com>"'),
    );
    let r = await output(h, "status");
    expect(r.code).toBe(1);
    expect(r.text).toContain("HISTORY OF LANE shop BROKEN");
    expect(r.text.replace(/\s+/g, " ")).toContain(`${rel(h, first)}: was edited after it was written`);
    r = await output(h, "promote", "staging", "--release", "r-000000000000");
    r = await output(h, "rollback", "dev");
    expect(r.code).toBe(1);
    expect(r.text).toContain("the history of dev is broken, so it cannot be trusted; nothing written");
    expect(r.text).toContain(`restore it from git (git log -p -- ${rel(h, first)})`);
  });

  it("detects a deleted record", async () => {
    const h = harness();
    await inStaging(h);
    const [first] = files(h, "dev");
    fs.rmSync(first);
    const r = await output(h, "status");
    expect(r.code).toBe(1);
    expect(r.text.replace(/\s+/g, " ")).toContain("record 1 of stage dev, before this one, is missing (deleted?)");
    expect((await oneLine(h, "approve", "prod", "--release", pointer(h, "dev")!.id!)).code).toBe(0);
    expect(
      (await output(h, "verify", "dev", "--outputs", outputsJson(h, "o.json", pointer(h, "dev")!.id!, ref("a"), "dev")))
        .text,
    ).toContain("the history of dev is broken");
  });

  it("reports a run of missing records once, however far a record's number jumps", async () => {
    const h = harness();
    await inStaging(h);
    const [, second] = files(h, "dev");
    const record = JSON.parse(fs.readFileSync(second, "utf8"));
    // Written as the store would write a record that follows a (missing) record 999998.
    const far = chainRecord(
      { ...record, seq: undefined, prev: undefined },
      { record: { ...record, seq: 999_998 }, file: "x", hash: "f".repeat(64) },
      h.lane,
    );
    fs.writeFileSync(path.join(path.dirname(second), far.name), far.text);
    const r = await output(h, "status");
    expect(r.code).toBe(1);
    const text = r.text.replace(/\s+/g, " ");
    expect(text).toContain("records 3 to 999998 of stage dev, before this one, are missing (deleted?)");
    expect(text.match(/missing/g)).toHaveLength(1);
  });

  it("detects a hand-written record inserted into the chain, and reordered records", async () => {
    const h = harness();
    const id = await inStaging(h);
    const [first, second] = files(h, "dev");
    const forged = JSON.parse(fs.readFileSync(second, "utf8"));
    const copy = path.join(
      path.dirname(second),
      path.basename(second).replace(/[0-9a-f]{12}\.json$/, "0123456789ab.json"),
    );
    fs.writeFileSync(copy, JSON.stringify({ ...forged, at: "2026-01-05T09:00:30.000Z" }));
    let r = await output(h, "status");
    expect(r.code).toBe(1);
    expect(r.text.replace(/\s+/g, " ")).toContain(`${rel(h, copy)}: was edited after it was written`);
    fs.rmSync(copy);

    const a = JSON.parse(fs.readFileSync(first, "utf8"));
    const b = JSON.parse(fs.readFileSync(second, "utf8"));
    fs.writeFileSync(first, JSON.stringify({ ...b, seq: 1 }));
    fs.writeFileSync(second, JSON.stringify({ ...a, seq: 2 }));
    r = await output(h, "status");
    expect(r.code).toBe(1);
    expect(r.text.replace(/\s+/g, " ")).toContain(`${rel(h, first)}: was edited after it was written`);
    expect(r.text.replace(/\s+/g, " ")).toContain(`${rel(h, first)}: does not follow the start of the chain`);
    expect(id).toMatch(/^r-/);
  });

  it("shows two branches that appended to the same stage as a fork to resolve", async () => {
    const h = harness();
    const id = await inStaging(h);
    const branch = harness();
    fs.rmSync(path.join(branch.dir, "stacks"), { recursive: true });
    fs.cpSync(path.join(h.dir, "stacks"), path.join(branch.dir, "stacks"), { recursive: true });
    branch.clock.current = h.clock.now();
    for (const x of [h, branch]) {
      x.clock.advance(60_000);
      expect(await x.cli("verify", "staging", "--outputs", outputsJson(x, "o.json", id, ref("a"), "staging"))).toBe(0);
    }
    // The other branch's record arrives with a merge.
    const theirs = files(branch, "staging").at(-1)!;
    fs.copyFileSync(theirs, path.join(h.historyDir("staging"), path.basename(theirs)));
    const r = await output(h, "status");
    expect(r.code).toBe(1);
    expect(r.text.replace(/\s+/g, " ")).toContain(
      "both follow record 1 of stage staging: two branches each appended to this stage (a fork)",
    );
    expect(
      (await output(h, "verify", "staging", "--outputs", outputsJson(h, "o.json", id, ref("a"), "staging"))).code,
    ).toBe(1);
  });

  it.each([
    ["not JSON", "{ not json", "is not valid JSON"],
    ["not a record", '{"kind":"promotion"}', "is not a history record"],
  ])("stops every command with one line naming a record file that is %s (exit 1)", async (_what, text, message) => {
    const h = harness();
    await releaseVerifiedInDev(h);
    const [first] = files(h, "dev");
    fs.writeFileSync(first, text);
    for (const argv of [["status"], ["promote", "staging"], ["approve", "prod", "--release", pointer(h, "dev")!.id!]]) {
      const r = await oneLine(h, ...argv);
      expect(r.code).toBe(1);
      expect(r.text).toContain(`${rel(h, first)}: ${message}`);
      expect(r.text.split("\n")).toHaveLength(1);
    }
  });

  it("stops with one line on a misplaced, oversized or unknown file in the history", async () => {
    const h = harness();
    await inStaging(h);
    const [devRecord] = files(h, "dev");
    const misplaced = path.join(h.historyDir("staging"), path.basename(devRecord).replace(/^000001/, "000009"));
    fs.copyFileSync(devRecord, misplaced);
    let r = await oneLine(h, "status");
    expect(r.code).toBe(1);
    expect(r.text).toContain(`${rel(h, misplaced)}: is a record of stage "dev" in the folder of stage "staging"`);
    fs.rmSync(misplaced);

    fs.writeFileSync(devRecord, `${fs.readFileSync(devRecord, "utf8").trimEnd()}${" ".repeat(MAX_RECORD_BYTES)}`);
    r = await oneLine(h, "status");
    expect(r.code).toBe(1);
    expect(r.text).toContain("more than a record may hold");

    const stray = h.historyDir("qa");
    fs.mkdirSync(stray);
    r = await oneLine(h, "status");
    expect(r.text).toContain("stacks/history/shop/qa: is not a stage in stages.yaml");
  });

  it("does not let hand-written records take a release that was never in staging to prod", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const store = h.ws().history;
    h.clock.advance(48 * HOUR);
    store.append({
      kind: "verification",
      stage: "staging",
      release: id,
      at: h.clock.now().toISOString(),
      by: "mallory",
      result: "passed",
      evidence: [{ source: "outputs:x", sha256: "0".repeat(64), bytes: 1, stack: "staging", images: 1 }],
      problems: [],
      problemCount: 0,
    });
    store.append({ kind: "approval", stage: "prod", release: id, at: h.clock.now().toISOString(), by: "mallory" });
    const r = await output(h, "promote", "prod", "--release", id);
    expect(r.code).toBe(1);
    expect(r.text).toContain(`[order] release ${id} was never promoted to staging`);
  });
});

describe("clocks", () => {
  it("refuses to record with a clock behind the last record, naming it, and records nothing", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    h.clock.advance(-2 * 24 * HOUR);
    const before = files(h, "dev");
    const r = await oneLine(h, "verify", "dev", "--outputs", outputsJson(h, "o.json", id, ref("a"), "dev"));
    expect(r.code).toBe(1);
    expect(r.text).toContain(
      `this machine's clock says 2026-01-03T09:00:00.000Z, earlier than the last record ${rel(h, before.at(-1)!)}`,
    );
    expect(files(h, "dev")).toEqual(before);
  });

  it("a failed verification written by a clock two days ahead does not block the release", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    const ahead = harness();
    fs.rmSync(path.join(ahead.dir, "stacks"), { recursive: true });
    fs.cpSync(path.join(h.dir, "stacks"), path.join(ahead.dir, "stacks"), { recursive: true });
    ahead.clock.current = new Date(h.clock.now().getTime() + 2 * 24 * HOUR);
    expect(await ahead.cli("verify", "dev", "--outputs", outputsJson(ahead, "o.json", null, ref("b"), "dev"))).toBe(1);
    for (const f of files(ahead, "dev"))
      if (!fs.existsSync(path.join(h.historyDir("dev"), path.basename(f))))
        fs.copyFileSync(f, path.join(h.historyDir("dev"), path.basename(f)));
    h.clock.advance(HOUR);
    const r = await oneLine(h, "status");
    expect(r.text.replace(/\s+/g, " ")).toContain(
      "ignored verification record 3 of dev: it is dated 2026-01-07T09:00:00.000Z, in the future",
    );
    expect(await h.cli("promote", "staging")).toBe(0);
    expect(pointer(h, "staging")?.id).toBe(id);
  });
});

describe("processes that die or race", () => {
  /** A `--require` hook that runs `body` when the stack file of `stack` is about to be replaced. */
  function hookAtRename(h: Harness, stack: string, body: string): string {
    const hook = path.join(h.dir, `hook-${Math.random().toString(16).slice(2)}.cjs`);
    fs.writeFileSync(
      hook,
      `const fs = require("node:fs");
const rename = fs.renameSync;
fs.renameSync = (from, to) => {
  if (String(to).endsWith("Pulumi.${stack}.${h.lane}.yaml")) { ${body} }
  return rename(from, to);
};
`,
    );
    return hook;
  }

  it("takes over the lock of a killed promote, says so, and leaves its temp file where git ignores it", async () => {
    const h = harness();
    await releaseVerifiedInDev(h, "a");
    h.clock.advance(HOUR);
    const r1 = await spawnCli(
      h,
      ["promote", "staging"],
      hookAtRename(h, "staging", 'process.kill(process.pid, "SIGKILL");'),
    );
    expect(r1.code).toBeNull();
    const lock = path.join(h.dir, `stacks/history/.locks/${h.lane}.staging.lock`);
    expect(fs.existsSync(lock)).toBe(true);
    const leftovers = fs.readdirSync(path.join(h.dir, "stacks")).filter((f) => f.endsWith(".tmp"));
    expect(leftovers).toHaveLength(1);
    const ignored = execFileSync("git", ["check-ignore", "--no-index", "-v", path.join("stacks", leftovers[0])], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    });
    expect(ignored).toContain(".gitignore");
    h.clock.current = new Date();
    const r2 = await oneLine(h, "promote", "staging");
    expect(r2.text).toMatch(
      /took over the lock of lane shop, stage staging from "promote staging" of process test \(pid \d+, since .*\): that process no longer runs on this host/,
    );
    expect(r2.code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it("names a lock file that does not say who holds it, and how to clear it", async () => {
    const h = harness();
    await releaseVerifiedInDev(h);
    const lock = path.join(h.dir, `stacks/history/.locks/${h.lane}.dev.lock`);
    fs.writeFileSync(lock, "garbage");
    const r = await oneLine(h, "rollback", "dev");
    expect(r.code).toBe(1);
    expect(r.text).toContain(`${lock} exists but does not say who holds it`);
    fs.rmSync(lock);
    expect((await oneLine(h, "rollback", "dev")).text).toContain("no earlier release was verified");
  });

  it("lets only one of two overlapping promotes of a stage through, and the chain stays whole", async () => {
    const h = harness();
    const a = await releaseVerifiedInDev(h, "a");
    drain(h);
    await h.cli("release", "create", "--image", `podinfo=${ref("b")}`, "--commit", COMMIT_B);
    const b = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    // The first promote holds its lock until the second has finished (up to 60 s), however slowly
    // the second process starts on a busy machine.
    const go = path.join(h.dir, "second-done");
    const slow = hookAtRename(
      h,
      "dev",
      `for (let i = 0; i < 3000 && !fs.existsSync(${JSON.stringify(go)}); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);`,
    );
    const lock = path.join(h.dir, `stacks/history/.locks/${h.lane}.dev.lock`);
    const first = spawnCli(h, ["promote", "dev", "--release", b], slow, "first <one@example.com>");
    for (let i = 0; i < 200 && !fs.existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(lock)).toBe(true);
    const second = await spawnCli(h, ["promote", "dev", "--release", a], undefined, "second <two@example.com>");
    fs.writeFileSync(go, "");
    const done = await first;
    expect(done.code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.out).toContain("another command is changing this stage");
    expect(second.out.trim().split("\n")).toHaveLength(1);
    expect(pointer(h, "dev")?.id).toBe(b);
    expect(await h.cli("status")).toBe(0);
  });
});

describe("who is who", () => {
  it("counts one approver however the email is cased or spaced", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    h.actor = "CI <ci@example.com>";
    expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
    h.actor = "ci  <CI@Example.com> ";
    drain(h);
    expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
    expect(drain(h)).toContain("already approved");
    expect(h.ws().history.list("prod")).toHaveLength(1);
  });
});

describe("command lines", () => {
  it("tells a user whose flag npm took (npm run promote staging --force, without --) to put -- first", async () => {
    const h = harness();
    const out: string[] = [];
    const code = await main(["promote", "staging"], {
      projectDir: h.dir,
      deps: { ...h.deps(), out: (l) => out.push(l) },
      vars: { npm_lifecycle_event: "promote", npm_config_force: "true" },
    });
    expect(code).toBe(2);
    expect(out).toEqual([
      "promote: npm took --force for itself, so this command did not get it: put -- before the command's arguments, e.g. npm run promote -- <stage> --force ... (npm also passes what an .npmrc sets: remove force there) (see npm run promote -- --help)",
    ]);
    out.length = 0;
    const withDashes = await main(["promote", "staging", "--lane", "shop", "--force", "--reason", "hotfix"], {
      projectDir: h.dir,
      deps: { ...h.deps(), out: (l) => out.push(l) },
      vars: { npm_lifecycle_event: "promote", npm_config_force: "true" },
    });
    expect(out.join("\n")).not.toContain("npm took");
    expect(withDashes).toBe(1);
  });

  it("ends a usage error with one line and a pointer to --help, not the whole usage text", async () => {
    const h = harness();
    const r = await oneLine(h, "promote", "staging", "--bogus");
    expect(r.code).toBe(2);
    expect(r.text.split("\n")).toHaveLength(1);
    expect(r.text).toMatch(/^promote: .*--bogus.* \(see npm run promote -- --help\)$/);
  });

  it("treats an over-long --reason or actor as bad usage, recording nothing", async () => {
    const h = harness();
    const id = await releaseVerifiedInDev(h);
    let r = await oneLine(h, "approve", "prod", "--release", id, "--reason", "x".repeat(2001));
    expect(r.code).toBe(2);
    expect(r.text).toContain("--reason is 2001 characters; at most 2000 are recorded");
    h.actor = "y".repeat(301);
    r = await oneLine(h, "approve", "prod", "--release", id);
    expect(r.code).toBe(2);
    expect(r.text).toContain("is 301 characters; at most 300 are recorded");
    expect(files(h, "prod")).toEqual([]);
  });

  it("ends an unexpected failure with one line and no stack trace (exit 1)", async () => {
    const h = harness();
    fs.rmSync(path.join(h.dir, "Pulumi.yaml"));
    const r = await oneLine(h, "status");
    expect(r.code).toBe(1);
    expect(r.text.split("\n")).toHaveLength(1);
    expect(r.text).not.toMatch(/\n\s+at /);
  });
});
