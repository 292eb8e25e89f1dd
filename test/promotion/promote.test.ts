import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PromotionRecord } from "../../promotion/history";
import { readPointer } from "../../promotion/pointer";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";
import {
  attachCleanScan,
  COMMIT_B,
  digest,
  drain,
  harness,
  HOUR,
  MINUTE,
  outputsJson,
  PODINFO,
  releaseVerifiedInDev,
  removeTempProjects,
  LANES,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

const history = (h: Harness, stage: string) => h.ws().history.list(stage);
const pointer = (h: Harness, stack: string) => readPointer(h.stackFile(stack), stack).pointer;

/** Verifies `id` in `stage` from stack outputs that match it. */
async function verifyIn(h: Harness, stage: string, id: string, c = "a"): Promise<void> {
  expect(
    await h.cli(
      "verify",
      stage,
      "--outputs",
      outputsJson(
        h,
        `${stage}-${id}-${h.clock.now().getTime()}.json`,
        id,
        `${PODINFO}@${digest(c)}`,
        h.ws().stages.get(stage).stack,
      ),
    ),
  ).toBe(0);
}

describe.each(LANES)("lane %s", (lane) => {
  describe("promote to an entry stage", () => {
    it("needs --release (bad usage, exit 2)", async () => {
      const h = harness(undefined, lane);
      expect(await h.cli("promote", "dev")).toBe(2);
      expect(drain(h)).toContain("stage dev has no upstream stage in stacks/stages.yaml: give --release ID");
    });

    it("writes only blueprint:release, prints the image diff and the next command, and records who and when", async () => {
      const h = harness(undefined, lane);
      const before = h.stackText("dev");
      const id = await releaseVerifiedInDev(h);
      const after = h.stackText("dev");
      const changed = after.split("\n").filter((l) => !before.split("\n").includes(l));
      expect(changed).toEqual([`    id: ${id}`, `      podinfo: ${PODINFO}@${digest("a")}`]);
      const text = h.out.join("\n");
      expect(text).toContain(`promoted dev: (no release) -> ${id}`);
      expect(text).toContain(
        `image podinfo: ${PODINFO}@sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e -> ${PODINFO}@${digest("a")}`,
      );
      expect(text).toContain("next: pulumi up -s dev");
      const [rec] = history(h, "dev").filter((r) => r.kind === "promotion") as PromotionRecord[];
      expect(rec).toMatchObject({
        stage: "dev",
        release: id,
        from: null,
        by: "Release Bot <ci@example.com>",
        at: "2026-01-05T09:00:00.000Z",
        images: { podinfo: `${PODINFO}@${digest("a")}` },
      });
    });

    it("does nothing when the stage already runs the release", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      const count = fs.readdirSync(h.historyDir("dev")).length;
      drain(h);
      expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
      expect(drain(h)).toContain(`dev already runs release ${id}; nothing written`);
      expect(fs.readdirSync(h.historyDir("dev"))).toHaveLength(count);
    });

    it("refuses a release without an image the stage's apps use", async () => {
      const h = harness(undefined, lane);
      drain(h);
      await h.cli("release", "create", "--image", `web=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      expect(await h.cli("promote", "dev", "--release", id)).toBe(1);
      expect(drain(h)).toContain(
        `stage dev: release ${id} has no image "podinfo" (used by blueprint:apps.${lane === "shop" ? "frontend" : "api"}.image)`,
      );
    });
  });

  describe("stage order and upstream verification", () => {
    it("refuses a release that never reached the upstream stage", async () => {
      const h = harness(undefined, lane);
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      expect(await h.cli("promote", "staging", "--release", id)).toBe(1);
      expect(drain(h)).toContain(`[order] release ${id} was never promoted to dev, which comes before staging`);
      expect(pointer(h, "staging")?.id).toBeUndefined();
    });

    it("refuses a release promoted upstream but not verified there", async () => {
      const h = harness(undefined, lane);
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      await h.cli("promote", "dev", "--release", id);
      h.clock.advance(2 * HOUR);
      drain(h);
      expect(await h.cli("promote", "staging")).toBe(1);
      expect(drain(h)).toContain(
        `[verified-upstream] release ${id} is not verified in dev: no verification is recorded there`,
      );
    });

    it("refuses a release whose last upstream verification failed, and records the failure", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(HOUR);
      expect(
        await h.cli(
          "verify",
          "dev",
          "--outputs",
          outputsJson(h, "stale.json", null, `${PODINFO}@${digest("f")}`, "dev"),
        ),
      ).toBe(1);
      const failed = history(h, "dev").filter((r) => r.kind === "verification" && r.result === "failed");
      expect(failed).toHaveLength(1);
      h.clock.advance(2 * HOUR);
      drain(h);
      expect(await h.cli("promote", "staging")).toBe(1);
      expect(drain(h)).toContain(
        `release ${id} is not verified in dev: its last verification there failed at 2026-01-05T10:00:00.000Z`,
      );
    });

    it("lets --force --reason skip the order, and records the override and the reason", async () => {
      const h = harness(undefined, lane);
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      expect(await h.cli("promote", "staging", "--release", id, "--force", "--reason", "hotfix for incident 42")).toBe(
        0,
      );
      const [rec] = history(h, "staging") as PromotionRecord[];
      expect(rec.reason).toBe("hotfix for incident 42");
      expect(rec.overridden?.map((o) => o.rule)).toEqual(["order"]);
      expect(pointer(h, "staging")?.id).toBe(id);
    });

    it.each([
      [["--force"], "--force needs --reason"],
      [["--reason", "why"], "--reason goes with --force"],
    ])("treats promote %j without its partner as bad usage", async (flags, message) => {
      const h = harness(undefined, lane);
      expect(await h.cli("promote", "staging", ...flags)).toBe(2);
      expect(drain(h)).toContain(message);
    });

    it("names the stages when the stage is unknown", async () => {
      const h = harness(undefined, lane);
      expect(await h.cli("promote", "qa")).toBe(2);
      expect(drain(h)).toContain('<stage> "qa" is not a stage in');
    });
  });

  describe("soak time", () => {
    it("refuses until the soak has elapsed since the upstream verification, then allows", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(59 * MINUTE);
      drain(h);
      expect(await h.cli("promote", "staging")).toBe(1);
      expect(drain(h)).toContain(
        `[soak] soak time 1h in dev has not elapsed: release ${id} was verified there at 2026-01-05T09:00:00.000Z (59m ago); it may come to staging at 2026-01-05T10:00:00.000Z (in 1m)`,
      );
      h.clock.advance(MINUTE);
      expect(await h.cli("promote", "staging")).toBe(0);
      expect(pointer(h, "staging")?.id).toBe(id);
    });
  });

  describe("approvals", () => {
    async function toProdReady(h: Harness): Promise<string> {
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(HOUR);
      expect(await h.cli("promote", "staging")).toBe(0);
      await verifyIn(h, "staging", id);
      h.clock.advance(24 * HOUR);
      await attachCleanScan(h, id);
      drain(h);
      return id;
    }
    /** Approvals prod needs in this lane (stages.yaml may override them per lane), and people to give them. */
    const needed = (h: Harness) => h.ws().stages.get("prod").approvals;
    const APPROVERS = ["Alice <alice@example.com>", "Carol <carol@example.com>", "Dan <dan@example.com>"];
    async function approveAll(h: Harness, id: string): Promise<void> {
      for (const who of APPROVERS.slice(0, needed(h))) {
        h.actor = who;
        expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
      }
      h.actor = "ci";
      drain(h);
    }

    it("refuses prod without an approval, even with --force", async () => {
      const h = harness(undefined, lane);
      const id = await toProdReady(h);
      expect(await h.cli("promote", "prod")).toBe(1);
      const refused = drain(h);
      expect(refused).toContain(
        `[approval] release ${id} needs ${needed(h)} approval(s) for prod, has 0: npm run approve -- prod --lane ${lane} --release ${id}`,
      );
      expect(refused).not.toContain("[vulnerabilities]");
      expect(await h.cli("promote", "prod", "--force", "--reason", "in a hurry")).toBe(1);
      expect(drain(h)).toContain("[approval]");
    });

    it("promotes after an approval, which is recorded with who approved", async () => {
      const h = harness(undefined, lane);
      const id = await toProdReady(h);
      const n = needed(h);
      for (const [i, who] of APPROVERS.slice(0, n).reverse().entries()) {
        h.actor = who;
        expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
        const said = drain(h);
        expect(said).toContain(`approved release ${id} for prod, recorded`);
        // Four eyes at approve time: if the approver promotes, their own approval does not count.
        expect(said).toContain(
          `approvals: ${i + 1} of ${n} required, ${i} from someone other than the promoter if ${who} promotes: the promoter's own approval never counts, so someone else must promote, or ${n - i} more approval(s) from others are needed`,
        );
      }
      expect(await h.cli("approve", "prod", "--release", id)).toBe(0);
      expect(drain(h)).toContain("already approved");
      expect(history(h, "prod").filter((r) => r.kind === "approval")).toHaveLength(n);
      // Four eyes: the approver cannot be the one who promotes.
      expect(await h.cli("promote", "prod")).toBe(1);
      expect(drain(h)).toContain("the approval by Alice <alice@example.com>, who is promoting, does not count");
      h.actor = "ci";
      expect(await h.cli("promote", "prod")).toBe(0);
    });

    it("refuses to record an approval where none is required", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      expect(await h.cli("approve", "staging", "--release", id)).toBe(1);
      expect(drain(h)).toContain(
        "stage staging: does not require approvals (stacks/stages.yaml: stages.staging.approvals is 0)",
      );
      expect(await h.cli("approve", "prod")).toBe(2);
      expect(drain(h)).toContain("--release ID is required");
    });

    it("gives prod exactly the bytes dev ran", async () => {
      const h = harness(undefined, lane);
      const id = await toProdReady(h);
      await approveAll(h, id);
      expect(await h.cli("promote", "prod")).toBe(0);
      expect(pointer(h, "prod")).toEqual(pointer(h, "dev"));
      expect(pointer(h, "prod")).toEqual({ id, images: { podinfo: `${PODINFO}@${digest("a")}` } });
    });
  });

  describe("several upstream stages", () => {
    const stages = `stages:
    a: {}
    b: {}
    all:
      from: [a, b]
    any:
      from: [a, b]
      require: any
  `;
    const onlyA = async (h: Harness): Promise<string> => {
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      await h.cli("promote", "a", "--release", id);
      await verifyIn(h, "a", id);
      drain(h);
      return id;
    };

    it("with require: all, refuses a release verified in only one of them", async () => {
      const h = harness(stages, lane);
      const id = await onlyA(h);
      expect(await h.cli("promote", "all", "--release", id)).toBe(1);
      expect(drain(h)).toContain(`[order] release ${id} was never promoted to b`);
    });

    it("with require: any, accepts a release verified in one of them", async () => {
      const h = harness(stages, lane);
      const id = await onlyA(h);
      expect(await h.cli("promote", "any", "--release", id)).toBe(0);
    });
  });

  describe("one promotion at a time", () => {
    it("refuses while another promotion holds the stage's lock, naming the holder", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(HOUR);
      const lock = path.join(h.dir, `stacks/history/.locks/${h.lane}.staging.lock`);
      fs.mkdirSync(path.dirname(lock), { recursive: true });
      fs.writeFileSync(
        lock,
        JSON.stringify({
          pid: process.pid,
          host: os.hostname(),
          by: "Bob",
          since: "2026-01-05T09:59:00.000Z",
          command: "promote staging",
        }),
      );
      drain(h);
      expect(await h.cli("promote", "staging")).toBe(1);
      expect(drain(h)).toContain(
        `stage staging: another command is changing this stage: ${lock} is held by "promote staging" (pid ${process.pid}, running) of Bob`,
      );
      fs.rmSync(lock);
      expect(await h.cli("promote", "staging")).toBe(0);
      expect(fs.existsSync(lock)).toBe(false);
      expect(pointer(h, "staging")?.id).toBe(id);
    });

    it("releases the lock when a rule refuses", async () => {
      const h = harness(undefined, lane);
      await releaseVerifiedInDev(h);
      expect(await h.cli("promote", "staging")).toBe(1);
      expect(fs.existsSync(path.join(h.dir, `stacks/history/.locks/${h.lane}.staging.lock`))).toBe(false);
    });

    it("refuses when the pointer is not the one the caller expects (concurrent CI runs)", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(HOUR);
      drain(h);
      expect(await h.cli("promote", "staging", "--expect-current", id)).toBe(1);
      expect(drain(h)).toContain(`--expect-current ${id}, but`);
      expect(await h.cli("promote", "staging", "--expect-current", "none")).toBe(0);
    });

    it("refuses when the pointer changes while the command runs, and writes nothing", async () => {
      const h = harness(
        "stages:\n  dev: {}\n  mirror:\n    stack: staging\n    from: [dev]\n    registry: registry.example.com/mirror\n",
        lane,
      );
      const id = await releaseVerifiedInDev(h);
      const staging = h.stackFile("staging");
      // Another run rewrites the pointer while this one checks the registry.
      h.registry.has = async () => {
        fs.writeFileSync(
          staging,
          fs.readFileSync(staging, "utf8").replace("    images:", "    id: r-0123456789ab\n    images:"),
        );
        return true;
      };
      const changed = () => fs.readFileSync(staging, "utf8");
      drain(h);
      expect(await h.cli("promote", "mirror")).toBe(1);
      expect(drain(h)).toContain(
        `stage mirror: stacks/Pulumi.staging.${lane}.yaml: blueprint:release changed while this command ran (was none, now r-0123456789ab); nothing written`,
      );
      expect(changed()).toContain("id: r-0123456789ab");
      expect(history(h, "mirror")).toEqual([]);
      expect(id).toMatch(/^r-/);
    });
  });

  describe("a crash while writing the pointer", () => {
    /**
     * Runs `promote dev` in a real process that is killed (SIGKILL) at `fs.renameSync`, the moment the
     * new stack file would replace the old one: `before` the rename, or just `after` it.
     */
    function promoteAndCrash(h: Harness, id: string, when: "before" | "after"): number | null {
      const hook = path.join(h.dir, "crash.cjs");
      fs.writeFileSync(
        hook,
        `const fs = require("node:fs");
  const rename = fs.renameSync;
  fs.renameSync = (from, to) => {
    if (!String(to).endsWith("Pulumi.dev.${h.lane}.yaml")) return rename(from, to);
    if (${JSON.stringify(when)} === "after") rename(from, to);
    process.kill(process.pid, "SIGKILL");
  };
  `,
      );
      const r = spawnSync(
        process.execPath,
        ["--require", hook, ...launch("promotion/cli"), "promote", "dev", "--release", id, "--lane", h.lane],
        {
          cwd: h.dir,
          env: { ...process.env, BLUEPRINT_ACTOR: "crash test", NODE_PATH: path.join(PROJECT_DIR, "node_modules") },
          encoding: "utf8",
        },
      );
      return r.status ?? (r.signal === "SIGKILL" ? null : -1);
    }

    async function newRelease(h: Harness): Promise<string> {
      fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(h.dir, "node_modules"));
      await h.cli("release", "create", "--image", `podinfo=${PODINFO}@${digest("a")}`, "--commit", COMMIT_B);
      return /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
    }

    it("before the rename leaves the old file, byte for byte, and status points at the unfinished promotion", async () => {
      const h = harness(undefined, lane);
      const id = await newRelease(h);
      const before = h.stackText("dev");
      expect(promoteAndCrash(h, id, "before")).toBeNull();
      expect(h.stackText("dev")).toBe(before);
      expect(pointer(h, "dev")?.id).toBeUndefined();
      expect(await h.cli("status")).toBe(0);
      expect(drain(h).replace(/\s+/g, " ")).toMatch(
        new RegExp(
          `note the last promotion record \\(${id} at [-0-9T:.]+Z\\) is not what stacks/Pulumi.dev.${lane}.yaml names \\(no release\\)`,
        ),
      );
    });

    it("after the rename leaves the new file, complete", async () => {
      const h = harness(undefined, lane);
      const id = await newRelease(h);
      expect(promoteAndCrash(h, id, "after")).toBeNull();
      expect(pointer(h, "dev")).toEqual({ id, images: { podinfo: `${PODINFO}@${digest("a")}` } });
    });
  });
});
