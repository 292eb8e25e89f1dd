import * as fs from "node:fs";
import { pulledImages } from "../commands";
import { Refusal, UsageError } from "../errors";
import { describeProblems, type HistoryRecord } from "../history";
import { readPointer } from "../pointer";
import { mapImage, RegistryError } from "../registry";
import { approvers, promotionProblems, releaseInStage, vulnerabilityProblems, type Problem } from "../rules";
import { laneArg, type Stage } from "../stages";
import { stageRules, upstreamCandidates } from "../status";
import { shown, stageFile, type Deps, type Project, type Workspace } from "../workspace";

/**
 * What the promotion views show, as data: every lane by every stage (what runs, whether it is
 * verified, how its gate judges it now, what waits to come and what blocks it), each lane's
 * timeline and whether its history chains hold. The HTML page, the Markdown comment and the JSON
 * the workflows read are all drawn from it; none of them computes anything of its own.
 */
export interface PromotionView {
  /** When the view was computed (ISO 8601). */
  readonly generatedAt: string;
  readonly project: string;
  /** The stages as stages.yaml defines them, in promotion order. */
  readonly stages: readonly StageInfo[];
  readonly lanes: readonly LaneView[];
  /** Chain integrity over every lane: intact only when every lane's chains are. */
  readonly chain: ChainVerdict;
}

export interface StageInfo {
  readonly name: string;
  readonly environment: string;
  readonly from: readonly string[];
}

export interface ChainVerdict {
  readonly intact: boolean;
  /** What is broken and how to repair it, one sentence each (file first). */
  readonly problems: readonly string[];
}

/** How the release a stage runs stands with its verifications. */
export type Verification = "verified" | "failed" | "unverified" | "none";

/**
 * How the stage's vulnerability gate judges the release that runs there today, on the newest scans
 * of its digests: `fails` is a release that went through the gate (or was forced past it) and that a
 * later scan, or the age of its last one, now fails: "running, now fails the gate".
 */
export type RunningGate = "passes" | "fails" | "no-gate" | "no-release";

export interface Approvals {
  readonly given: number;
  readonly needed: number;
  readonly by: readonly string[];
}

/** A release an upstream stage runs that this stage does not: ready, or blocked by each rule named. */
export interface Candidate {
  readonly release: string;
  readonly ready: boolean;
  readonly blockers: readonly Problem[];
  /** Soak time still to run upstream, in milliseconds: 0 when over or without soak, null when it has not started (not verified upstream). */
  readonly soakRemainingMs: number | null;
  /** The soak time as stages.yaml writes it (`24h`), when the stage has one. */
  readonly soak?: string;
  readonly approvals: Approvals;
  /** The stage's vulnerability gate on this release: `passes`, `fails`, or `no-gate`. */
  readonly gate: "passes" | "fails" | "no-gate";
}

export interface StageView {
  readonly name: string;
  readonly stack: string;
  readonly environment: string;
  /** The stage's rules in words: where it takes releases from, soak, approvals, registry, gate. */
  readonly rules: readonly string[];
  /** The release the lane's stack file names (null: none). */
  readonly release: string | null;
  readonly images: Readonly<Record<string, string>>;
  readonly verification: Verification;
  /** Since when it is verified, or when the last verification failed (ISO 8601). */
  readonly verifiedAt?: string;
  /** Why the last verification failed. */
  readonly verificationProblem?: string;
  /** The record that put the release there: promotion or rollback, when and by whom. */
  readonly placed?: {
    readonly how: "promotion" | "rollback";
    readonly at: string;
    readonly by: string;
    readonly overridden: readonly string[];
  };
  readonly running: { readonly gate: RunningGate; readonly problems: readonly string[] };
  readonly waiting: readonly Candidate[];
  /** Something about the stage that needs a person: an unreadable stack file, a pointer no record explains. */
  readonly notes: readonly string[];
}

/** One history record as the timeline shows it. */
export interface TimelineEntry {
  readonly at: string;
  readonly stage: string;
  readonly seq: number;
  readonly kind: HistoryRecord["kind"];
  readonly release: string;
  readonly by: string;
  /** The reason given, the result of a verification, what was overridden. */
  readonly detail: string;
}

export interface LaneView {
  readonly name: string;
  /** Set when the lane cannot be opened (a missing team stack file): nothing else is. */
  readonly error?: string;
  readonly chain: ChainVerdict;
  readonly stages: readonly StageView[];
  /** Every record of the lane, newest first. */
  readonly timeline: readonly TimelineEntry[];
}

/** How long `status` waits for a registry (as the text status does). */
const REGISTRY_TIMEOUT_MS = 15_000;

/**
 * Computes the view of every lane (or of one, with `lane`). Reads the stack files, releases,
 * history and scans; asks the registry about stages with `registry:` (through `deps.registry`,
 * each reference once). Changes nothing.
 */
