import * as fs from "node:fs";
import * as path from "node:path";
import { admissionProblems } from "./admission";
import { pulledImages } from "./commands";
import { Refusal, UsageError } from "./errors";
import { describeProblems, type HistoryRecord, type HistoryView } from "./history";
import { readPointer as readPointerFile, samePointer, type StackPointer } from "./pointer";
import { fileIdentity, ReadCache } from "./readcache";
import { mapImage, RegistryError, type Registry } from "./registry";
import { promotionProblems, releaseInStage, vulnerabilityProblems, type Problem } from "./rules";
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
  return e !== null && typeof e === "object" && typeof e.lane === "string" && (e.pointer === undefined || (e.pointer !== null && typeof e.pointer === "object")) && e.appImages !== null && typeof e.appImages === "object" && (e.cluster === undefined || (e.cluster !== null && typeof e.cluster === "object"));
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
        if (id) stackCache?.set(path.basename(file), id, { lane, pointer: got.pointer, appImages: got.appImages, cluster: got.cluster });
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

/** A lane that could not be opened (a missing team stack file), or one that was. */
type LaneEntry = { readonly name: string; readonly ws?: Workspace; readonly error?: string };

/**
 * Lanes by stages: a matrix of what each lane runs in each stage and whether it is verified, then
 * every release waiting to move with every rule that blocks it (the registry's included). With
 * `lane`, that lane in detail: one block per stage (what runs, who put it there and when, whether it
 * is verified since, its images, and what waits upstream). Breaks in a history come first.
 */
export async function statusReport(project: Project, deps: Deps, now: Date, lane?: string): Promise<StatusReport> {
  pointers.clear();
  stackCache = ReadCache.load(path.join(project.stacksDir, "history", ".cache", "stacks.json"), isPointerEntry);
  try {
    const done = await report(project, deps, now, lane);
    stackCache.save();
    return done;
  } finally {
    pointers.clear();
    stackCache = undefined;
  }
}

async function report(project: Project, deps: Deps, now: Date, lane?: string): Promise<StatusReport> {
  const entries: LaneEntry[] = lane !== undefined ? [{ name: lane, ws: project.lane(lane) }] : project.lanes.map((name) => {
    try {
      return { name, ws: project.lane(name) };
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return { name, error: e.message };
    }
  });
  const lines: string[] = [];
  const histories = new Map<string, HistoryView>();
  let broken = false;
  for (const { name, ws, error } of entries) {
    if (error) {
      lines.push(`LANE ${name} UNUSABLE: ${error}`);
      broken = true;
      continue;
    }
    const view = ws!.history.read(ws!.readCache);
    histories.set(name, view);
    if (view.problems.length > 0) {
      broken = true;
      lines.push(`HISTORY OF LANE ${name} BROKEN: promote, rollback, approve and verify of lane ${name} refuse until it is repaired:`);
      for (const p of describeProblems(view.problems, (f) => shown(ws!, f))) lines.push(`  - ${p}`);
    }
  }
  if (lane === undefined) {
    for (const kind of ["releases", "history"]) {
      const dir = path.join(project.stacksDir, kind);
      const strays = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith(".") && !project.lanes.includes(f)) : [];
      for (const f of strays) lines.push(`note: ${shown(project, path.join(dir, f))} is not a lane's folder (lanes: ${project.lanes.join(", ") || "none"}); nothing in it is read`);
    }
  }
  if (lines.length > 0) lines.push("");
  if (entries.length === 0) {
    lines.push(`no lane: no team stack file (stacks/Pulumi.<environment>.<team>.yaml) for the environments of ${shown(project, project.stages.file)}`);
    return { lines, broken };
  }
  lines.push(...matrix(project, entries, histories, now), "");
  const registry = memoRegistry(deps);
  if (lane !== undefined) {
    const ws = entries[0].ws!;
    for (const stage of ws.stages.ordered) lines.push(...(await block(ws, registry, stage, histories.get(ws.lane)!.records, now)));
    return { lines, broken };
  }
  const waiting: string[] = [];
  for (const { ws } of entries) {
    if (!ws) continue;
    const history = histories.get(ws.lane)!.records;
    for (const stage of ws.stages.ordered) {
      let current: string | undefined;
      try {
        current = currentId(ws, stage);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        waiting.push(`${ws.lane} -> ${stage.name}: ${e.message}`);
        continue;
      }
      const rows = await waitingRows(ws, registry, stage, current, history, now);
      if (rows.length > 0) waiting.push(`${ws.lane} -> ${stage.name}  (stack ${stage.stack}; ${gatesOf(stage).join("; ")})`, ...rows);
    }
  }
  lines.push(...(waiting.length ? ["waiting:", ...waiting] : ["waiting: nothing (no upstream stage runs a release its downstream stage does not)"]));
  lines.push("", `details of one lane: npm run status -- --lane <team>`);
  return { lines, broken };
}

