import type { HistoryRecord } from "../../promotion/history";
import { approvers, promotionProblems, releaseInStage } from "../../promotion/rules";
import { buildStages } from "../../promotion/stages";

const stages = buildStages("stages.yaml", { dev: {}, staging: { from: ["dev"] }, prod: { from: ["staging"], approvals: 1 } });
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 9, minute)).toISOString();
const base = { by: "ci", images: {}, before: {} };

const promoted = (stage: string, release: string, minute: number, from: string | null = null): HistoryRecord =>
  ({ ...base, kind: "promotion", stage, release, at: at(minute), from, upstream: [] });
const verified = (stage: string, release: string, minute: number): HistoryRecord =>
  ({ kind: "verification", stage, release, at: at(minute), by: "ci", result: "passed", sources: ["outputs:o.json"], problems: [] });
const rolledBack = (stage: string, from: string, to: string, minute: number): HistoryRecord =>
  ({ ...base, kind: "rollback", stage, release: to, from, at: at(minute), by: "alice", reason: "errors after deploy" });
const approved = (stage: string, release: string, by: string, minute: number): HistoryRecord =>
  ({ kind: "approval", stage, release, at: at(minute), by });

describe("promotion gates", () => {
  it("no longer counts a release as verified upstream once the upstream stage rolled back from it", () => {
    const history = [promoted("dev", "r-a", 0), verified("dev", "r-a", 1), promoted("dev", "r-b", 2, "r-a"), verified("dev", "r-b", 3), rolledBack("dev", "r-b", "r-a", 4)];
    expect(releaseInStage(history, "dev", "r-b").verifiedSince).toBeUndefined();
    expect(releaseInStage(history, "dev", "r-a").verifiedSince).toEqual(new Date(at(1)));
    const problems = promotionProblems(stages.get("staging"), "r-b", history, new Date(at(30)));
    expect(problems).toEqual([expect.objectContaining({ rule: "verified-upstream", message: expect.stringContaining("rolled back to r-a by alice: errors after deploy") })]);
    expect(promotionProblems(stages.get("staging"), "r-a", history, new Date(at(30)))).toEqual([]);
  });

  it("counts a release rolled back from as verified again after a new passed verification", () => {
    const history = [promoted("dev", "r-b", 0), verified("dev", "r-b", 1), rolledBack("dev", "r-b", "r-a", 2), promoted("dev", "r-b", 3, "r-a"), verified("dev", "r-b", 4)];
    expect(releaseInStage(history, "dev", "r-b").verifiedSince).toEqual(new Date(at(4)));
  });

  it("does not count the promoter's own approval", () => {
    const history = [promoted("staging", "r-a", 0), verified("staging", "r-a", 1), approved("prod", "r-a", "bob", 2)];
    expect(approvers(history, "prod", "r-a")).toEqual(["bob"]);
    expect(approvers(history, "prod", "r-a", "bob")).toEqual([]);
    const own = promotionProblems(stages.get("prod"), "r-a", history, new Date(at(30)), "bob");
    expect(own).toEqual([expect.objectContaining({ rule: "approval", overridable: false, message: expect.stringContaining("the approval by bob, who is promoting, does not count") })]);
    expect(promotionProblems(stages.get("prod"), "r-a", history, new Date(at(30)), "carol")).toEqual([]);
  });
});
