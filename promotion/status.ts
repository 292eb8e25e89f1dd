import * as fs from "node:fs";
import * as path from "node:path";
import { admissionProblems } from "./admission";
import { pulledImages } from "./commands";
import { Refusal, UsageError } from "./errors";
import { describeProblems, type HistoryRecord } from "./history";
import { readPointer as readPointerFile, samePointer, type StackPointer } from "./pointer";
import { fileIdentity, ReadCache } from "./readcache";
import { mapImage, RegistryError, type Registry } from "./registry";
import { promotionProblems, releaseInStage, vulnerabilityProblems, type Problem, type ReleaseInStage } from "./rules";
import { describeGate } from "./scan/gate";
import { laneArg, type Stage } from "./stages";
import { shown, stageFile, type Deps, type Project, type Workspace } from "./workspace";

/** How long `status` waits for a registry: it reports, so a slow registry must not hold it up long. */
const STATUS_REGISTRY_TIMEOUT_MS = 15_000;

/** The widest status line when the output is not a terminal. */
export const STATUS_WIDTH = 100;

/** The status report: text, and whether the history is broken (then `status` exits 1). */
export interface StatusReport {
  readonly lines: readonly string[];
  readonly broken: boolean;
}

const time = (iso: string | Date) => (typeof iso === "string" ? iso : iso.toISOString()).slice(0, 16).replace("T", " ");
const short = (ref: string) => {
  const at = ref.indexOf("@");
  return at >= 0 ? ref.slice(at + 1, at + 8 + 12) : ref;
};
const who = (by: string) => by.replace(/ <.*>$/, "");

/**
 * Stack files as `status` read them: each is parsed once per report, however many stages and lanes
 * look at it, and not again in later reports while it keeps its identity (see ReadCache).
 */
const pointers = new Map<string, StackPointer | Refusal>();
let stackCache: ReadCache<PointerEntry> | undefined;

/** What the read cache keeps of a team stack file that reads as its lane's. */
type PointerEntry = Omit<StackPointer, "file"> & { readonly lane: string };

function isPointerEntry(v: unknown): v is PointerEntry {
  const e = v as Record<string, unknown> | null;
  return (
    e !== null &&
    typeof e === "object" &&
    typeof e.lane === "string" &&
    (e.pointer === undefined || (e.pointer !== null && typeof e.pointer === "object")) &&
    e.appImages !== null &&
    typeof e.appImages === "object" &&
    (e.cluster === undefined || (e.cluster !== null && typeof e.cluster === "object"))
  );
}

function readPointer(file: string, stage: string, lane: string): StackPointer {
  let got = pointers.get(file);
  if (got === undefined) {
    const id = stackCache && fs.existsSync(file) ? fileIdentity(file) : undefined;
    const hit = id && stackCache?.get(path.basename(file), id);
    if (hit && hit.lane === lane) {
      got = { file, pointer: hit.pointer, appImages: hit.appImages, cluster: hit.cluster };
    } else {
      try {
        got = readPointerFile(file, stage, lane);
        if (id)
          stackCache?.set(path.basename(file), id, {
            lane,
            pointer: got.pointer,
            appImages: got.appImages,
            cluster: got.cluster,
          });
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        got = e;
      }
    }
    pointers.set(file, got);
  }
  if (got instanceof Refusal) throw got;
  return got;
}

/** Marks of the lanes-by-stages matrix. */
const MARK = { verified: "✓", failed: "✗", unverified: "?", none: "-" } as const;
const LEGEND = `${MARK.verified} verified  ${MARK.failed} last verification failed  ${MARK.unverified} not verified  ${MARK.none} no release`;

