import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type { ReleaseConfig } from "../config/release";
import { admissionProblems } from "./admission";
import { Refusal, UsageError } from "./errors";
import { ACTOR_ENV, actorKey, normaliseActor } from "./actor";
import { boundedProblems, checkEvidence, SourceUnavailable, type EvidenceSource, type Expected } from "./evidence";
import {
  describeProblems,
  MAX_PROBLEMS,
  type EvidenceSummary,
  type HistoryRecord,
  type HistoryView,
  type NewRecord,
} from "./history";
import { lockStage } from "./lock";
import { clusterIdentity, readPointer, samePointer, writePointer, type StackPointer } from "./pointer";
import { mapImage, RegistryError } from "./registry";
import { releaseDigests, type Release } from "./release";
import { FORMATS, SEVERITIES, type ReportFormat } from "./scan/report";
import { summaryHash } from "./scan/store";
import { promotionProblems, releaseInStage, verifiedReleases, vulnerabilityProblems, type Problem } from "./rules";
import { laneArg, settingKey, type Stage } from "./stages";
import { platformFile, shown, stageFile, type Deps, type Workspace } from "./workspace";

/** `release create`: records the images CI built as an immutable release. */
export function createRelease(
  ws: Workspace,
  deps: Deps,
  opts: { images: readonly string[]; commit?: string },
): Release {
  const images: Record<string, string> = {};
  for (const spec of opts.images) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--image must be <name>=<repo>@sha256:<64 hex>, got "${spec}"`);
    const name = spec.slice(0, eq);
    if (name in images) throw new UsageError(`--image ${name} is given twice`);
    images[name] = spec.slice(eq + 1);
  }
  const commit = opts.commit ?? gitHead(ws.projectDir);
  // A release nobody's entry stage would admit is refused before it is written.
  const refused = ws.stages.ordered
    .filter((s) => s.from.length === 0)
    .flatMap((s) => admissionProblems(ws, s, images).map((p) => `${s.name}: ${p.message}`));
  if (refused.length > 0)
    throw new Refusal(undefined, "admission", `release not created:\n  - ${refused.join("\n  - ")}`);
  const { release, created } = ws.releases.create(images, commit, deps.now(), normaliseActor(deps.actor()));
  deps.out(
    `${created ? "created" : "exists (same images and commit)"}: release ${release.id}  ${shown(ws, ws.releases.file(release.id))}`,
  );
  deps.out(`  commit ${release.commit}`);
  for (const [name, ref] of Object.entries(release.images)) deps.out(`  image ${name}: ${ref}`);
  const entries = ws.stages.ordered.filter((s) => s.from.length === 0);
  deps.out(
    `next: ${entries.map((s) => `npm run promote -- ${s.name}${laneArg(s)} --release ${release.id}`).join("  |  ")}`,
  );
  return release;
}

/** `release scan`: attaches a scan report to the digest of one image of a release and says how each gated stage judges it. */
export function attachScan(
  ws: Workspace,
  deps: Deps,
  opts: { release: string; image: string; report: string; format?: string; shownAs?: string },
): void {
  const release = ws.releases.get(opts.release, "<release>");
  if (!Object.hasOwn(release.images, opts.image))
    throw new UsageError(
      `--image ${opts.image}: release ${release.id} has no such image (images: ${Object.keys(release.images).join(", ")})`,
    );
  const ref = release.images[opts.image];
  if (opts.format !== undefined && !(FORMATS as readonly string[]).includes(opts.format))
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${opts.format}"`);
  const digest = releaseDigests(release)[opts.image];
  const { scan, created } = ws.scans.attach(
    opts.report,
    digest,
    deps.now(),
    normaliseActor(deps.actor()),
    opts.format as ReportFormat | undefined,
    opts.shownAs,
  );
  const counts = SEVERITIES.filter((s) => scan.counts[s].total > 0).map(
    (s) => `${s} ${scan.counts[s].total} (fixable ${scan.counts[s].fixable})`,
  );
  deps.out(
    `${created ? "attached" : "already attached (same report)"}: ${scan.format} scan of ${ref}${scan.scannedAt ? `, scanned ${scan.scannedAt}` : ""}`,
  );
  deps.out(`  findings: ${counts.join(", ") || "none"}`);
  for (const stage of ws.stages.ordered.filter((s) => s.vulnerabilities)) {
    const [verdict] = vulnerabilityProblems(
      stage,
      { id: release.id, images: { [opts.image]: ref } },
      (d) => ws.scans.scansOf(d),
      deps.now(),
    ).verdicts;
    deps.out(
      `  ${stage.name}: ${verdict.problems.length === 0 ? "passes the gate" : `blocked: ${verdict.problems.join("; ")}`}`,
    );
  }
}

