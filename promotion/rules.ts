import type { ApprovalRecord, HistoryRecord } from "./history";
import { formatDuration, type Stage } from "./stages";

/** A rule that says no, with the message for the user. */
export interface Problem {
  /** `order`, `verified-upstream`, `soak`, `approval`. */
  readonly rule: string;
  readonly message: string;
  /** Whether `--force --reason` may set it aside (approvals cannot be forced). */
  readonly overridable: boolean;
}

/** What the history says about one release in one stage. */
export interface ReleaseInStage {
  /** Ever written into the stage's pointer (by promote or rollback). */
  readonly promoted: boolean;
  /** When the current run of passed verifications began (after the last failed one); undefined when not verified. */
  readonly verifiedSince?: Date;
  /** The last verification, passed or failed. */
  readonly lastVerification?: { readonly at: Date; readonly result: "passed" | "failed"; readonly problems: readonly string[] };
}

/**
 * The verification state of a release in a stage. A failed verification cancels earlier passed
 * ones, and so does a rollback away from the release (the stage rejected it): the release counts
 * as verified again only from the next passed verification.
 */
export function releaseInStage(history: readonly HistoryRecord[], stage: string, release: string): ReleaseInStage {
  let promoted = false;
  let since: Date | undefined;
  let last: ReleaseInStage["lastVerification"];
  for (const r of history) {
    if (r.stage !== stage) continue;
    if (r.kind === "rollback" && r.from === release && r.release !== release) {
      since = undefined;
      last = { at: new Date(r.at), result: "failed", problems: [`rolled back to ${r.release} by ${r.by}${r.reason ? `: ${r.reason}` : ""}`] };
      continue;
    }
    if (r.release !== release) continue;
    if (r.kind === "promotion" || r.kind === "rollback") promoted = true;
    if (r.kind === "verification") {
      const at = new Date(r.at);
      last = { at, result: r.result, problems: r.problems };
      if (r.result === "failed") since = undefined;
      else since ??= at;
    }
  }
  return { promoted, verifiedSince: since, lastVerification: last };
}

/** Distinct people who approved `release` for `stage`, leaving out `promoter` (no one approves their own promotion). */
export function approvers(history: readonly HistoryRecord[], stage: string, release: string, promoter?: string): string[] {
  const by = history.filter((r): r is ApprovalRecord => r.kind === "approval" && r.stage === stage && r.release === release).map((r) => r.by);
  return [...new Set(by)].filter((a) => a !== promoter);
}

/** Releases verified in a stage (latest verification passed), most recently verified first. */
export function verifiedReleases(history: readonly HistoryRecord[], stage: string): string[] {
  const ids = [...new Set(history.filter((r) => r.stage === stage && r.kind === "verification").map((r) => r.release))];
  return ids
    .map((id) => ({ id, state: releaseInStage(history, stage, id) }))
    .filter((x) => x.state.verifiedSince)
    .sort((a, b) => b.state.lastVerification!.at.getTime() - a.state.lastVerification!.at.getTime())
    .map((x) => x.id);
}

/**
 * Every gate between `release` and `stage`: verified upstream (in all or any upstream stage, as the
 * stage says), the stage order, the soak time since the upstream verification, and approvals.
 * Returns the problems; an empty list means the release may be promoted. Pure: `now` is injected.
 * `promoter`, when known, does not count among the approvers (four eyes).
 */
export function promotionProblems(stage: Stage, release: string, history: readonly HistoryRecord[], now: Date, promoter?: string): Problem[] {
  const perUpstream = stage.from.map((up) => ({ up, problems: upstreamProblems(stage, up, release, history, now) }));
  const problems: Problem[] = [];
  if (perUpstream.length > 0) {
    const ok = perUpstream.filter((u) => u.problems.length === 0);
    if (stage.require === "all" || ok.length === 0) {
      for (const u of perUpstream) problems.push(...u.problems);
      if (stage.require === "any" && problems.length > 0) {
        problems.unshift({ rule: "verified-upstream", overridable: true, message: `release ${release} must be verified (and soaked) in at least one of ${stage.from.join(", ")}; none qualifies:` });
      }
    }
  }
  if (stage.approvals > 0) {
    const have = approvers(history, stage.name, release, promoter);
    const own = promoter !== undefined && approvers(history, stage.name, release).includes(promoter);
    if (have.length < stage.approvals) {
      problems.push({
        rule: "approval",
        overridable: false,
        message: `release ${release} needs ${stage.approvals} approval(s) for ${stage.name}, has ${have.length}${have.length ? ` (${have.join(", ")})` : ""}${own ? ` (the approval by ${promoter}, who is promoting, does not count)` : ""}: npm run approve -- ${stage.name} --release ${release}`,
      });
    }
  }
  return problems;
}

function upstreamProblems(stage: Stage, up: string, release: string, history: readonly HistoryRecord[], now: Date): Problem[] {
  const state = releaseInStage(history, up, release);
  if (!state.verifiedSince) {
    if (!state.promoted) {
      return [{ rule: "order", overridable: true, message: `release ${release} was never promoted to ${up}, which comes before ${stage.name}; promote it there first (npm run promote -- ${up} --release ${release}), or skip ${up} with --force --reason "..."` }];
    }
    const last = state.lastVerification;
    const why = last ? `its last verification there failed at ${last.at.toISOString()} (${last.problems.join("; ")})` : "no verification is recorded there";
    return [{ rule: "verified-upstream", overridable: true, message: `release ${release} is not verified in ${up}: ${why}; after \`pulumi up -s ${up}\`, run npm run verify -- ${up} --outputs <file> [--pods <file>]` }];
  }
  if (stage.soakMs > 0) {
    const elapsed = now.getTime() - state.verifiedSince.getTime();
    if (elapsed < stage.soakMs) {
      const ready = new Date(state.verifiedSince.getTime() + stage.soakMs);
      return [{
        rule: "soak",
        overridable: true,
        message: `soak time ${stage.soak} in ${up} has not elapsed: release ${release} was verified there at ${state.verifiedSince.toISOString()} (${formatDuration(elapsed)} ago); it may come to ${stage.name} at ${ready.toISOString()} (in ${formatDuration(stage.soakMs - elapsed)})`,
      }];
    }
  }
  return [];
}