/** `lane  stage...` rows: each cell the release a lane's stage runs (r- and 8 hex) and its mark. */
function matrix(project: Project, entries: readonly LaneEntry[], histories: ReadonlyMap<string, HistoryView>, now: Date): string[] {
  const stages = project.stages.ordered;
  const laneWidth = Math.max(4, ...entries.map((e) => e.name.length));
  const width = Math.max(12, ...stages.map((s) => s.name.length));
  const row = (first: string, cells: readonly string[]) => `${first.padEnd(laneWidth)}  ${cells.map((c) => c.padEnd(width)).join("  ")}`.trimEnd();
  const out = [row("lane", stages.map((s) => s.name))];
  for (const { name, ws } of entries) {
    if (!ws) {
      out.push(row(name, stages.map(() => "(unusable)")));
      continue;
    }
    const history = histories.get(name)!.records;
    out.push(row(name, ws.stages.ordered.map((stage) => {
      let id: string | undefined;
      try {
        id = currentId(ws, stage);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        return "(unreadable)";
      }
      if (!id) return MARK.none;
      const state = releaseInStage(history, stage.name, id, now);
      const mark = state.verifiedSince ? MARK.verified : state.lastVerification?.result === "failed" ? MARK.failed : MARK.unverified;
      return `${id.slice(0, 10)} ${mark}`;
    })));
  }
  out.push(LEGEND);
  return out;
}

/** The release a lane's stage runs (undefined when its stack file names none or does not exist). */
function currentId(ws: Workspace, stage: Stage): string | undefined {
  const file = stageFile(ws, stage);
  return fs.existsSync(file) ? readPointer(file, stage.name, ws.lane).pointer?.id : undefined;
}

function gatesOf(stage: Stage): string[] {
  return [stage.from.length ? `from ${stage.from.join(stage.require === "all" ? " + " : " | ")}` : "entry: CI", stage.soak ? `soak ${stage.soak}` : "", stage.approvals ? `${stage.approvals} approval(s)` : "", stage.registry ? `registry ${stage.registry}` : "", stage.vulnerabilities ? `vulnerabilities ${describeGate(stage.vulnerabilities)}` : ""].filter(Boolean);
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

async function block(ws: Workspace, deps: Deps, stage: Stage, history: readonly HistoryRecord[], now: Date): Promise<string[]> {
  const out = [`${stage.name}  (stack ${stage.stack}; ${gatesOf(stage).join("; ")})`];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(9)} ${text}`);
  const file = stageFile(ws, stage);
  let id: string | undefined;
  if (!fs.existsSync(file)) {
    row("release", `(no stack file: ${shown(ws, file)})`);
  } else {
    try {
      const { pointer } = readPointer(file, stage.name, ws.lane);
      id = pointer?.id;
      const last = [...history].reverse().find((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"));
      const placed = last && last.release === id ? `, ${last.kind === "rollback" ? "rolled back to" : "promoted"} ${time(last.at)} by ${who(last.by)}${last.kind === "promotion" && last.overridden?.length ? ` (override: ${last.overridden.map((o) => o.rule).join(", ")})` : ""}` : id ? ", no record put it there" : "";
      row("release", `${id ?? "(none)"}${placed}`);
      if (last && last.release !== id) row("note", `the last ${last.kind} record (${last.release} at ${last.at}) is not what ${shown(ws, file)} names (${id ?? "no release"}): the pointer write did not complete, or the file was edited; re-run the ${last.kind}`);
      if (id) {
        if (!ws.releases.has(id)) row("note", `release ${id} has no file ${shown(ws, ws.releases.file(id))} (a release in use must not be deleted)`);
        else if (!samePointer(pointer, { id, images: ws.releases.get(id).images })) row("note", `the images in ${shown(ws, file)} differ from release ${id}`);
        const state = releaseInStage(history, stage.name, id, now);
        const since = state.placedAt ? ` (not since its ${state.placedBy === "rollback" ? "rollback" : "promotion"} ${time(state.placedAt)})` : "";
        row("verified", state.verifiedSince ? `yes, ${time(state.verifiedSince)}` : state.lastVerification ? `FAILED ${time(state.lastVerification.at)}: ${state.lastVerification.problems[0] ?? ""}` : `no${since}: npm run verify -- ${stage.name}${laneArg(stage)} --outputs ${stage.name}-outputs.json`);
        for (const i of state.ignored) row("ignored", `verification record ${i.seq} of ${stage.name}: ${i.why}`);
      }
      const images = Object.entries(pointer?.images ?? {}).map(([n, ref]) => `${n} ${short(ref)}`);
      if (images.length) row("images", images.join(", "));
      if (id && last?.kind === "promotion" && last.release === id) for (const [label, text] of gateRows(ws, stage, id, last, now)) row(label, text);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      row("release", `(unreadable) ${e.message}`);
    }
  }
  out.push(...(await waitingRows(ws, deps, stage, id, history, now)));
  return out;
}

/** `waiting` rows: each release an upstream stage runs that this one does not, ready or with every rule that blocks it. */
async function waitingRows(ws: Workspace, deps: Deps, stage: Stage, current: string | undefined, history: readonly HistoryRecord[], now: Date): Promise<string[]> {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(9)} ${text}`);
  for (const cand of upstreamCandidates(ws, stage, current)) {
    const problems: Problem[] = [...promotionProblems(stage, cand, history, now), ...imageProblems(ws, stage, cand), ...(ws.releases.has(cand) ? admissionProblems(ws, stage, ws.releases.get(cand).images) : []), ...gateProblems(ws, stage, cand, now), ...(await registryProblems(ws, deps, stage, cand))];
    if (problems.length === 0) {
      row("waiting", `${cand}: ready: npm run promote -- ${stage.name}${laneArg(stage)}`);
      continue;
    }
    row("waiting", `${cand}: blocked by ${[...new Set(problems.map((p) => p.rule))].join(", ")}`);
    for (const p of problems) row("", `- [${p.rule}] ${p.message}`);
  }
  return out;
}