function gitHead(dir: string): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    throw new UsageError("--commit is required: the project is not in a git checkout with a commit");
  }
}

/** Options of {@link promote}. */
export interface PromoteOptions {
  readonly stage: string;
  /** The release to promote; default: the one upstream runs. Required for entry stages. */
  readonly release?: string;
  /** Set aside the order, verification and soak rules (never approvals); needs `reason`. */
  readonly force?: boolean;
  readonly reason?: string;
  /** Copy missing images into the stage's registry with skopeo instead of refusing. */
  readonly copy?: boolean;
  /** Refuse unless the stage's pointer currently names this release (`none` for no release). */
  readonly expectCurrent?: string;
  /** Findings (CVE or advisory ids) the vulnerability gate lets through; needs `reason` and `expires`. */
  readonly acceptVulnerabilities?: readonly string[];
  /** Until when the acceptance holds: a date (`2026-12-31`), a time, or a duration from now (`14d`), at most {@link MAX_ACCEPT_DAYS} days. */
  readonly expires?: string;
}

/** The longest an acceptance of findings may hold: it is a waiver to revisit, not a setting. */
export const MAX_ACCEPT_DAYS = 90;
const FINDING_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** `--expires` as a time: a date or time (ISO 8601), or a duration from now. */
function acceptanceExpiry(text: string | undefined, now: Date): Date {
  if (!text)
    throw new UsageError(
      `--accept-vulnerabilities needs --expires <date | duration> (at most ${MAX_ACCEPT_DAYS}d): an acceptance is revisited`,
    );
  const duration = /^(\d{1,3})([hd])$/.exec(text);
  const at = duration
    ? new Date(now.getTime() + Number(duration[1]) * (duration[2] === "d" ? 86_400_000 : 3_600_000))
    : new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T23:59:59Z` : text);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(
      `--expires must be a date (2026-12-31), a time (ISO 8601) or a duration (14d, 36h), got "${text}"`,
    );
  if (at.getTime() <= now.getTime())
    throw new UsageError(`--expires ${text} is not in the future (now ${now.toISOString()})`);
  if (at.getTime() - now.getTime() > MAX_ACCEPT_DAYS * 86_400_000)
    throw new UsageError(
      `--expires ${text} is more than ${MAX_ACCEPT_DAYS} days away; accept findings for at most ${MAX_ACCEPT_DAYS}d and revisit them`,
    );
  return at;
}

/** `promote`: checks every rule, writes the pointer atomically and records the promotion. */
export async function promote(ws: Workspace, deps: Deps, opts: PromoteOptions): Promise<void> {
  const accepting = opts.acceptVulnerabilities !== undefined;
  const why = accepting ? "--accept-vulnerabilities" : "--force";
  if ((opts.force || accepting) && !hasVisibleText(opts.reason))
    throw new UsageError(`${why} needs --reason "..." with visible text (it is recorded in the history)`);
  if (opts.reason !== undefined && !opts.force && !accepting)
    throw new UsageError(
      "--reason goes with --force or --accept-vulnerabilities on promote; to say why in other cases, use the commit message",
    );
  if (!accepting && opts.expires !== undefined) throw new UsageError("--expires goes with --accept-vulnerabilities");
  const acceptIds = [...new Set(opts.acceptVulnerabilities ?? [])];
  if (accepting && acceptIds.length === 0)
    throw new UsageError(
      "--accept-vulnerabilities names no finding: give ids such as CVE-2024-3094,GHSA-xxxx-xxxx-xxxx",
    );
  const badIds = acceptIds.filter((id) => !FINDING_ID.test(id));
  if (badIds.length > 0)
    throw new UsageError(
      `--accept-vulnerabilities: ${badIds.map((i) => JSON.stringify(i)).join(", ")} ${badIds.length > 1 ? "are not finding ids" : "is not a finding id"} (CVE-2024-3094, GHSA-...)`,
    );
  checkReason(opts.reason);
  await withStagePointer(
    ws,
    deps,
    opts.stage,
    "promote",
    opts.expectCurrent,
    async ({ stage, now, actor, before, history, view }) => {
      const expires = accepting ? acceptanceExpiry(opts.expires, now) : undefined;
      const release = ws.releases.get(opts.release ?? candidate(ws, stage, history, now));
      const next = nextPointer(stage, before, release, deps);
      if (!next) return;
      const images = next.images;
      const scansOf = (d: string) => ws.scans.scansOf(d);
      const accepted = new Set(acceptIds);
      if (accepting) {
        if (!stage.vulnerabilities)
          throw new UsageError(`stage ${stage.name} has no vulnerability gate; there is nothing to accept`);
        const listed = new Set(
          vulnerabilityProblems(stage, release, scansOf, now).verdicts.flatMap(
            (v) => v.scan?.top.map((f) => f.id) ?? [],
          ),
        );
        const unknown = acceptIds.filter((id) => !listed.has(id));
        if (unknown.length > 0)
          throw new UsageError(
            `--accept-vulnerabilities: ${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not among the findings of the scans release ${release.id} is judged on (${[...listed].join(", ") || "none"}); nothing written`,
          );
      }
      const gate = vulnerabilityProblems(stage, release, scansOf, now, accepted);
      const problems = [
        ...promotionProblems(stage, release.id, history, now, actor),
        ...admissionProblems(ws, stage, release.images),
        ...gate.problems,
      ];
      const blocking = problems.filter((p) => !p.overridable || !opts.force);
      if (blocking.length > 0)
        throw refusal(
          stage,
          release.id,
          blocking,
          problems.some((p) => p.overridable) && !opts.force,
          gate.verdicts.some((v) => v.scan && v.problems.length > 0),
          opts.force,
        );
      const upstream =
        stage.from.find((up) => releaseInStage(history, up, release.id, now).verifiedSince) ?? stage.from[0];
      const sourceRegistry = upstream ? ws.stages.get(upstream).registry : undefined;
      const copied = await ensureInRegistry(stage, release, sourceRegistry, opts.copy ?? false, deps);
      const record: NewRecord = {
        kind: "promotion",
        stage: stage.name,
        release: release.id,
        at: now.toISOString(),
        by: actor,
        ...(opts.force || accepting ? { reason: opts.reason } : {}),
        from: before.pointer?.id ?? null,
        upstream: stage.from.filter((up) => releaseInStage(history, up, release.id, now).verifiedSince),
        before: before.pointer?.images ?? {},
        images,
        ...(opts.force ? { overridden: problems.map((p) => ({ rule: p.rule, message: p.message })) } : {}),
        ...(copied.length ? { copied } : {}),
        ...(accepting ? { accepted: { ids: acceptIds, expires: expires!.toISOString() } } : {}),
        ...(gate.verdicts.length
          ? {
              scans: Object.fromEntries(
                gate.verdicts
                  .filter((v) => v.scan)
                  .map((v) => [
                    v.image,
                    {
                      digest: v.digest,
                      report: v.scan!.report.sha256,
                      format: v.scan!.format,
                      ...(v.scan!.scannedAt ? { scannedAt: v.scan!.scannedAt } : {}),
                      summary: summaryHash(v.scan!),
                    },
                  ]),
              ),
            }
          : {}),
      };
      commit(ws, deps, stage, before, next, record, view);
      if (opts.force && problems.length > 0)
        deps.out(`override recorded (${problems.map((p) => p.rule).join(", ")}): ${opts.reason}`);
      if (accepting)
        deps.out(
          `accepted findings recorded, until ${expires!.toISOString()}: ${acceptIds.join(", ")}: ${opts.reason}`,
        );
    },
  );
}

/** What a command that moves a stage's pointer works with, read under the stage's lock. */
interface PointerContext {
  readonly stage: Stage;
  readonly now: Date;
  readonly actor: string;
  readonly before: StackPointer;
  readonly history: HistoryRecord[];
  /** The history as read under the lock, for appending to it. */
  readonly view: HistoryView;
}

/** Runs `body` holding the stage's lock, with the pointer as it is now (checked against `--expect-current`). */
async function withStagePointer(
  ws: Workspace,
  deps: Deps,
  stageName: string,
  verb: string,
  expectCurrent: string | undefined,
  body: (ctx: PointerContext) => Promise<void>,
): Promise<void> {
  const stage = ws.stages.get(stageName);
  await withStageLock(ws, deps, stage, `${verb} ${stage.name}`, async (now, actor, view) => {
    requireIntact(ws, stage, view, [stage.name, ...stage.from]);
    const before = readPointer(stageFile(ws, stage), stage.name, ws.lane);
    checkExpected(stage, before, expectCurrent);
    await body({ stage, now, actor, before, history: [...view.records], view });
  });
}

/** The longest actor a record keeps (the history schema's limit). */
const MAX_ACTOR = 300;

/** The longest `--reason` a record keeps (the history schema's limit). */
const MAX_REASON = 2000;

/** Whether a text has something to read once format characters (Unicode Cf: zero-width spaces, joiners, direction marks) and spaces are taken out. */
export function hasVisibleText(text: string | undefined): boolean {
  return text !== undefined && /\S/u.test(text.replace(/\p{Cf}/gu, ""));
}

function checkReason(reason: string | undefined): void {
  if (reason === undefined) return;
  if (!hasVisibleText(reason))
    throw new UsageError(
      "--reason has no visible text (spaces and invisible format characters do not count): say why, in words",
    );
  if (reason.length > MAX_REASON)
    throw new UsageError(`--reason is ${reason.length} characters; at most ${MAX_REASON} are recorded`);
}

/** Runs `body` holding the stage's lock (one command per stage at a time), reporting a takeover of a stale lock. */
async function withStageLock<T>(
  ws: Workspace,
  deps: Deps,
  stage: Stage,
  command: string,
  body: (now: Date, actor: string, view: HistoryView) => Promise<T> | T,
): Promise<T> {
  const now = deps.now();
  const actor = normaliseActor(deps.actor());
  if (actor.length > MAX_ACTOR)
    throw new UsageError(
      `the actor "${actor.slice(0, 40)}..." is ${actor.length} characters; at most ${MAX_ACTOR} are recorded (${ACTOR_ENV} or git config user.name/user.email)`,
    );
  const lock = lockStage(ws.locksDir, ws.lane, stage.name, now, actor, command);
  if (lock.tookOver) deps.out(lock.tookOver);
  try {
    return await body(now, actor, ws.history.read());
  } finally {
    lock.release();
  }
}

/** Refuses while the chain of any of `stages` is broken, naming each broken record and its repair. */
function requireIntact(ws: Workspace, stage: Stage, view: HistoryView, stages: readonly string[]): void {
  const problems = view.problems.filter((p) => stages.includes(p.chain));
  if (problems.length > 0) {
    throw new Refusal(
      stage.name,
      "history",
      `the history of ${[...new Set(problems.map((p) => p.chain))].join(", ")} is broken, so it cannot be trusted; nothing written:\n  - ${describeProblems(problems, (f) => shown(ws, f)).join("\n  - ")}`,
    );
  }
}

/** The pointer naming `release`, or undefined (and a note) when the stage already runs it. */
function nextPointer(stage: Stage, before: StackPointer, release: Release, deps: Deps): ReleaseConfig | undefined {
  const next: ReleaseConfig = { id: release.id, images: { ...release.images } };
  if (samePointer(before.pointer, next)) {
    deps.out(`${stage.name} already runs release ${release.id}; nothing written`);
    return undefined;
  }
  checkAppImages(stage, before, release);
  return next;
}

/** Options of {@link rollback}. */
export interface RollbackOptions {
  readonly stage: string;
  /** Default: the latest earlier release verified in the stage. */
  readonly to?: string;
  readonly reason?: string;
  readonly copy?: boolean;
  readonly expectCurrent?: string;
}

/** `rollback`: returns a stage to a release that was verified there (no upstream, soak or approval gate). */
export async function rollback(ws: Workspace, deps: Deps, opts: RollbackOptions): Promise<void> {
  checkReason(opts.reason);
  await withStagePointer(
    ws,
    deps,
    opts.stage,
    "rollback",
    opts.expectCurrent,
    async ({ stage, now, actor, before, history, view }) => {
      const current = before.pointer?.id;
      const verified = verifiedReleases(history, stage.name, now);
      let target: string;
      if (opts.to) {
        ws.releases.get(opts.to, "--to");
        if (!releaseInStage(history, stage.name, opts.to, now).verifiedSince) {
          throw new Refusal(
            stage.name,
            "rollback",
            `release ${opts.to} was never verified in this stage, so it cannot be a rollback target (verified here: ${verified.join(", ") || "none"}); a new release goes through promote`,
          );
        }
        target = opts.to;
      } else {
        const deployed = history
          .filter((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"))
          .map((r) => r.release)
          .reverse();
        const found = deployed.find((id) => id !== current && verified.includes(id));
        if (!found)
          throw new Refusal(
            stage.name,
            "rollback",
            `no earlier release was verified in this stage (current: ${current ?? "none"}; verified here: ${verified.join(", ") || "none"})`,
          );
        target = found;
      }
      const release = ws.releases.get(target, "--to");
      const next = nextPointer(stage, before, release, deps);
      if (!next) return;
      const images = next.images;
      const copied = await ensureInRegistry(stage, release, undefined, opts.copy ?? false, deps);
      commit(
        ws,
        deps,
        stage,
        before,
        next,
        {
          kind: "rollback",
          stage: stage.name,
          release: release.id,
          at: now.toISOString(),
          by: actor,
          ...(opts.reason ? { reason: opts.reason } : {}),
          from: current ?? null,
          before: before.pointer?.images ?? {},
          images,
          ...(copied.length ? { copied } : {}),
        },
        view,
      );
    },
  );
}

/** `approve`: records one person's approval of a release for a stage that requires approvals. */
export async function approve(
  ws: Workspace,
  deps: Deps,
  opts: { stage: string; release: string; reason?: string },
): Promise<void> {
  const stage = ws.stages.get(opts.stage);
  if (stage.approvals === 0)
    throw new Refusal(
      stage.name,
      "approval",
      `does not require approvals (${shown(ws, ws.stages.file)}: ${settingKey(stage, "approvals")} is 0); nothing recorded`,
    );
  const release = ws.releases.get(opts.release);
  checkReason(opts.reason);
  await withStageLock(ws, deps, stage, `approve ${stage.name}`, (now, actor, view) => {
    requireIntact(ws, stage, view, [stage.name]);
    const approvals = view.records.filter(
      (r) => r.kind === "approval" && r.stage === stage.name && r.release === release.id,
    );
    if (approvals.some((r) => actorKey(r.by) === actorKey(actor))) {
      deps.out(`${actor} already approved release ${release.id} for ${stage.name}; nothing recorded`);
      return;
    }
    const file = ws.history.append(
      {
        kind: "approval",
        stage: stage.name,
        release: release.id,
        at: now.toISOString(),
        by: actor,
        ...(opts.reason ? { reason: opts.reason } : {}),
      },
      view,
    );
    deps.out(`approved release ${release.id} for ${stage.name}, recorded ${shown(ws, file)}`);
    deps.out(`  approvals: ${approvalCount([...approvals.map((r) => r.by), actor], stage.approvals, actor)}`);
  });
}

/**
 * "1 of 1 required, 0 from someone other than the promoter": distinct approvers counted up to the
 * number required (never "2 of 1"), and how many would still count if `promoter` promotes (four eyes:
 * the promoter's own approval never counts), with a warning when that is too few.
 */
export function approvalCount(approvers: readonly string[], required: number, promoter: string): string {
  const people = new Set(approvers.map(actorKey));
  const others = [...people].filter((p) => p !== actorKey(promoter)).length;
  const base = `${Math.min(people.size, required)} of ${required} required, ${Math.min(others, required)} from someone other than the promoter if ${promoter} promotes`;
  return others >= required
    ? base
    : `${base}: the promoter's own approval never counts, so ${people.has(actorKey(promoter)) ? "someone else must promote, or " : ""}${required - others} more approval(s) from others are needed`;
}

/** `verify`: checks that evidence comes from the stage, compares it with the stage's release, and records the result. */
export async function verify(
  ws: Workspace,
  deps: Deps,
  opts: { stage: string; sources: readonly EvidenceSource[] },
): Promise<void> {
  const stage = ws.stages.get(opts.stage);
  if (opts.sources.length === 0)
    throw new UsageError(
      `verify ${stage.name}: give at least one evidence source: --outputs FILE, --pods FILE or --live`,
    );
  if (opts.sources.length > 10)
    throw new UsageError(`verify ${stage.name}: at most 10 evidence sources, got ${opts.sources.length}`);
  const file = stageFile(ws, stage);
  const stackFile = readPointer(file, stage.name, ws.lane);
  const { pointer } = stackFile;
  if (!pointer?.id)
    throw new Refusal(
      stage.name,
      "verify",
      `${shown(ws, file)}: blueprint:release has no id, so there is no release to verify; promote one first`,
    );
  if (!ws.releases.has(pointer.id)) {
    throw new Refusal(
      stage.name,
      "immutable-release",
      `${shown(ws, file)}: blueprint:release.id is ${pointer.id}, but ${shown(ws, ws.releases.file(pointer.id))} does not exist (a release in use must not be deleted)`,
    );
  }
  const release = ws.releases.get(pointer.id);
  if (!samePointer(pointer, { id: release.id, images: release.images })) {
    throw new Refusal(
      stage.name,
      "digest-only",
      `${shown(ws, file)}: blueprint:release.images differ from release ${release.id} (${imageDiff(pointer.images, release.images).join("; ")}); the pointer is only written by promote and rollback`,
    );
  }
  const expected: Expected = {
    stage: stage.name,
    stack: stage.stack,
    cluster: expectedCluster(ws, stage),
    stageOfStack: new Map(
      [...ws.stackOwners].map(([stack, o]) => [stack, o.lane === ws.lane ? o.stage : `${o.stage} of lane ${o.lane}`]),
    ),
    releaseId: release.id,
    refs: [...new Set([...Object.values(release.images), ...Object.values(pulledImages(stage, release))])],
    apps: Object.keys(stackFile.appImages),
  };
  const summaries: EvidenceSummary[] = [];
  const problems: string[] = [];
  for (const source of opts.sources) {
    let observation;
    try {
      observation = await source.read();
    } catch (e) {
      if (e instanceof SourceUnavailable)
        throw new Refusal(stage.name, "evidence", `${e.message}. Nothing was recorded`);
      throw e;
    }
    const checked = checkEvidence(observation, expected);
    summaries.push(checked.summary);
    problems.push(...checked.problems);
  }
  const recorded = await withStageLock(ws, deps, stage, `verify ${stage.name}`, (now, actor, view) => {
    requireIntact(ws, stage, view, [stage.name]);
    const placed = [...view.records]
      .reverse()
      .find((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"));
    if (placed?.release !== release.id) {
      throw new Refusal(
        stage.name,
        "verify",
        `${shown(ws, file)} names release ${release.id}, but the history of ${stage.name} does not show it put there (last: ${placed ? `${placed.kind} of ${placed.release}` : "none"}): the stack file was edited by hand, or the promotion did not complete. Run npm run promote -- ${stage.name}${laneArg(stage)} --release ${release.id}; nothing recorded`,
      );
    }
    return ws.history.append(
      {
        kind: "verification",
        stage: stage.name,
        release: release.id,
        at: now.toISOString(),
        by: actor,
        result: problems.length ? "failed" : "passed",
        evidence: summaries,
        problems: boundedProblems(problems),
        problemCount: problems.length,
      },
      view,
    );
  });
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_PROBLEMS);
    throw new Refusal(
      stage.name,
      "evidence",
      `what runs does not match release ${release.id}:\n  - ${listed.join("\n  - ")}${problems.length > listed.length ? `\n  (and ${problems.length - listed.length} more)` : ""}\nrecorded as a failed verification: ${shown(ws, recorded)}`,
    );
  }
  deps.out(
    `verified ${stage.name}: release ${release.id} (${summaries.map((s) => s.source).join(", ")}), recorded ${shown(ws, recorded)}`,
  );
  for (const down of ws.stages.downstream(stage.name)) {
    deps.out(
      `next: npm run promote -- ${down.name}${laneArg(down)}${down.soak ? `  (after the ${down.soak} soak)` : ""}${down.approvals ? `  (needs ${down.approvals} approval(s): npm run approve -- ${down.name}${laneArg(down)} --release ${release.id})` : ""}`,
    );
  }
}

/**
 * The references a stage pulls for a release: with a registry mapping, `<registry>/<path>@<same
 * digest>` (the cluster's mirror resolves them at deploy time); without one, the release's own.
 * The pointer always holds the release's references, so every stage's stack file names the same bytes.
 */
export function pulledImages(stage: Stage, release: Release): Record<string, string> {
  const images: Record<string, string> = {};
  for (const [name, ref] of Object.entries(release.images)) {
    const mapped = mapImage(ref, stage.registry);
    if (mapped.slice(mapped.indexOf("@")) !== ref.slice(ref.indexOf("@"))) {
      throw new Refusal(
        stage.name,
        "digest-only",
        `image ${name}: ${mapped} does not carry the release digest of ${ref}`,
      );
    }
    images[name] = mapped;
  }
  return images;
}

/**
 * The cluster a lane's stage deploys to, as its stack's `cluster` output names it: the cluster of the
 * environment's platform stack (`<project>-<environment>` unless named). Undefined when the platform
 * stack file is not here (then the outputs' stack name is what ties them to the stage).
 */
export function expectedCluster(ws: Workspace, stage: Stage): string | undefined {
  const file = platformFile(ws, stage);
  if (!fs.existsSync(file)) return undefined;
  return clusterIdentity(readPointer(file, stage.name).cluster, ws.project, stage.environment);
}

function checkExpected(stage: Stage, before: StackPointer, expect: string | undefined): void {
  if (expect === undefined) return;
  const current = before.pointer?.id ?? "none";
  if (current !== expect) {
    throw new Refusal(
      stage.name,
      "concurrent",
      `--expect-current ${expect}, but ${before.file} names release ${current}: another promotion got there first; nothing written`,
    );
  }
}

function checkAppImages(stage: Stage, before: StackPointer, release: Release): void {
  const missing = Object.entries(before.appImages).filter(([, image]) => !(image in release.images));
  if (missing.length > 0) {
    throw new Refusal(
      stage.name,
      "images",
      `release ${release.id} has no image ${missing.map(([app, image]) => `"${image}" (used by blueprint:apps.${app}.image)`).join(", ")}; its images: ${Object.keys(release.images).join(", ")}`,
    );
  }
}

function candidate(ws: Workspace, stage: Stage, history: readonly HistoryRecord[], now: Date): string {
  if (stage.from.length === 0) {
    throw new UsageError(
      `stage ${stage.name} has no upstream stage in ${shown(ws, ws.stages.file)}: give --release ID (as printed by \`npm run release -- create\`)`,
    );
  }
  const ids = [
    ...new Set(
      stage.from
        .map((up) => readPointer(stageFile(ws, ws.stages.get(up)), up, ws.lane).pointer?.id)
        .filter((id): id is string => !!id),
    ),
  ];
  if (ids.length === 0)
    throw new Refusal(stage.name, "order", `nothing to promote: upstream ${stage.from.join(", ")} has no release yet`);
  if (ids.length === 1) return ids[0];
  const ready = ids.filter((id) => promotionProblems(stage, id, history, now).every((p) => p.rule === "approval"));
  if (ready.length === 1) return ready[0];
  throw new UsageError(
    `stage ${stage.name}: upstream stages run different releases (${ids.join(", ")}); give --release ID`,
  );
}

/** What `--force` sets aside, in the refusal hint and `promote --help`. */
export const FORCE_SETS_ASIDE =
  '--force --reason "..." sets aside order, verification and soak (recorded); approvals, the registry and the vulnerability gate cannot be forced';

function refusal(
  stage: Stage,
  release: string,
  problems: readonly Problem[],
  forceable: boolean,
  acceptable = false,
  forced = false,
): Refusal {
  const hint =
    (forceable
      ? `\n${FORCE_SETS_ASIDE}`
      : forced
        ? "\n--force was given, but it sets aside only order, verification and soak; approvals, the registry and the vulnerability gate cannot be forced"
        : "") +
    (acceptable
      ? `\nto let named findings through: --accept-vulnerabilities <ids> --reason "..." --expires <date | duration, at most ${MAX_ACCEPT_DAYS}d> (recorded, shown by status)`
      : "");
  return new Refusal(
    stage.name,
    problems[0].rule,
    `promotion of release ${release} refused:\n  - [${problems.map((p) => `${p.rule}] ${p.message}`).join("\n  - [")}${hint}`,
  );
}

