import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../lib/files";
import { UsageError } from "../errors";
import { Refusal } from "../errors";
import { vulnerabilityProblems } from "../rules";
import { stageFile, type Deps, type Project } from "../workspace";
import { readPointer } from "../pointer";
import { renderHtml } from "./html";
import { renderMarkdown } from "./markdown";
import { promotionView } from "./model";

/** Output formats of `status`: text is the status report itself; the others are drawn from the view. */
export const STATUS_FORMATS = ["text", "markdown", "json"] as const;
export type StatusFormat = (typeof STATUS_FORMATS)[number];

export interface ViewOptions {
  readonly lane?: string;
  /** `--format`: markdown or json to stdout (text is handled by the status report). */
  readonly format?: string;
  /** `--html FILE`: the page, written atomically. */
  readonly html?: string;
  /** Where relative paths are resolved (the caller's working directory). */
  readonly cwd: string;
}

/** Checks `--format` before anything is read: an unknown format is bad usage naming the formats. */
export function statusFormat(value: string | undefined): StatusFormat {
  if (value === undefined) return "text";
  if (!(STATUS_FORMATS as readonly string[]).includes(value))
    throw new UsageError(`--format is ${STATUS_FORMATS.join(", ")}, got "${value}"`);
  return value as StatusFormat;
}

/**
 * `status --html FILE` and `status --format markdown|json`: computes the promotion view once and
 * writes the page and/or prints the format. Returns the exit code: 1 when a history chain is broken
 * (as the text status), 0 otherwise.
 */
export async function viewCommand(project: Project, deps: Deps, opts: ViewOptions): Promise<number> {
  const format = statusFormat(opts.format);
  let target: string | undefined;
  if (opts.html !== undefined) {
    if (opts.html.trim() === "" || opts.html.startsWith("-"))
      throw new UsageError(`--html needs a file name (--html status.html), got "${opts.html}"`);
    target = path.resolve(opts.cwd, opts.html);
    if (fs.existsSync(target) && fs.statSync(target).isDirectory())
      throw new UsageError(
        `--html ${opts.html} is a folder; give a file name (e.g. ${path.join(opts.html, "status.html")})`,
      );
  }
  const view = await promotionView(project, deps, deps.now(), opts.lane);
  if (target) {
    writeFileAtomic(target, renderHtml(view));
    if (format === "text")
      deps.out(
        `wrote ${opts.html}: ${view.lanes.length} lane(s) by ${view.stages.length} stage(s), history chains ${view.chain.intact ? "intact" : "BROKEN"}`,
      );
  }
  if (format === "markdown") deps.out(renderMarkdown(view).trimEnd());
  if (format === "json") deps.out(JSON.stringify(view, null, 2));
  return view.chain.intact ? 0 : 1;
}

/**
 * Lines the text status adds for releases that run in a stage whose vulnerability gate they now
 * fail (a newer scan found more, or the newest report has grown older than the gate allows):
 * "running, now fails the gate". No registry is asked; empty when every running release passes.
 */
export function nowFailingLines(project: Project, now: Date, lane?: string): string[] {
  const lines: string[] = [];
  for (const name of lane !== undefined ? [lane] : project.lanes) {
    let ws;
    try {
      ws = project.lane(name);
    } catch (e) {
      if (e instanceof UsageError) continue;
      throw e;
    }
    for (const stage of ws.stages.ordered) {
      if (!stage.vulnerabilities) continue;
      const file = stageFile(ws, stage);
      let id: string | undefined;
      try {
        id = fs.existsSync(file) ? readPointer(file, stage.name, ws.lane).pointer?.id : undefined;
      } catch (e) {
        if (e instanceof Refusal) continue;
        throw e;
      }
      if (!id || !ws.releases.has(id)) continue;
      const { problems } = vulnerabilityProblems(stage, ws.releases.get(id), (d) => ws.scans.scansOf(d), now);
      if (problems.length === 0) continue;
      lines.push(`${ws.lane} -> ${stage.name}  running ${id}, now fails the gate:`);
      for (const p of problems) lines.push(`            - ${p.message}`);
    }
  }
  return lines.length
    ? ["", "running, now fails the gate (rebuild: a new release walks the stages again):", ...lines]
    : [];
}