/** What `status` knows of one stage of one lane: the data every renderer (the text here, or a view beside it) reads. */
export interface StageStatus {
  readonly stage: Stage;
  /** The stage's gates in a few words each (`from dev`, `soak 1h`, `1 approval(s)`, ...). */
  readonly gates: readonly string[];
  /** The lane's stack file of the stage (relative to the project). */
  readonly stackFile: string;
  /** `missing`: the lane has no stack file here; `unreadable`: it does not read as the lane's (see `unreadable`). */
  readonly mark: "verified" | "failed" | "unverified" | "none" | "missing" | "unreadable";
  readonly unreadable?: string;
  /** The release the stage runs, as its stack file names it. */
  readonly release?: string;
  /** The promotion or rollback record that put it there, when it is the stage's last one. */
  readonly placed?: {
    readonly kind: "promotion" | "rollback";
    readonly at: string;
    readonly by: string;
    readonly overridden: readonly string[];
  };
  /** The verification state of `release` in the stage. */
  readonly verification?: ReleaseInStage;
  /** Image name -> reference, as the stack file names them. */
  readonly images: Readonly<Record<string, string>>;
  /** What a reader should know: a pointer write that did not complete, a missing release file, ... */
  readonly notes: readonly string[];
  /** For a gated stage: the scan each image of `release` is judged on, and how many of its findings are of unknown severity. */
  readonly scans: readonly {
    readonly image: string;
    readonly format: string;
    readonly scannedAt?: string;
    readonly unknown: number;
  }[];
  /** A summary the gate cannot read (edited, moved), instead of `scans`. */
  readonly scanProblem?: string;
  /** Findings the promotion of `release` accepted, while the newest scans still need that. */
  readonly accepted?: {
    readonly ids: readonly string[];
    readonly by: string;
    readonly expires: string;
    readonly expired: boolean;
    readonly reason: string;
  };
  /** Each release an upstream stage runs that this one does not, with every rule that blocks it (none: ready). */
  readonly waiting: readonly { readonly release: string; readonly problems: readonly Problem[] }[];
}

/** What `status` knows of one lane. */
export interface LaneStatus {
  readonly name: string;
  /** Why the lane cannot be read at all (then `stages` is empty). */
  readonly error?: string;
  /** Stages whose environment has no team stack file of this lane (a team left out of an environment). */
  readonly missing: readonly string[];
  /** Broken records of the lane's history, each with its repair. */
  readonly historyProblems: readonly string[];
  readonly stages: readonly StageStatus[];
}

/** Everything `status` reports, before any formatting. */
export interface StatusData {
  /** Every stage of the project, in order (the matrix's columns). */
  readonly stages: readonly Stage[];
  readonly lanes: readonly LaneStatus[];
  /** Folders under releases/, history/ or scans/ that are no lane's. */
  readonly strays: readonly string[];
  /** Whether a history is broken or a lane unreadable (status exits 1). */
  readonly broken: boolean;
  /** The stages file, for messages. */
  readonly stagesFile: string;
}

/**
 * What `status` computes, per lane and stage, as data: what runs where, whether it is verified, who
 * put it there, what the gates say, and what waits with every rule that blocks it. With `lane`, only
 * that lane. The text report ({@link statusReport}) renders it; other views can too.
 */
export async function statusData(project: Project, deps: Deps, now: Date, lane?: string): Promise<StatusData> {
  pointers.clear();
  stackCache = ReadCache.load(path.join(project.stacksDir, "history", ".cache", "stacks.json"), isPointerEntry);
  try {
    const done = await collect(project, deps, now, lane);
    stackCache.save();
    return done;
  } finally {
    pointers.clear();
    stackCache = undefined;
  }
}

async function collect(project: Project, deps: Deps, now: Date, lane?: string): Promise<StatusData> {
  const registry = memoRegistry(deps);
  const lanes: LaneStatus[] = [];
  let broken = false;
  for (const name of lane !== undefined ? [lane] : project.lanes) {
    let opened: { ws: Workspace; missing: readonly Stage[] };
    try {
      opened = project.laneForStatus(name);
    } catch (e) {
      if (!(e instanceof UsageError) || lane !== undefined) throw e;
      lanes.push({ name, error: e.message, missing: [], historyProblems: [], stages: [] });
      broken = true;
      continue;
    }
    const { ws, missing } = opened;
    const view = ws.history.read(ws.readCache);
    const historyProblems = describeProblems(view.problems, (f) => shown(ws, f));
    if (historyProblems.length > 0) broken = true;
    const stages: StageStatus[] = [];
    for (const stage of ws.stages.ordered) stages.push(await stageStatus(ws, registry, stage, view.records, now));
    lanes.push({ name, missing: missing.map((s) => s.name), historyProblems, stages });
  }
  const strays: string[] = [];
  if (lane === undefined) {
    for (const kind of ["releases", "history", "scans"]) {
      const dir = path.join(project.stacksDir, kind);
      for (const f of fs.existsSync(dir)
        ? fs.readdirSync(dir).filter((x) => !x.startsWith(".") && !project.lanes.includes(x))
        : [])
        strays.push(shown(project, path.join(dir, f)));
    }
  }
  return { stages: project.stages.ordered, lanes, strays, broken, stagesFile: shown(project, project.stages.file) };
}