/** Releases the upstream stages run that this stage does not. */
function upstreamCandidates(ws: Workspace, stage: Stage, current: string | undefined): string[] {
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
  return missing.length ? [{ rule: "images", overridable: false, message: `release ${id} has no image ${missing.map(([app, image]) => `"${image}" (used by blueprint:apps.${app}.image)`).join(", ")}` }] : [];
}

/** Whether the stage's registry holds every image of the release (no check without a registry mapping). */
async function registryProblems(ws: Workspace, deps: Deps, stage: Stage, id: string): Promise<Problem[]> {
  if (!stage.registry || !ws.releases.has(id)) return [];
  const release = ws.releases.get(id);
  const problems: Problem[] = [];
  for (const [name, target] of Object.entries(pulledImages(stage, release))) {
    try {
      if (!(await deps.registry.has(target, STATUS_REGISTRY_TIMEOUT_MS))) {
        problems.push({ rule: "registry", overridable: false, message: `${target} is not in ${stage.registry}: npm run promote -- ${stage.name}${laneArg(stage)} --copy, or ${deps.registry.copyCommand(mapImage(release.images[name], undefined), target)}` });
      }
    } catch (e) {
      if (!(e instanceof RegistryError) && !(e instanceof Refusal)) throw e;
      problems.push({ rule: "registry", overridable: false, message: `cannot check image ${name} in ${stage.registry}: ${e.message}` });
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

/**
 * What the gate of a stage says of the release it runs: per image, the scan it is judged on and how
 * many of its findings are of unknown severity; and findings its promotion accepted, for as long as
 * the newest scans still need that acceptance (a clean scan replaces it).
 */
function gateRows(ws: Workspace, stage: Stage, id: string, placed: Extract<HistoryRecord, { kind: "promotion" }>, now: Date): [string, string][] {
  if (!stage.vulnerabilities || !ws.releases.has(id)) return [];
  const rows: [string, string][] = [];
  try {
    const release = ws.releases.get(id);
    const { verdicts, problems } = vulnerabilityProblems(stage, release, (d) => ws.scans.scansOf(d), now);
    for (const v of verdicts) {
      if (!v.scan) continue;
      const unknown = v.scan.counts.unknown.total;
      rows.push(["scan", `${v.image}: ${v.scan.format}${v.scan.scannedAt ? ` of ${time(v.scan.scannedAt)}` : ""}; ${unknown} finding(s) of unknown severity${unknown ? ` (counted ${stage.vulnerabilities.unknownAs ? `as ${stage.vulnerabilities.unknownAs}` : "against every limit"})` : ""}`]);
    }
    if (placed.accepted && problems.length > 0) {
      const expired = Date.parse(placed.accepted.expires) <= now.getTime();
      rows.push(["accepted", `${placed.accepted.ids.join(", ")} by ${who(placed.by)} until ${time(placed.accepted.expires)}${expired ? " (EXPIRED: scan a fixed image, or accept again)" : ""}: ${placed.reason ?? ""}`]);
    }
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    rows.push(["scan", e.message]);
  }
  return rows;
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
