import * as fs from "node:fs";
import { Refusal } from "./errors";
import type { HistoryRecord } from "./history";
import { readPointer, samePointer } from "./pointer";
import { promotionProblems, releaseInStage } from "./rules";
import type { Stage } from "./stages";
import { shown, stageFile, type Workspace } from "./workspace";

/** One column of the status table. */
export interface StageStatus {
  readonly stage: string;
  readonly rows: Readonly<Record<string, readonly string[]>>;
  /** Longer explanations printed under the table. */
  readonly notes: readonly string[];
}

const SHORT = 12;

/** The state of every stage, side by side: what runs, who put it there, whether it is verified, what waits. */
export function stageStatus(ws: Workspace, now: Date): StageStatus[] {
  const history = ws.history.list();
  const imageNames = new Set<string>();
  const columns = ws.stages.ordered.map((stage) => column(ws, stage, history, now, imageNames));
  return columns.map((c) => ({ ...c, rows: { ...c.rows, ...Object.fromEntries([...imageNames].sort().map((n) => [`image ${n}`, c.rows[`image ${n}`] ?? ["-"]])) } }));
}

function column(ws: Workspace, stage: Stage, history: readonly HistoryRecord[], now: Date, imageNames: Set<string>): StageStatus {
  const file = stageFile(ws, stage);
  const notes: string[] = [];
  const rows: Record<string, string[]> = { stack: [stage.stack], from: [stage.from.length ? `${stage.from.join(stage.require === "all" ? " + " : " | ")}` : "(entry: CI)"] };
  const gates = [stage.soak ? `soak ${stage.soak}` : "", stage.approvals ? `${stage.approvals} approval(s)` : ""].filter(Boolean);
  rows.gates = [gates.join(", ") || "-"];
  if (stage.registry) rows.registry = [stage.registry];
  if (!fs.existsSync(file)) {
    rows.release = ["(no stack file)"];
    notes.push(`${stage.name}: ${shown(ws, file)} does not exist yet`);
    return { stage: stage.name, rows, notes };
  }
  let pointer;
  try {
    pointer = readPointer(file, stage.name).pointer;
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    rows.release = ["(unreadable)"];
    notes.push(e.message);
    return { stage: stage.name, rows, notes };
  }
  const id = pointer?.id;
  rows.release = [id ?? "(none)"];
  for (const [name, ref] of Object.entries(pointer?.images ?? {})) {
    imageNames.add(name);
    const at = ref.indexOf("@");
    rows[`image ${name}`] = [at >= 0 ? `${ref.slice(at + 1, at + 8 + SHORT)}` : ref];
  }
  const last = [...history].reverse().find((r) => r.stage === stage.name && (r.kind === "promotion" || r.kind === "rollback"));
  if (last && last.release !== id) notes.push(`${stage.name}: the last ${last.kind} record (${last.release} at ${last.at}) is not what the stack file names (${id ?? "no release"}): the pointer write did not complete, or the file was edited; re-run the ${last.kind}`);
  if (id) {
    if (!ws.releases.has(id)) notes.push(`${stage.name}: release ${id} has no file ${shown(ws, ws.releases.file(id))} (a release in use must not be deleted)`);
    else if (!samePointer(pointer, { id, images: ws.releases.get(id).images })) notes.push(`${stage.name}: the images in ${shown(ws, file)} differ from release ${id}`);
    if (last && last.release === id) rows.promoted = [`${last.kind === "rollback" ? "rollback " : ""}${last.at.slice(0, 16).replace("T", " ")}`, `by ${last.by.replace(/ <.*>$/, "")}`];
    else rows.promoted = ["(no record)"];
    const state = releaseInStage(history, stage.name, id);
    rows.verified = state.verifiedSince
      ? [`yes ${state.verifiedSince.toISOString().slice(0, 16).replace("T", " ")}`]
      : state.lastVerification
        ? [`FAILED ${state.lastVerification.at.toISOString().slice(0, 16).replace("T", " ")}`]
        : ["no"];
  } else {
    rows.promoted = ["-"];
    rows.verified = ["-"];
  }
  rows.waiting = ["-"];
  if (stage.from.length > 0) {
    const upstreamIds = new Set<string>();
    for (const up of stage.from) {
      const upFile = stageFile(ws, ws.stages.get(up));
      if (!fs.existsSync(upFile)) continue;
      try {
        const upId = readPointer(upFile, up).pointer?.id;
        if (upId && upId !== id) upstreamIds.add(upId);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
      }
    }
    const waiting: string[] = [];
    for (const cand of upstreamIds) {
      const problems = promotionProblems(stage, cand, history, now);
      waiting.push(`${cand}: ${problems.length === 0 ? "ready" : `blocked (${[...new Set(problems.map((p) => p.rule))].join(", ")})`}`);
      if (problems.length === 0) notes.push(`${stage.name}: release ${cand} is ready: npm run promote -- ${stage.name}`);
      for (const p of problems) notes.push(`${stage.name}: ${cand} [${p.rule}] ${p.message}`);
    }
    if (waiting.length) rows.waiting = waiting;
  }
  return { stage: stage.name, rows, notes };
}

/** The status as a text table: one column per stage, then the notes. */
export function formatStatus(columns: readonly StageStatus[]): string {
  const rowNames: string[] = [];
  for (const c of columns) for (const r of Object.keys(c.rows)) if (!rowNames.includes(r)) rowNames.push(r);
  const order = ["stack", "from", "gates", "registry", "release"];
  rowNames.sort((a, b) => rank(a, order) - rank(b, order));
  const label = Math.max(...rowNames.map((r) => r.length), "stage".length);
  const widths = columns.map((c) => Math.max(c.stage.length, ...Object.values(c.rows).flat().map((l) => l.length)));
  const line = (cells: readonly string[], head: string) => `${head.padEnd(label)}  ${cells.map((x, i) => x.padEnd(widths[i])).join("  ")}`.trimEnd();
  const out = [line(columns.map((c) => c.stage), "stage"), line(widths.map((w) => "-".repeat(w)), "-".repeat(label))];
  for (const r of rowNames) {
    const cells = columns.map((c) => c.rows[r] ?? ["-"]);
    const height = Math.max(...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) out.push(line(cells.map((c) => c[i] ?? ""), i === 0 ? r : ""));
  }
  const notes = columns.flatMap((c) => c.notes);
  if (notes.length) out.push("", ...notes);
  return out.join("\n");
}

function rank(row: string, order: readonly string[]): number {
  const i = order.indexOf(row);
  if (i >= 0) return i;
  if (row.startsWith("image ")) return order.length;
  return order.length + 1 + ["promoted", "verified", "waiting"].indexOf(row);
}