async function stageStatus(
  ws: Workspace,
  deps: Deps,
  stage: Stage,
  history: readonly HistoryRecord[],
  now: Date,
): Promise<StageStatus> {
  const file = stageFile(ws, stage);
  const base = { stage, gates: stageRules(stage), stackFile: shown(ws, file), images: {}, notes: [], scans: [] };
  if (!fs.existsSync(file)) return { ...base, mark: "missing", waiting: [] };
  let stack: StackPointer;
  try {
    stack = readPointer(file, stage.name, ws.lane);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    return { ...base, mark: "unreadable", unreadable: e.message, waiting: [] };
  }
  const id = stack.pointer?.id;
  const notes: string[] = [];
  const last = [...history]
    .reverse()
    .find((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"));
  const placed =
    last && last.release === id && (last.kind === "promotion" || last.kind === "rollback")
      ? {
          kind: last.kind,
          at: last.at,
          by: last.by,
          overridden: last.kind === "promotion" ? (last.overridden ?? []).map((o) => o.rule) : [],
        }
      : undefined;
  if (last && last.release !== id)
    notes.push(
      `the last ${last.kind} record (${last.release} at ${last.at}) is not what ${shown(ws, file)} names (${id ?? "no release"}): the pointer write did not complete, or the file was edited; re-run the ${last.kind}`,
    );
  let verification: ReleaseInStage | undefined;
  let gate: Pick<StageStatus, "scans" | "scanProblem" | "accepted"> = { scans: [] };
  if (id) {
    if (!ws.releases.has(id))
      notes.push(`release ${id} has no file ${shown(ws, ws.releases.file(id))} (a release in use must not be deleted)`);
    else if (!samePointer(stack.pointer, { id, images: ws.releases.get(id).images }))
      notes.push(`the images in ${shown(ws, file)} differ from release ${id}`);
    verification = releaseInStage(history, stage.name, id, now);
    if (last?.kind === "promotion" && last.release === id) gate = gateOf(ws, stage, id, last, now);
  }
  const mark = !id
    ? "none"
    : verification?.verifiedSince
      ? "verified"
      : verification?.lastVerification?.result === "failed"
        ? "failed"
        : "unverified";
  return {
    ...base,
    mark,
    release: id,
    placed,
    verification,
    images: stack.pointer?.images ?? {},
    notes,
    ...gate,
    waiting: await waitingOf(ws, deps, stage, id, history, now),
  };
}

/**
 * What the gate of a stage says of the release it runs: per image, the scan it is judged on and how
 * many of its findings are of unknown severity; and findings its promotion accepted, for as long as
 * the newest scans still need that acceptance (a clean scan replaces it).
 */
function gateOf(
  ws: Workspace,
  stage: Stage,
  id: string,
  placed: Extract<HistoryRecord, { kind: "promotion" }>,
  now: Date,
): Pick<StageStatus, "scans" | "scanProblem" | "accepted"> {
  if (!stage.vulnerabilities || !ws.releases.has(id)) return { scans: [] };
  try {
    const { verdicts, problems } = vulnerabilityProblems(stage, ws.releases.get(id), (d) => ws.scans.scansOf(d), now);
    const scans = verdicts
      .filter((v) => v.scan)
      .map((v) => ({
        image: v.image,
        format: v.scan!.format,
        scannedAt: v.scan!.scannedAt,
        unknown: v.scan!.counts.unknown.total,
      }));
    const accepted =
      placed.accepted && problems.length > 0
        ? {
            ids: placed.accepted.ids,
            by: placed.by,
            expires: placed.accepted.expires,
            expired: Date.parse(placed.accepted.expires) <= now.getTime(),
            reason: placed.reason ?? "",
          }
        : undefined;
    return { scans, ...(accepted ? { accepted } : {}) };
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    return { scans: [], scanProblem: e.message };
  }
}

/** Each release an upstream stage runs that this one does not, with every rule that blocks it. */
async function waitingOf(
  ws: Workspace,
  deps: Deps,
  stage: Stage,
  current: string | undefined,
  history: readonly HistoryRecord[],
  now: Date,
): Promise<StageStatus["waiting"]> {
  const out: { release: string; problems: Problem[] }[] = [];
  for (const cand of upstreamCandidates(ws, stage, current)) {
    const problems: Problem[] = [
      ...promotionProblems(stage, cand, history, now),
      ...imageProblems(ws, stage, cand),
      ...(ws.releases.has(cand) ? admissionProblems(ws, stage, ws.releases.get(cand).images) : []),
      ...gateProblems(ws, stage, cand, now),
      ...(await registryProblems(ws, deps, stage, cand)),
    ];
    out.push({ release: cand, problems });
  }
  return out;
}

/**
 * Lanes by stages: a matrix of what each lane runs in each stage and whether it is verified, then
 * every release waiting to move with every rule that blocks it (the registry's included). With
 * `lane`, that lane in detail: one block per stage (what runs, who put it there and when, whether it
 * is verified since, its images, and what waits upstream). Breaks in a history come first. The text
 * rendering of {@link statusData}.
 */
export async function statusReport(project: Project, deps: Deps, now: Date, lane?: string): Promise<StatusReport> {
  const data = await statusData(project, deps, now, lane);
  return { lines: statusLines(data, lane !== undefined), broken: data.broken };
}

/** The text of {@link StatusData}: the matrix, then the waiting releases (or, with `detail`, the one lane's stages in detail). */
export function statusLines(data: StatusData, detail: boolean): string[] {
  const lines: string[] = [];
  for (const l of data.lanes) {
    if (l.error) lines.push(`LANE ${l.name} UNUSABLE: ${l.error}`);
    if (l.historyProblems.length > 0) {
      lines.push(
        `HISTORY OF LANE ${l.name} BROKEN: promote, rollback, approve and verify of lane ${l.name} refuse until it is repaired:`,
      );
      for (const p of l.historyProblems) lines.push(`  - ${p}`);
    }
  }
  for (const l of data.lanes) {
    const missing = l.stages.filter((s) => s.mark === "missing");
    if (missing.length > 0) {
      lines.push(
        `note: lane ${l.name} is incomplete: it has no team stack for ${missing.map((s) => `${s.stage.name} (${s.stackFile})`).join(", ")}; its commands refuse until it has one in every stage's environment: npm run team -- add ${l.name} --environments ${[...new Set(missing.map((s) => s.stage.environment))].join(",")} (docs/teams.md)`,
      );
    }
  }
  for (const f of data.strays)
    lines.push(
      `note: ${f} is not a lane's folder (lanes: ${data.lanes.map((l) => l.name).join(", ") || "none"}); nothing in it is read`,
    );
  if (lines.length > 0) lines.push("");
  if (data.lanes.length === 0) {
    lines.push(
      `no lane: no team stack file (stacks/Pulumi.<environment>.<team>.yaml) for the environments of ${data.stagesFile}`,
    );
    return lines;
  }
  lines.push(...matrix(data), "");
  if (detail) {
    for (const s of data.lanes[0].stages) lines.push(...block(s));
    return lines;
  }
  const waiting: string[] = [];
  for (const l of data.lanes) {
    for (const s of l.stages) {
      if (s.mark === "unreadable") {
        waiting.push(`${l.name} -> ${s.stage.name}: ${s.unreadable}`);
        continue;
      }
      const rows = waitingRows(s);
      if (rows.length > 0)
        waiting.push(`${l.name} -> ${s.stage.name}  (stack ${s.stage.stack}; ${s.gates.join("; ")})`, ...rows);
    }
  }
  lines.push(
    ...(waiting.length
      ? ["waiting:", ...waiting]
      : ["waiting: nothing (no upstream stage runs a release its downstream stage does not)"]),
  );
  lines.push("", `details of one lane: npm run status -- --lane <team>`);
  return lines;
}

/** `lane  stage...` rows: each cell the release a lane's stage runs (r- and 8 hex) and its mark. */
function matrix(data: StatusData): string[] {
  const laneWidth = Math.max(4, ...data.lanes.map((l) => l.name.length));
  const width = Math.max(12, ...data.stages.map((s) => s.name.length));
  const row = (first: string, cells: readonly string[]) =>
    `${first.padEnd(laneWidth)}  ${cells.map((c) => c.padEnd(width)).join("  ")}`.trimEnd();
  const out = [
    row(
      "lane",
      data.stages.map((s) => s.name),
    ),
  ];
  for (const l of data.lanes) {
    if (l.error) {
      out.push(
        row(
          l.name,
          data.stages.map(() => "(unusable)"),
        ),
      );
      continue;
    }
    out.push(
      row(
        l.name,
        l.stages.map((s) =>
          s.mark === "missing"
            ? "(no stack)"
            : s.mark === "unreadable"
              ? "(unreadable)"
              : s.mark === "none"
                ? MARK.none
                : `${s.release!.slice(0, 10)} ${MARK[s.mark]}`,
        ),
      ),
    );
  }
  out.push(LEGEND);
  return out;
}

/** The stage's rules in words. */
export function stageRules(stage: Stage): string[] {
  return [
    stage.from.length ? `from ${stage.from.join(stage.require === "all" ? " + " : " | ")}` : "entry: CI",
    stage.soak ? `soak ${stage.soak}` : "",
    stage.approvals ? `${stage.approvals} approval(s)` : "",
    stage.registry ? `registry ${stage.registry}` : "",
    stage.vulnerabilities ? `vulnerabilities ${describeGate(stage.vulnerabilities)}` : "",
  ].filter(Boolean);
}

/** The registry as `status` asks it: each reference once per report, however many lanes pull it. */
function memoRegistry(deps: Deps): Deps {
  const seen = new Map<string, Promise<boolean>>();
  const registry: Registry = {
    has: (ref, timeoutMs) => {
      let p = seen.get(ref);
      if (!p) seen.set(ref, (p = deps.registry.has(ref, timeoutMs)));
      return p;
    },
    copy: (from, to) => deps.registry.copy(from, to),
    copyCommand: (from, to) => deps.registry.copyCommand(from, to),
  };
  return { ...deps, registry };
}

/** One stage of one lane in detail. */
function block(s: StageStatus): string[] {
  const out = [`${s.stage.name}  (stack ${s.stage.stack}; ${s.gates.join("; ")})`];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(9)} ${text}`);
  if (s.mark === "missing") row("release", `(no stack file: ${s.stackFile})`);
  else if (s.mark === "unreadable") row("release", `(unreadable) ${s.unreadable}`);
  else {
    const placed = s.placed
      ? `, ${s.placed.kind === "rollback" ? "rolled back to" : "promoted"} ${time(s.placed.at)} by ${who(s.placed.by)}${s.placed.overridden.length ? ` (override: ${s.placed.overridden.join(", ")})` : ""}`
      : s.release
        ? ", no record put it there"
        : "";
    row("release", `${s.release ?? "(none)"}${placed}`);
    for (const n of s.notes) row("note", n);
    const v = s.verification;
    if (s.release && v) {
      const since = v.placedAt
        ? ` (not since its ${v.placedBy === "rollback" ? "rollback" : "promotion"} ${time(v.placedAt)})`
        : "";
      row(
        "verified",
        v.verifiedSince
          ? `yes, ${time(v.verifiedSince)}`
          : v.lastVerification
            ? `FAILED ${time(v.lastVerification.at)}: ${v.lastVerification.problems[0] ?? ""}`
            : `no${since}: npm run verify -- ${s.stage.name}${laneArg(s.stage)} --outputs ${s.stage.name}-outputs.json`,
      );
      for (const i of v.ignored) row("ignored", `verification record ${i.seq} of ${s.stage.name}: ${i.why}`);
    }
    const images = Object.entries(s.images).map(([n, ref]) => `${n} ${short(ref)}`);
    if (images.length) row("images", images.join(", "));
    for (const scan of s.scans)
      row(
        "scan",
        `${scan.image}: ${scan.format}${scan.scannedAt ? ` of ${time(scan.scannedAt)}` : ""}; ${scan.unknown} finding(s) of unknown severity${scan.unknown ? ` (counted ${s.stage.vulnerabilities?.unknownAs ? `as ${s.stage.vulnerabilities.unknownAs}` : "against every limit"})` : ""}`,
      );
    if (s.scanProblem) row("scan", s.scanProblem);
    if (s.accepted)
      row(
        "accepted",
        `${s.accepted.ids.join(", ")} by ${who(s.accepted.by)} until ${time(s.accepted.expires)}${s.accepted.expired ? " (EXPIRED: scan a fixed image, or accept again)" : ""}: ${s.accepted.reason}`,
      );
  }
  out.push(...waitingRows(s));
  return out;
}

/** `waiting` rows: each release an upstream stage runs that this one does not, ready or with every rule that blocks it. */
function waitingRows(s: StageStatus): string[] {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(9)} ${text}`);
  for (const w of s.waiting) {
    if (w.problems.length === 0) {
      row("waiting", `${w.release}: ready: npm run promote -- ${s.stage.name}${laneArg(s.stage)}`);
      continue;
    }
    row("waiting", `${w.release}: blocked by ${[...new Set(w.problems.map((p) => p.rule))].join(", ")}`);
    for (const p of w.problems) row("", `- [${p.rule}] ${p.message}`);
  }
  return out;
}

