import type { SingleBar } from "cli-progress";

/**
 * Progress of long work on a terminal: how many steps (stacks, runs) are done out of how many,
 * the time elapsed, and the slowest step so far. Drawn by cli-progress (no escape codes of our
 * own) on the stream given (stderr), and only when that stream is a terminal and `quiet` is not
 * set: in CI logs, pipes and tests nothing is drawn and the command prints what it printed before.
 * The bar is cleared when the work ends, so the summary that follows reads as without it.
 */
export interface ProgressOptions {
  /** Where to draw: a terminal stream (default process.stderr). */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** `--quiet`: draw nothing. */
  readonly quiet?: boolean;
  /** What is in progress, e.g. `render dev`. */
  readonly label: string;
  /** What a step is, plural: `stacks`, `runs`. */
  readonly unit: string;
  /** The clock (tests use a fake one). */
  readonly now?: () => number;
  /** Redraws per second while nothing is reported (the elapsed time keeps moving). */
  readonly fps?: number;
}

/** A step that finished, as the progress shows it. */
export interface StepDone {
  readonly name: string;
  /** How long the step itself took; default: the time since the progress started. */
  readonly ms?: number;
  /** A step that failed is counted and named as failed. */
  readonly ok?: boolean;
}

export interface Progress {
  /** Whether anything is drawn (a terminal, not quiet). */
  readonly drawing: boolean;
  /** A step finished. */
  done(step: StepDone): void;
  /** A line to print while the progress shows: above the bar on a terminal, as-is otherwise. */
  log(line: string): void;
  /** Ends the progress and clears the bar. Safe to call twice. */
  stop(): void;
}

/** `12.3 s`, `2 min 05 s`: a duration for the bar. */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.floor(s - m * 60)).padStart(2, "0")} s`;
}

/**
 * Starts showing progress of `total` steps. Returns a progress that draws nothing (and passes
 * `log` lines through unchanged) when the stream is not a terminal, `quiet` is set or there is
 * nothing to count.
 */
export function startProgress(total: number, opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  if (opts.quiet || stream.isTTY !== true || total < 1) {
    return {
      drawing: false,
      done: () => undefined,
      log: (line) => void stream.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  const started = now();
  let slowest: { name: string; ms: number } | undefined;
  let finished = 0;
  let failed = 0;
  const payload = () => ({
    label: opts.label,
    unit: opts.unit,
    elapsed: formatSeconds(now() - started),
    slowest: slowest ? `slowest so far ${slowest.name} ${formatSeconds(slowest.ms)}` : "",
    failed: failed ? `, ${failed} failed` : "",
  });
  // Loaded only when a bar is drawn: a command whose output is not a terminal never needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MultiBar } = require("cli-progress") as typeof import("cli-progress");
  const multi = new MultiBar({
    stream: stream as NodeJS.WriteStream,
    format: "{label} [{bar}] {value}/{total} {unit}{failed} | {elapsed} | {slowest}",
    barsize: 20,
    hideCursor: true,
    clearOnComplete: true,
    // A terminal narrower than the line: cut it rather than wrap it over several lines.
    linewrap: false,
    fps: opts.fps ?? 5,
    // Restores the cursor when the user interrupts the work.
    gracefulExit: true,
    barCompleteChar: "#",
    barIncompleteChar: "-",
  });
  const bar: SingleBar = multi.create(total, 0, payload());
  // The elapsed time moves between steps too: refresh the payload before each redraw.
  multi.on("redraw-pre", () => bar.update(finished, payload()));
  let stopped = false;
  return {
    drawing: true,
    done(step) {
      if (stopped) return;
      finished = Math.min(total, finished + 1);
      if (step.ok === false) failed++;
      const ms = step.ms ?? now() - started;
      if (!slowest || ms > slowest.ms) slowest = { name: step.name, ms };
      bar.update(finished, payload());
      multi.update();
    },
    log(line) {
      if (stopped) {
        stream.write(`${line}\n`);
        return;
      }
      multi.log(`${line}\n`);
      multi.update();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
}
