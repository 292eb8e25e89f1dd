import { actorKey } from "./actor";
import { CLOCK_SKEW_MS, type ApprovalRecord, type HistoryRecord } from "./history";
import { releaseDigests } from "./release";
import { evaluateGate, type ImageVerdict, type ScanSummary } from "./scan/gate";
import { formatDuration, laneArg, type Stage } from "./stages";

/** A rule that says no, with the message for the user. */
export interface Problem {
  /** `order`, `verified-upstream`, `soak`, `approval`, `registry`. */
  readonly rule: string;
  readonly message: string;
  /** Whether `--force --reason` may set it aside (approvals and the registry cannot be forced). */
  readonly overridable: boolean;
}

/** A verification record that does not count, and why. */
export interface IgnoredVerification {
  readonly at: string;
  readonly seq: number;
  readonly why: string;
}

/** What the history says about one release in one stage. */
export interface ReleaseInStage {
  /** Ever written into the stage's pointer (by promote or rollback). */
  readonly promoted: boolean;
  /** When the promotion or rollback that last put it in the stage was recorded. */
  readonly placedAt?: Date;
  /** How it was last put there. */
  readonly placedBy?: "promotion" | "rollback";
  /** When the current run of passed verifications since that placement began (after the last failed one); undefined when not verified. */
  readonly verifiedSince?: Date;
  /** The last verification that counts, passed or failed. */
  readonly lastVerification?: {
    readonly at: Date;
    readonly result: "passed" | "failed";
    readonly problems: readonly string[];
  };
  /** Verifications of it that do not count (before its placement, backdated, dated in the future). */
  readonly ignored: readonly IgnoredVerification[];
}

/**
 * The verification state of a release in a stage, from the stage's chain (in order). A
 * verification counts only if it comes after the promotion or rollback that last put the release
 * there, and its time is not earlier than that placement, not earlier than the record before it,
 * and not more than {@link CLOCK_SKEW_MS} after `now`. A failed verification cancels earlier passed
 * ones, and so does a rollback away from the release (the stage rejected it).
 */
export function releaseInStage(
  history: readonly HistoryRecord[],
  stage: string,
  release: string,
  now: Date,
): ReleaseInStage {
  let promoted = false;
  let placed: { at: Date; by: "promotion" | "rollback" } | undefined;
  let since: Date | undefined;
  let last: ReleaseInStage["lastVerification"];
  const ignored: IgnoredVerification[] = [];
  let prevAt: string | undefined;
  for (const r of history) {
    if (r.stage !== stage) continue;
    const before = prevAt;
    prevAt = r.at;
    if (r.kind === "rollback" && r.from === release && r.release !== release) {
      since = undefined;
      last = {
        at: new Date(r.at),
        result: "failed",
        problems: [`rolled back to ${r.release} by ${r.by}${r.reason ? `: ${r.reason}` : ""}`],
      };
      continue;
    }
    if (r.release !== release) continue;
    if (r.kind === "promotion" || r.kind === "rollback") {
      promoted = true;
      placed = { at: new Date(r.at), by: r.kind };
      since = undefined;
      last = undefined;
    }
    if (r.kind !== "verification") continue;
    const at = new Date(r.at);
    const why = !placed
      ? "it comes before any promotion of the release to this stage"
      : at < placed.at
        ? `it is dated ${r.at}, before the ${placed.by} that put the release there (${placed.at.toISOString()})`
        : before !== undefined && r.at < before
          ? `it is dated ${r.at}, before the record it follows (${before})`
          : at.getTime() > now.getTime() + CLOCK_SKEW_MS
            ? `it is dated ${r.at}, in the future (now ${now.toISOString()}; written by a clock ahead?)`
            : undefined;
    if (why) {
      ignored.push({ at: r.at, seq: r.seq, why });
      continue;
    }
    last = { at, result: r.result, problems: r.problems };
    if (r.result === "failed") since = undefined;
    else since ??= at;
  }
  return {
    promoted,
    placedAt: placed?.at,
    placedBy: placed?.by,
    verifiedSince: since,
    lastVerification: last,
    ignored,
  };
}

/**
 * Distinct people who approved `release` for `stage`, leaving out `promoter` (no one approves
 * their own promotion). People are compared by {@link actorKey}: email without case, else name.
 */
export function approvers(
  history: readonly HistoryRecord[],
  stage: string,
  release: string,
  promoter?: string,
): string[] {
  const byKey = new Map<string, string>();
  for (const r of history) {
    if (r.kind === "approval" && r.stage === stage && r.release === release && !byKey.has(actorKey(r.by)))
      byKey.set(actorKey(r.by), (r as ApprovalRecord).by);
  }
  if (promoter !== undefined) byKey.delete(actorKey(promoter));
  return [...byKey.values()];
}