/** Releases the upstream stages run that this stage does not. */
export function upstreamCandidates(ws: Workspace, stage: Stage, current: string | undefined): string[] {
  const ids = new Set<string>();
  for (const up of stage.from) {
    const upFile = stageFile(ws, ws.stages.get(up));
    if (!fs.existsSync(upFile)) continue;
    try {
      const upId = readPointer(upFile, up, ws.lane).pointer?.id;
      if (upId && upId !== current) ids.add(upId);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
    }
  }
  return [...ids];
}

/** Image names the stage's apps use that the release does not have. */
function imageProblems(ws: Workspace, stage: Stage, id: string): Problem[] {
  const file = stageFile(ws, stage);
  if (!ws.releases.has(id) || !fs.existsSync(file)) return [];
  const images = ws.releases.get(id).images;
  let appImages: Readonly<Record<string, string>>;
  try {
    appImages = readPointer(file, stage.name, ws.lane).appImages;
  } catch (e) {
    if (e instanceof Refusal) return [];
    throw e;
  }
  const missing = Object.entries(appImages).filter(([, image]) => !(image in images));
  return missing.length
    ? [
        {
          rule: "images",
          overridable: false,
          message: `release ${id} has no image ${missing.map(([app, image]) => `"${image}" (used by blueprint:apps.${app}.image)`).join(", ")}`,
        },
      ]
    : [];
}