export async function promotionView(
  project: Project,
  deps: Pick<Deps, "registry">,
  now: Date,
  lane?: string,
): Promise<PromotionView> {
  const registry = memo(deps.registry);
  const names = lane !== undefined ? [project.lane(lane).lane] : project.lanes;
  const lanes: LaneView[] = [];
  for (const name of names) {
    let ws: Workspace;
    try {
      ws = project.lane(name);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      lanes.push({ name, error: e.message, chain: { intact: false, problems: [e.message] }, stages: [], timeline: [] });
      continue;
    }
    const history = ws.history.read(ws.readCache);
    const stages: StageView[] = [];
    for (const stage of ws.stages.ordered) stages.push(await stageView(ws, registry, stage, history.records, now));
    lanes.push({
      name,
      chain: {
        intact: history.problems.length === 0,
        problems: describeProblems(history.problems, (f) => shown(ws, f)),
      },
      stages,
      timeline: timeline(history.records),
    });
  }
  return {
    generatedAt: now.toISOString(),
    project: project.project,
    stages: project.stages.ordered.map((s) => ({ name: s.name, environment: s.environment, from: s.from })),
    lanes,
    chain: {
      intact: lanes.every((l) => l.chain.intact),
      problems: lanes.flatMap((l) => l.chain.problems.map((p) => `lane ${l.name}: ${p}`)),
    },
  };
}