/** Releases verified in a stage (since their last placement), most recently verified first. */
export function verifiedReleases(history: readonly HistoryRecord[], stage: string, now: Date): string[] {
  const ids = [...new Set(history.filter((r) => r.stage === stage && r.kind === "verification").map((r) => r.release))];
  return ids
    .map((id) => ({ id, state: releaseInStage(history, stage, id, now) }))
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
export function promotionProblems(
  stage: Stage,
  release: string,
  history: readonly HistoryRecord[],
  now: Date,
  promoter?: string,
): Problem[] {
  const perUpstream = stage.from.map((up) => ({ up, problems: upstreamProblems(stage, up, release, history, now) }));
  const problems: Problem[] = [];
  if (perUpstream.length > 0) {
    const ok = perUpstream.filter((u) => u.problems.length === 0);
    if (stage.require === "all" || ok.length === 0) {
      for (const u of perUpstream) problems.push(...u.problems);
      if (stage.require === "any" && problems.length > 0) {
        problems.unshift({
          rule: "verified-upstream",
          overridable: true,
          message: `release ${release} must be verified (and soaked) in at least one of ${stage.from.join(", ")}; none qualifies:`,
        });
      }
    }
  }
  if (stage.approvals > 0) {
    const have = approvers(history, stage.name, release, promoter);
    const own = promoter !== undefined && approvers(history, stage.name, release).length > have.length;
    if (have.length < stage.approvals) {
      problems.push({
        rule: "approval",
        overridable: false,
        message: `release ${release} needs ${stage.approvals} approval(s) for ${stage.name}, has ${have.length}${have.length ? ` (${have.join(", ")})` : ""}${own ? ` (the approval by ${promoter}, who is promoting, does not count)` : ""}: npm run approve -- ${stage.name}${laneArg(stage)} --release ${release}`,
      });
    }
  }
  return problems;
}

function upstreamProblems(
  stage: Stage,
  up: string,
  release: string,
  history: readonly HistoryRecord[],
  now: Date,
): Problem[] {
  const state = releaseInStage(history, up, release, now);
  if (!state.verifiedSince) {
    if (!state.promoted) {
      return [
        {
          rule: "order",
          overridable: true,
          message: `release ${release} was never promoted to ${up}, which comes before ${stage.name}; promote it there first (npm run promote -- ${up}${laneArg(stage)} --release ${release}), or skip ${up} with --force --reason "..."`,
        },
      ];
    }
    const last = state.lastVerification;
    const ignored = state.ignored.length
      ? `; ${state.ignored.length} verification(s) there do not count (${state.ignored.map((i) => `record ${i.seq}: ${i.why}`).join("; ")})`
      : "";
    const why = last
      ? `its last verification there failed at ${last.at.toISOString()} (${last.problems.join("; ")})`
      : `no verification is recorded there since its ${state.placedBy ?? "promotion"} at ${state.placedAt?.toISOString() ?? "?"}${ignored}`;
    return [
      {
        rule: "verified-upstream",
        overridable: true,
        message: `release ${release} is not verified in ${up}: ${why}; after \`pulumi up\` of its stack, run npm run verify -- ${up}${laneArg(stage)} --outputs ${up}-outputs.json [--pods ${up}-pods.json]`,
      },
    ];
  }
  if (stage.soakMs > 0) {
    const elapsed = now.getTime() - state.verifiedSince.getTime();
    if (elapsed < stage.soakMs) {
      const ready = new Date(state.verifiedSince.getTime() + stage.soakMs);
      return [
        {
          rule: "soak",
          overridable: true,
          message: `soak time ${stage.soak} in ${up} has not elapsed: release ${release} was verified there at ${state.verifiedSince.toISOString()} (${formatDuration(Math.max(0, elapsed))} ago); it may come to ${stage.name} at ${ready.toISOString()} (in ${formatDuration(stage.soakMs - elapsed)})`,
        },
      ];
    }
  }
  return [];
}

/**
 * The stage's vulnerability gate over a release's images, judged on the newest scan attached to
 * each digest, with the findings in `accepted` (by id) taken out. No gate: no problems and no verdicts.
 * `--force` never sets it aside.
 */
export function vulnerabilityProblems<S extends ScanSummary>(
  stage: Stage,
  release: { readonly id: string; readonly images: Readonly<Record<string, string>> },
  scansOf: (digest: string) => readonly S[],
  now: Date,
  accepted: ReadonlySet<string> = new Set(),
): { problems: Problem[]; verdicts: ImageVerdict<S>[] } {
  if (!stage.vulnerabilities) return { problems: [], verdicts: [] };
  const verdicts = evaluateGate(stage.vulnerabilities, releaseDigests(release), scansOf, now.getTime(), accepted);
  const problems = verdicts
    .filter((v) => v.problems.length > 0)
    .map((v): Problem => ({
      rule: "vulnerabilities",
      // Never set aside by --force: waiving it is its own act (--accept-vulnerabilities), recorded with the ids.
      overridable: false,
      message: `image ${v.image} (${v.digest.slice(0, 19)}...) does not pass the vulnerability gate of ${stage.name}${v.scan ? ` (${v.scan.format} scan${v.scan.scannedAt ? ` of ${v.scan.scannedAt}` : ""})` : ""}: ${v.problems.join("; ")}${v.scan ? "" : ` (npm run release -- scan ${release.id}${laneArg(stage)} --image ${v.image} --report <file>)`}`,
    }));
  return { problems, verdicts };
}