/**
 * With a registry mapping, every image must be in the stage's registry with the same digest. Missing
 * ones are copied by digest when `copy` is set; otherwise the refusal prints the exact commands.
 */
async function ensureInRegistry(
  stage: Stage,
  release: Release,
  sourceRegistry: string | undefined,
  copy: boolean,
  deps: Deps,
): Promise<{ from: string; to: string }[]> {
  if (!stage.registry) return [];
  const images = pulledImages(stage, release);
  const copied: { from: string; to: string }[] = [];
  const missing: { from: string; to: string }[] = [];
  for (const [name, target] of Object.entries(images)) {
    const from = mapImage(release.images[name], sourceRegistry);
    try {
      if (await deps.registry.has(target)) continue;
      if (!copy) {
        missing.push({ from, to: target });
        continue;
      }
      deps.out(`copying ${from} -> ${target}`);
      await deps.registry.copy(from, target);
      copied.push({ from, to: target });
    } catch (e) {
      if (e instanceof RegistryError)
        throw new Refusal(
          stage.name,
          "registry",
          `cannot check image ${name} in the stage's registry ${stage.registry}: ${e.message}`,
        );
      if (e instanceof Refusal && !e.stage) throw new Refusal(stage.name, e.rule, e.message);
      throw e;
    }
  }
  if (missing.length > 0) {
    throw new Refusal(
      stage.name,
      "registry",
      `the stage pulls from ${stage.registry}, which does not have ${missing.map((m) => m.to).join(", ")}. Copy by digest (or re-run with --copy):\n  ${missing.map((m) => deps.registry.copyCommand(m.from, m.to)).join("\n  ")}`,
    );
  }
  return copied;
}