async function stageView(
  ws: Workspace,
  registry: Registry,
  stage: Stage,
  history: readonly HistoryRecord[],
  now: Date,
): Promise<StageView> {
  const file = stageFile(ws, stage);
  const notes: string[] = [];
  let release: string | null = null;
  let images: Readonly<Record<string, string>> = {};
  let appImages: Readonly<Record<string, string>> | undefined;
  if (!fs.existsSync(file)) {
    notes.push(`no stack file ${shown(ws, file)}`);
  } else {
    try {
      const p = readPointer(file, stage.name, ws.lane);
      release = p.pointer?.id ?? null;
      images = p.pointer?.images ?? {};
      appImages = p.appImages;
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      notes.push(`stack file unreadable: ${e.message}`);
    }
  }
  const base = {
    name: stage.name,
    stack: stage.stack,
    environment: stage.environment,
    rules: stageRules(stage),
    release,
    images,
  };
  let verification: Verification = "none";
  let verifiedAt: string | undefined;
  let verificationProblem: string | undefined;
  let placed: StageView["placed"];
  if (release) {
    const state = releaseInStage(history, stage.name, release, now);
    verification = state.verifiedSince
      ? "verified"
      : state.lastVerification?.result === "failed"
        ? "failed"
        : "unverified";
    verifiedAt =
      state.verifiedSince?.toISOString() ??
      (verification === "failed" ? state.lastVerification!.at.toISOString() : undefined);
    verificationProblem = verification === "failed" ? state.lastVerification!.problems[0] : undefined;
    const last = [...history]
      .reverse()
      .find((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"));
    if (last && last.release === release && (last.kind === "promotion" || last.kind === "rollback")) {
      placed = {
        how: last.kind,
        at: last.at,
        by: last.by,
        overridden: last.kind === "promotion" ? (last.overridden ?? []).map((o) => o.rule) : [],
      };
    } else {
      notes.push(
        last
          ? `the last ${last.kind} record (${last.release}) is not what the stack file names: the pointer write did not complete, or the file was edited`
          : "no record put this release here",
      );
    }
    if (!ws.releases.has(release)) notes.push(`release ${release} has no file ${shown(ws, ws.releases.file(release))}`);
  }
  const running = runningGate(ws, stage, release, now);
  const waiting: Candidate[] = [];
  for (const cand of upstreamCandidates(ws, stage, release ?? undefined))
    waiting.push(await candidate(ws, registry, stage, cand, appImages, history, now));
  return { ...base, verification, verifiedAt, verificationProblem, placed, running, waiting, notes };
}

/** The stage's gate over the release running there, judged today on the newest scans. */
function runningGate(ws: Workspace, stage: Stage, release: string | null, now: Date): StageView["running"] {
  if (!release) return { gate: "no-release", problems: [] };
  if (!stage.vulnerabilities) return { gate: "no-gate", problems: [] };
  if (!ws.releases.has(release))
    return { gate: "fails", problems: [`release ${release} has no release file to judge`] };
  try {
    const { verdicts } = vulnerabilityProblems(stage, ws.releases.get(release), (d) => ws.scans.scansOf(d), now);
    const problems = verdicts
      .filter((v) => v.problems.length > 0)
      .map((v) => `image ${v.image} (${v.digest.slice(0, 19)}...): ${v.problems.join("; ")}`);
    return { gate: problems.length ? "fails" : "passes", problems };
  } catch (e) {
    if (e instanceof Refusal) return { gate: "fails", problems: [e.message] };
    throw e;
  }
}

async function candidate(
  ws: Workspace,
  registry: Registry,
  stage: Stage,
  id: string,
  appImages: Readonly<Record<string, string>> | undefined,
  history: readonly HistoryRecord[],
  now: Date,
): Promise<Candidate> {
  const blockers: Problem[] = [...promotionProblems(stage, id, history, now)];
  let gate: Candidate["gate"] = stage.vulnerabilities ? "passes" : "no-gate";
  if (ws.releases.has(id)) {
    const release = ws.releases.get(id);
    const missing = Object.entries(appImages ?? {}).filter(([, image]) => !(image in release.images));
    if (missing.length)
      blockers.push({
        rule: "images",
        overridable: false,
        message: `release ${id} has no image ${missing.map(([app, image]) => `"${image}" (used by blueprint:apps.${app}.image)`).join(", ")}`,
      });
    try {
      const v = vulnerabilityProblems(stage, release, (d) => ws.scans.scansOf(d), now).problems;
      if (v.length) gate = "fails";
      blockers.push(...v);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      gate = "fails";
      blockers.push({ rule: "vulnerabilities", overridable: false, message: e.message });
    }
    blockers.push(...(await registryBlockers(registry, stage, release)));
  } else {
    blockers.push({
      rule: "release",
      overridable: false,
      message: `release ${id} has no file ${shown(ws, ws.releases.file(id))}`,
    });
  }
  const have = approvers(history, stage.name, id);
  return {
    release: id,
    ready: blockers.length === 0,
    blockers,
    soakRemainingMs: soakRemaining(stage, id, history, now),
    soak: stage.soak,
    approvals: { given: have.length, needed: stage.approvals, by: have },
    gate,
  };
}

/**
 * Soak still to run: the longest over the upstream stages (`require: all`), the shortest (`any`);
 * null when a stage it needs has not verified the release, so the soak has not started.
 */
function soakRemaining(stage: Stage, id: string, history: readonly HistoryRecord[], now: Date): number | null {
  if (stage.soakMs === 0 || stage.from.length === 0) return 0;
  const left = stage.from.map((up) => {
    const since = releaseInStage(history, up, id, now).verifiedSince;
    return since ? Math.max(0, since.getTime() + stage.soakMs - now.getTime()) : null;
  });
  const started = left.filter((l): l is number => l !== null);
  if (stage.require === "all") return started.length === left.length ? Math.max(...started) : null;
  return started.length ? Math.min(...started) : null;
}

type Registry = Deps["registry"];

async function registryBlockers(
  registry: Registry,
  stage: Stage,
  release: Parameters<typeof pulledImages>[1],
): Promise<Problem[]> {
  if (!stage.registry) return [];
  const problems: Problem[] = [];
  for (const [name, target] of Object.entries(pulledImages(stage, release))) {
    try {
      if (!(await registry.has(target, REGISTRY_TIMEOUT_MS))) {
        problems.push({
          rule: "registry",
          overridable: false,
          message: `${target} is not in ${stage.registry}: npm run promote -- ${stage.name}${laneArg(stage)} --copy, or ${registry.copyCommand(mapImage(release.images[name], undefined), target)}`,
        });
      }
    } catch (e) {
      if (!(e instanceof RegistryError) && !(e instanceof Refusal)) throw e;
      problems.push({
        rule: "registry",
        overridable: false,
        message: `cannot check image ${name} in ${stage.registry}: ${e.message}`,
      });
    }
  }
  return problems;
}

/** The registry asked once per reference, however many lanes and stages pull it. */
function memo(registry: Registry): Registry {
  const seen = new Map<string, Promise<boolean>>();
  return {
    has: (ref, timeoutMs) => {
      let p = seen.get(ref);
      if (!p) seen.set(ref, (p = registry.has(ref, timeoutMs)));
      return p;
    },
    copy: (from, to) => registry.copy(from, to),
    copyCommand: (from, to) => registry.copyCommand(from, to),
  };
}

function timeline(records: readonly HistoryRecord[]): TimelineEntry[] {
  return [...records]
    .sort((a, b) => (a.at === b.at ? b.seq - a.seq : b.at.localeCompare(a.at)))
    .map((r) => ({
      at: r.at,
      stage: r.stage,
      seq: r.seq,
      kind: r.kind,
      release: r.release,
      by: r.by,
      detail: detail(r),
    }));
}

function detail(r: HistoryRecord): string {
  const reason = r.reason ? `reason: ${r.reason}` : "";
  switch (r.kind) {
    case "promotion":
      return [
        `from ${r.from ?? "no release"}`,
        r.overridden?.length ? `override of ${r.overridden.map((o) => o.rule).join(", ")}` : "",
        reason,
      ]
        .filter(Boolean)
        .join("; ");
    case "rollback":
      return [`from ${r.from ?? "no release"}`, reason].filter(Boolean).join("; ");
    case "verification":
      return [r.result, r.evidence.map((e) => e.source).join(", "), r.problems[0] ?? "", reason]
        .filter(Boolean)
        .join("; ");
    case "approval":
      return reason || "approved";
  }
}
