import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { actorKey, currentActor, normaliseActor } from "../../promotion/actor";
import { main } from "../../promotion/cli";
import { verify } from "../../promotion/commands";
import { SourceUnavailable } from "../../promotion/evidence";
import type { PromotionRecord, VerificationRecord } from "../../promotion/history";
import { readPointer } from "../../promotion/pointer";
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
  APPS,
  LANES,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

const history = (h: Harness, stage: string) => h.ws().history.list(stage);
const pointer = (h: Harness, stack: string) => readPointer(h.stackFile(stack), stack).pointer;
const ref = (c: string) => `${PODINFO}@${digest(c)}`;

describe.each(LANES)("lane %s", (lane) => {
  describe("verify", () => {
    it("passes with pods whose image IDs carry the release digest, ignoring pods this blueprint does not manage", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      const pods = podsJson(h, "pods.json", [
        { name: "frontend-1", imageID: `docker-pullable://${ref("a")}`, version: id },
        { name: "backend-1", imageID: ref("a"), version: id },
        { name: "coredns", imageID: `registry.k8s.io/coredns@${digest("9")}`, managed: false },
      ]);
      drain(h);
      expect(await h.cli("verify", "dev", "--pods", pods)).toBe(0);
      expect(drain(h)).toContain(`verified dev: release ${id} (pods:${pods})`);
    });

    it("refuses pods that still run another digest and records a failed verification", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      const pods = podsJson(h, "pods.json", [
        { name: "frontend-new", imageID: ref("a"), version: id },
        { name: "frontend-old", imageID: ref("b"), version: "r-000000000000" },
        { name: "frontend-pending", imageID: "" },
      ]);
      drain(h);
      expect(await h.cli("verify", "dev", "--pods", pods)).toBe(1);
      const text = drain(h);
      expect(text).toContain(
        `pod ${lane}/frontend-old container app runs ${digest("b")}, which is not a digest of release ${id}`,
      );
      expect(text).toContain(`pod ${lane}/frontend-old has app.kubernetes.io/version "r-000000000000"`);
      expect(text).toContain(`pod ${lane}/frontend-pending container app has image ID "" with no sha256 digest`);
      expect(text).toContain(`recorded as a failed verification: stacks/history/${lane}/dev/`);
      const last = history(h, "dev")
        .filter((r): r is VerificationRecord => r.kind === "verification")
        .pop()!;
      expect(last).toMatchObject({
        result: "failed",
        release: id,
        evidence: [{ source: `pods:${pods}`, pods: 3, images: 3, stack: `dev.${lane}`, bytes: fs.statSync(pods).size }],
        problemCount: 3,
      });
      expect(last.evidence[0].sha256).toBe(createHash("sha256").update(fs.readFileSync(pods)).digest("hex"));
      // The record keeps the three problems, each with the evidence it was found in and what was expected.
      expect([...last.problems].sort()).toEqual([
        `pods:${pods}: pod ${lane}/frontend-old container app runs ${digest("b")}, which is not a digest of release ${id} (${digest("a")})`,
        `pods:${pods}: pod ${lane}/frontend-old has app.kubernetes.io/version "r-000000000000", expected "${id}"`,
        `pods:${pods}: pod ${lane}/frontend-pending container app has image ID "" with no sha256 digest (not pulled yet?)`,
      ]);
    });

    it("refuses outputs of another release, naming what was found and what was expected", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      drain(h);
      expect(await h.cli("verify", "dev", "--outputs", outputsJson(h, "o.json", null, ref("b"), "dev"))).toBe(1);
      const text = drain(h);
      expect(text).toContain(`releaseId is null, expected "${id}"`);
      expect(text).toContain(
        `outputs.images.${APPS[lane][0]} is ${ref("b")}, which is not an image of release ${id} (${ref("a")})`,
      );
    });

    it("refuses a stage whose pointer names no release", async () => {
      const h = harness(undefined, lane);
      expect(await h.cli("verify", "staging", "--outputs", outputsJson(h, "o.json", null, ref("a"), "staging"))).toBe(
        1,
      );
      expect(drain(h)).toContain(
        `stage staging: stacks/Pulumi.staging.${lane}.yaml: blueprint:release has no id, so there is no release to verify`,
      );
    });

    it.each([
      [[], "give at least one evidence source: --outputs FILE, --pods FILE or --live"],
      [["--outputs", "/nonexistent.json"], "--outputs /nonexistent.json: no such file"],
      [["--kube-context", "kind"], "--kube-context goes with --live"],
    ])("treats verify dev %j as bad usage", async (flags, message) => {
      const h = harness(undefined, lane);
      await releaseVerifiedInDev(h);
      drain(h);
      expect(await h.cli("verify", "dev", ...flags)).toBe(2);
      expect(drain(h)).toContain(message);
    });

    it("says clearly when a live source cannot be reached, and records nothing", async () => {
      const h = harness(undefined, lane);
      await releaseVerifiedInDev(h);
      const count = history(h, "dev").length;
      const live = {
        name: "live:pulumi",
        read: async () => {
          throw new SourceUnavailable(
            "--live: cannot read the outputs of stack dev through the Pulumi Automation API: the pulumi CLI is not installed or not on PATH",
          );
        },
      };
      await expect(verify(h.ws(), h.deps(), { stage: "dev", sources: [live] })).rejects.toThrow(
        "stage dev: --live: cannot read the outputs of stack dev through the Pulumi Automation API: the pulumi CLI is not installed or not on PATH. Nothing was recorded",
      );
      expect(history(h, "dev")).toHaveLength(count);
    });

    it("refuses a pointer whose images were edited by hand", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      const file = h.stackFile("dev");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(`podinfo: ${ref("a")}`, `podinfo: ${ref("c")}`));
      drain(h);
      expect(await h.cli("verify", "dev", "--outputs", outputsJson(h, "o.json", id, ref("c"), "dev"))).toBe(1);
      expect(drain(h)).toContain(
        `blueprint:release.images differ from release ${id} (image podinfo: ${ref("c")} -> ${ref("a")})`,
      );
    });
  });

  describe("rollback", () => {
    /** dev runs release b after release a; both were verified there. */
    async function twoVerified(h: Harness): Promise<[string, string]> {
      const a = await releaseVerifiedInDev(h, "a");
      h.clock.advance(HOUR);
      const b = await releaseVerifiedInDev(h, "b", COMMIT_B);
      drain(h);
      return [a, b];
    }

    it("returns to the previous release verified in the stage, without upstream or soak checks", async () => {
      const h = harness(undefined, lane);
      const [a, b] = await twoVerified(h);
      expect(await h.cli("rollback", "dev", "--reason", "error rate")).toBe(0);
      expect(drain(h)).toContain(`rolled back dev: ${b} -> ${a}`);
      expect(pointer(h, "dev")?.id).toBe(a);
      const rec = history(h, "dev").pop()!;
      expect(rec).toMatchObject({ kind: "rollback", release: a, from: b, reason: "error rate" });
    });

    it("refuses a release that was never verified in the stage", async () => {
      const h = harness(undefined, lane);
      const [a] = await twoVerified(h);
      await h.cli("release", "create", "--image", `podinfo=${ref("c")}`, "--commit", COMMIT_B);
      const c = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      expect(await h.cli("rollback", "dev", "--to", c)).toBe(1);
      expect(drain(h)).toContain(
        `stage dev: release ${c} was never verified in this stage, so it cannot be a rollback target`,
      );
      expect(await h.cli("rollback", "staging", "--to", a)).toBe(1);
      expect(drain(h)).toContain(`stage staging: release ${a} was never verified in this stage`);
    });

    it("refuses when no earlier release was verified", async () => {
      const h = harness(undefined, lane);
      await releaseVerifiedInDev(h);
      drain(h);
      expect(await h.cli("rollback", "dev")).toBe(1);
      expect(drain(h)).toContain("stage dev: no earlier release was verified in this stage");
    });
  });

  describe("registry mapping", () => {
    const stages =
      "stages:\n  dev: {}\n  gke:\n    stack: staging\n    from: [dev]\n    registry: europe-west1-docker.pkg.dev/acme/ghcr\n";
    const mirrored = (c: string) => `europe-west1-docker.pkg.dev/acme/ghcr/stefanprodan/podinfo@${digest(c)}`;

    it("refuses when the digest is not in the stage's registry, printing the exact copy command", async () => {
      const h = harness(stages, lane);
      await releaseVerifiedInDev(h);
      drain(h);
      expect(await h.cli("promote", "gke")).toBe(1);
      expect(drain(h)).toContain(
        `stage gke: the stage pulls from europe-west1-docker.pkg.dev/acme/ghcr, which does not have ${mirrored("a")}. Copy by digest (or re-run with --copy):\n  skopeo copy --all --preserve-digests docker://${ref("a")} docker://${mirrored("a")}`,
      );
    });

    it("promotes when the digest is there, keeping the release references in the stack file", async () => {
      const h = harness(stages, lane);
      const id = await releaseVerifiedInDev(h);
      h.registry.present.add(mirrored("a"));
      expect(await h.cli("promote", "gke")).toBe(0);
      expect(pointer(h, "staging")).toEqual({ id, images: { podinfo: ref("a") } });
      expect(await h.cli("verify", "gke", "--outputs", outputsJson(h, "gke.json", id, mirrored("a"), "staging"))).toBe(
        0,
      );
    });

    it("copies by digest with --copy and records the copy", async () => {
      const h = harness(stages, lane);
      await releaseVerifiedInDev(h);
      expect(await h.cli("promote", "gke", "--copy")).toBe(0);
      expect(h.registry.copies).toEqual([[ref("a"), mirrored("a")]]);
      expect((history(h, "gke")[0] as PromotionRecord).copied).toEqual([{ from: ref("a"), to: mirrored("a") }]);
    });

    it("refuses when the registry cannot be reached", async () => {
      const h = harness(stages, lane);
      await releaseVerifiedInDev(h);
      h.registry.unreachable = true;
      drain(h);
      expect(await h.cli("promote", "gke")).toBe(1);
      expect(drain(h)).toContain(
        "stage gke: cannot check image podinfo in the stage's registry europe-west1-docker.pkg.dev/acme/ghcr: cannot read",
      );
    });
  });

  describe("status", () => {
    it("shows each stage with what waits upstream and every rule that blocks it, within 100 columns", async () => {
      const h = harness(undefined, lane);
      const id = await releaseVerifiedInDev(h);
      h.clock.advance(20 * 60_000);
      drain(h);
      expect(await h.cli("status")).toBe(0);
      const text = drain(h);
      const lines = text.split("\n");
      expect(lines[0].split(/\s+/)).toEqual(["lane", "dev", "staging", "prod", "prod-gke"]);
      expect(lines[1].split(/\s+/)).toEqual([lane, id.slice(0, 10), "✓", "-", "-", "-"]);
      expect(lines.filter((l) => /^\S+ {2}\(stack /.test(l)).map((l) => l.split(" ")[0])).toEqual([
        "dev",
        "staging",
        "prod",
        "prod-gke",
      ]);
      expect(lines.every((l) => l.length <= 100)).toBe(true);
      expect(text).toContain(`  release   ${id}, promoted 2026-01-05 09:00 by Release Bot`);
      expect(text).toContain("  verified  yes, 2026-01-05 09:00");
      expect(text).toContain(`  waiting   ${id}: blocked by soak`);
      expect(text.replace(/\n\s+/g, " ")).toContain(`- [soak] soak time 1h in dev has not elapsed`);
    });

    it("shows the registry among the blockers of a release waiting for a stage that pulls from its own registry", async () => {
      const h = harness(
        "stages:\n  dev: {}\n  gke:\n    stack: staging\n    from: [dev]\n    registry: europe-west1-docker.pkg.dev/acme/ghcr\n",
        lane,
      );
      await releaseVerifiedInDev(h);
      drain(h);
      expect(await h.cli("status")).toBe(0);
      const text = drain(h).replace(/\s+/g, " ");
      expect(text).toContain("waiting r-");
      expect(text).toContain(
        ": blocked by registry - [registry] europe-west1-docker.pkg.dev/acme/ghcr/stefanprodan/podinfo@sha256:",
      );
      expect(text).toContain(
        `is not in europe-west1-docker.pkg.dev/acme/ghcr: npm run promote -- gke --lane ${lane} --copy`,
      );
      h.registry.present.add(`europe-west1-docker.pkg.dev/acme/ghcr/stefanprodan/podinfo@${digest("a")}`);
      expect(await h.cli("status")).toBe(0);
      expect(drain(h)).toContain(`ready: npm run promote -- gke --lane ${lane}`);
    });

    it("shows a waiting release that lacks an image the stage's apps use as blocked by images", async () => {
      const h = harness("stages:\n  a: {}\n  b:\n    from: [a]\n", lane);
      fs.writeFileSync(h.stackFile("b"), h.stackText("b").replace(/image: podinfo/g, "image: web"));
      await h.cli("release", "create", "--image", `podinfo=${ref("a")}`, "--commit", COMMIT_B);
      const id = /release (r-[0-9a-f]{12})/.exec(drain(h))![1];
      expect(await h.cli("promote", "a", "--release", id)).toBe(0);
      drain(h);
      await h.cli("status");
      const text = drain(h).replace(/\s+/g, " ");
      expect(text).toContain(`${id}: blocked by verified-upstream, images`);
      expect(text).toContain(
        `[images] release ${id} has no image "web" (used by blueprint:apps.${APPS[lane][0]}.image)`,
      );
    });

    it("wraps to a narrower terminal", async () => {
      const h = harness(undefined, lane);
      await releaseVerifiedInDev(h);
      drain(h);
      expect(await main(["status"], { projectDir: h.dir, deps: { ...h.deps(), columns: 60 }, vars: {} })).toBe(0);
      expect(h.out.every((l) => l.length <= 60)).toBe(true);
    });

    it("after a rollback, says the release now in the stage is not verified until it is verified again", async () => {
      const h = harness(undefined, lane);
      const a = await releaseVerifiedInDev(h, "a");
      h.clock.advance(HOUR);
      await releaseVerifiedInDev(h, "b", COMMIT_B);
      h.clock.advance(HOUR);
      expect(await h.cli("rollback", "dev")).toBe(0);
      drain(h);
      await h.cli("status");
      expect(drain(h)).toContain(`  release   ${a}, rolled back to 2026-01-05 11:00`);
      expect(h.out.join("\n")).toBe("");
      await h.cli("status");
      expect(drain(h)).toContain("  verified  no (not since its rollback 2026-01-05 11:00)");
    });
  });

  describe("every command", () => {
    it.each(["release", "promote", "approve", "verify", "rollback", "status"])(
      "%s has --help (exit 0)",
      async (command) => {
        const h = harness(undefined, lane);
        expect(await h.cli(command, "--help")).toBe(0);
        expect(drain(h)).toMatch(new RegExp(`^Usage: npm run ${command}\\b`));
      },
    );

    it("treats an unknown command as bad usage", async () => {
      const h = harness(undefined, lane);
      expect(await h.cli("deploy")).toBe(2);
      expect(drain(h)).toContain(
        'unknown command "deploy"; commands: release, promote, approve, verify, rollback, status',
      );
    });
  });

  describe("who", () => {
    it("is BLUEPRINT_ACTOR when set, else git's user.name and user.email", () => {
      const h = harness(undefined, lane);
      expect(currentActor(h.dir, { BLUEPRINT_ACTOR: "pipeline 7" })).toBe("pipeline 7");
      execFileSync("git", ["init", "-q", h.dir]);
      execFileSync("git", ["-C", h.dir, "config", "user.name", "Ada"]);
      execFileSync("git", ["-C", h.dir, "config", "user.email", "ada@example.com"]);
      expect(currentActor(h.dir, {})).toBe("Ada <ada@example.com>");
    });

    it("is recorded with whitespace collapsed and the email in lower case, and compared by email", () => {
      expect(currentActor("/", { BLUEPRINT_ACTOR: "  ci   <CI@Example.COM> " })).toBe("ci <ci@example.com>");
      expect(normaliseActor("Ops@Example.com")).toBe("ops@example.com");
      expect(actorKey("CI <ci@example.com>")).toBe(actorKey("ci <CI@example.com>"));
      expect(actorKey("pipeline 7")).not.toBe(actorKey("pipeline 8"));
    });
  });
});