/** Appends the record, then swaps the pointer (compare-and-swap), then prints the image diff. */
function commit(
  ws: Workspace,
  deps: Deps,
  stage: Stage,
  before: StackPointer,
  next: ReleaseConfig,
  record: NewRecord,
  view: HistoryView,
): void {
  const again = readPointer(before.file, stage.name, ws.lane);
  if (!samePointer(again.pointer, before.pointer)) {
    throw new Refusal(
      stage.name,
      "concurrent",
      `${shown(ws, before.file)}: blueprint:release changed while this command ran (was ${before.pointer?.id ?? "none"}, now ${again.pointer?.id ?? "none"}); nothing written`,
    );
  }
  const recorded = ws.history.append(record, view);
  writePointer(before.file, stage.name, before.pointer, next, ws.lane);
  const verb = record.kind === "rollback" ? "rolled back" : "promoted";
  deps.out(`${verb} ${stage.name}: ${before.pointer?.id ?? "(no release)"} -> ${next.id}   ${shown(ws, before.file)}`);
  for (const line of imageDiff(before.pointer?.images ?? {}, next.images)) deps.out(`  ${line}`);
  deps.out(`recorded ${shown(ws, recorded)}`);
  deps.out(`next: pulumi up -s ${stage.stack}`);
  deps.out(
    `then: pulumi stack output --json -s ${stage.stack} > ${stage.name}-outputs.json && npm run verify -- ${stage.name}${laneArg(stage)} --outputs ${stage.name}-outputs.json`,
  );
}

/** `image <name>: old -> new` lines, one per image name in either pointer. */
export function imageDiff(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.map((n) => {
    const a = before[n],
      b = after[n];
    if (a === b) return `image ${n}: unchanged ${a}`;
    return `image ${n}: ${a ?? "(none)"} -> ${b ?? "(removed)"}`;
  });
}
