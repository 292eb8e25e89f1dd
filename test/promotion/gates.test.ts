import type { HistoryRecord } from "../../promotion/history";
import { approvers, promotionProblems, releaseInStage } from "../../promotion/rules";
import { buildStages } from "../../promotion/stages";

const stages = buildStages("stages.yaml", {
  dev: {},
  staging: { from: ["dev"], soak: "1h" },
  prod: { from: ["staging"], approvals: 1 },
});
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 9, minute)).toISOString();
const chain = { lane: "shop", seq: 1, prev: null };
const base = { by: "ci", images: {}, before: {}, ...chain };
const R = (c: string) => `r-${c.repeat(12)}`;
const [A, B] = [R("a"), R("b")];

const promoted = (stage: string, release: string, minute: number, from: string | null = null): HistoryRecord => ({
  ...base,
  kind: "promotion",
  stage,
  release,
  at: at(minute),
  from,
  upstream: [],
});
const verified = (
  stage: string,
  release: string,
  minute: number,
  result: "passed" | "failed" = "passed",
): HistoryRecord => ({
  kind: "verification",
  stage,
  release,
  at: at(minute),
  by: "ci",
  result,
  evidence: [{ source: "outputs:o.json", sha256: "0".repeat(64), bytes: 10, stack: stage, images: 1 }],
  problems: result === "failed" ? ["runs another digest"] : [],
  problemCount: result === "failed" ? 1 : 0,
  ...chain,
});
const rolledBack = (stage: string, from: string, to: string, minute: number): HistoryRecord => ({
  ...base,
  kind: "rollback",
  stage,
  release: to,
  from,
  at: at(minute),
  by: "alice",
  reason: "errors after deploy",
});
const approved = (stage: string, release: string, by: string, minute: number): HistoryRecord => ({
  kind: "approval",
  stage,
  release,
  at: at(minute),
  by,
  ...chain,
});
const NOW = new Date(at(600));

describe("promotion gates", () => {
  it("no longer counts a release as verified upstream once the upstream stage rolled back from it", () => {
    const history = [
      promoted("dev", A, 0),
      verified("dev", A, 1),
      promoted("dev", B, 2, A),
      verified("dev", B, 3),
      rolledBack("dev", B, A, 4),
      verified("dev", A, 5),
    ];
    expect(releaseInStage(history, "dev", B, NOW).verifiedSince).toBeUndefined();
    expect(releaseInStage(history, "dev", A, NOW).verifiedSince).toEqual(new Date(at(5)));
    const problems = promotionProblems(stages.get("staging"), B, history, NOW);
    expect(problems).toEqual([
      expect.objectContaining({
        rule: "verified-upstream",
        message: expect.stringContaining(`rolled back to ${A} by alice: errors after deploy`),
      }),
    ]);
    expect(promotionProblems(stages.get("staging"), A, history, NOW)).toEqual([]);
  });

  it("after a rollback, counts only verifications of the release made since the rollback", () => {
    const history = [
      promoted("dev", A, 0),
      verified("dev", A, 1),
      promoted("dev", B, 2, A),
      verified("dev", B, 3),
      rolledBack("dev", B, A, 4),
    ];
    const state = releaseInStage(history, "dev", A, NOW);
    expect(state.verifiedSince).toBeUndefined();
    expect(state).toMatchObject({ placedBy: "rollback", placedAt: new Date(at(4)) });
  });

  it("counts a release rolled back from as verified again after a new promotion and a passed verification", () => {
    const history = [
      promoted("dev", B, 0),
      verified("dev", B, 1),
      rolledBack("dev", B, A, 2),
      promoted("dev", B, 3, A),
      verified("dev", B, 4),
    ];
    expect(releaseInStage(history, "dev", B, NOW).verifiedSince).toEqual(new Date(at(4)));
  });

  it("does not count the promoter's own approval", () => {
    const history = [promoted("staging", A, 0), verified("staging", A, 1), approved("prod", A, "bob", 2)];
    expect(approvers(history, "prod", A)).toEqual(["bob"]);
    expect(approvers(history, "prod", A, "bob")).toEqual([]);
    const own = promotionProblems(stages.get("prod"), A, history, NOW, "bob");
    expect(own).toEqual([
      expect.objectContaining({
        rule: "approval",
        overridable: false,
        message: expect.stringContaining("the approval by bob, who is promoting, does not count"),
      }),
    ]);
    expect(promotionProblems(stages.get("prod"), A, history, NOW, "carol")).toEqual([]);
  });

  it("counts one person once however the email is cased or spaced, and knows them when they promote", () => {
    const history = [
      promoted("staging", A, 0),
      verified("staging", A, 1),
      approved("prod", A, "CI <ci@example.com>", 2),
      approved("prod", A, "ci  <CI@Example.com>", 3),
    ];
    // The first spelling recorded names the person.
    expect(approvers(history, "prod", A)).toEqual(["CI <ci@example.com>"]);
    const twoNeeded = buildStages("stages.yaml", { staging: {}, prod: { from: ["staging"], approvals: 2 } });
    expect(promotionProblems(twoNeeded.get("prod"), A, history, NOW)).toEqual([
      expect.objectContaining({ rule: "approval", message: expect.stringContaining("has 1") }),
    ]);
    expect(approvers(history, "prod", A, " Ci <ci@EXAMPLE.com> ")).toEqual([]);
  });
});