/** Whether the stage's registry holds every image of the release (no check without a registry mapping). */
async function registryProblems(ws: Workspace, deps: Deps, stage: Stage, id: string): Promise<Problem[]> {
  if (!stage.registry || !ws.releases.has(id)) return [];
  const release = ws.releases.get(id);
  const problems: Problem[] = [];
  for (const [name, target] of Object.entries(pulledImages(stage, release))) {
    try {
      if (!(await deps.registry.has(target, STATUS_REGISTRY_TIMEOUT_MS))) {
        problems.push({
          rule: "registry",
          overridable: false,
          message: `${target} is not in ${stage.registry}: npm run promote -- ${stage.name}${laneArg(stage)} --copy, or ${deps.registry.copyCommand(mapImage(release.images[name], undefined), target)}`,
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

/** Lines cut to `width` columns: long lines wrap under their own indentation, long words are broken. */
export function fitWidth(lines: readonly string[], width: number): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line.length <= width) {
      out.push(line);
      continue;
    }
    const labelled = /^\s*(?:\S+\s+)?/.exec(line)![0];
    const lead = labelled.length <= width / 2 ? labelled : /^\s*/.exec(line)![0].slice(0, Math.floor(width / 2));
    const hang = " ".repeat(lead.length);
    let current = lead;
    let fresh = true;
    for (let word of line.slice(lead.length).split(" ").filter(Boolean)) {
      while (word.length > 0) {
        const sep = fresh ? "" : " ";
        if (current.length + sep.length + word.length <= width) {
          current += sep + word;
          fresh = false;
          break;
        }
        if (!fresh) {
          out.push(current);
          current = hang;
          fresh = true;
          continue;
        }
        const room = width - current.length;
        out.push(current + word.slice(0, room));
        word = word.slice(room);
        current = hang;
      }
    }
    if (!fresh) out.push(current);
  }
  return out;
}

/** The stage's vulnerability gate over a waiting release; a summary it cannot read is a problem of its own. */
function gateProblems(ws: Workspace, stage: Stage, id: string, now: Date): Problem[] {
  if (!stage.vulnerabilities || !ws.releases.has(id)) return [];
  try {
    return vulnerabilityProblems(stage, ws.releases.get(id), (d) => ws.scans.scansOf(d), now).problems;
  } catch (e) {
    if (e instanceof Refusal) return [{ rule: "vulnerabilities", overridable: false, message: e.message }];
    throw e;
  }
}