describe("which verifications count", () => {
  it("refuses a verification dated before the promotion that put the release there (backdated), and measures the soak from a valid one", () => {
    const backdated = [promoted("dev", A, 100), verified("dev", A, 0)];
    const state = releaseInStage(backdated, "dev", A, NOW);
    expect(state.verifiedSince).toBeUndefined();
    expect(state.ignored).toEqual([
      expect.objectContaining({ why: expect.stringContaining("before the promotion that put the release there") }),
    ]);
    expect(promotionProblems(stages.get("staging"), A, backdated, new Date(at(200)))).toEqual([
      expect.objectContaining({ rule: "verified-upstream", message: expect.stringContaining("do not count") }),
    ]);

    const honest = [promoted("dev", A, 100), verified("dev", A, 130)];
    expect(promotionProblems(stages.get("staging"), A, honest, new Date(at(189)))).toEqual([
      expect.objectContaining({ rule: "soak" }),
    ]);
    expect(promotionProblems(stages.get("staging"), A, honest, new Date(at(190)))).toEqual([]);
  });

  it("refuses a verification dated before the record it follows", () => {
    const history = [promoted("dev", A, 0), approved("dev", A, "x", 50), verified("dev", A, 10)];
    expect(releaseInStage(history, "dev", A, NOW).ignored).toEqual([
      expect.objectContaining({ why: expect.stringContaining("before the record it follows") }),
    ]);
  });

  it("refuses a verification before any promotion of the release to the stage (a forged record)", () => {
    const history = [verified("dev", A, 1)];
    const state = releaseInStage(history, "dev", A, NOW);
    expect(state.promoted).toBe(false);
    expect(state.ignored[0].why).toContain("before any promotion");
    expect(promotionProblems(stages.get("staging"), A, history, NOW)).toEqual([
      expect.objectContaining({ rule: "order" }),
    ]);
  });

  it("ignores a failed verification dated in the future, so it does not block the release, and counts one within the skew", () => {
    const ahead = [promoted("dev", A, 0), verified("dev", A, 1), verified("dev", A, 600 + 2 * 24 * 60, "failed")];
    const state = releaseInStage(ahead, "dev", A, NOW);
    expect(state.verifiedSince).toEqual(new Date(at(1)));
    expect(state.ignored).toEqual([expect.objectContaining({ why: expect.stringContaining("in the future") })]);
    const slightlyAhead = [promoted("dev", A, 0), verified("dev", A, 603)];
    expect(releaseInStage(slightlyAhead, "dev", A, NOW).verifiedSince).toEqual(new Date(at(603)));
  });
});
