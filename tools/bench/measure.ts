import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

/** One process run, measured from outside. */
export interface ProcessRun {
  /** Whole-process wall time, from spawn to exit, in ms. */
  readonly wallMs: number;
  /** Peak resident set size in KB, as `getrusage` reports it (GNU time's `%M`). */
  readonly maxRssKb: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Options for {@link measureProcess}. */
export interface MeasureOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the process group after this many ms. */
  readonly timeoutMs?: number;
  /** Send stdout to this file instead of capturing it. */
  readonly stdoutFile?: string;
}

const TIME = "/usr/bin/time";

/**
 * Runs a command under GNU time (for its peak RSS) in its own process group and measures its wall
 * time. The wrapper adds about a millisecond; every variant pays it alike.
 */
export function measureProcess(
  command: string,
  args: readonly string[],
  opts: MeasureOptions = {},
): Promise<ProcessRun> {
  if (!fs.existsSync(TIME)) throw new Error(`bench: ${TIME} is needed for peak memory (Debian package "time")`);
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const out = opts.stdoutFile ? fs.openSync(opts.stdoutFile, "w") : "pipe";
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(TIME, ["-f", "%M", "-o", rssFile, command, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", out, "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            // Already gone.
          }
        }, opts.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - t0;
      if (timer) clearTimeout(timer);
      if (typeof out === "number") fs.closeSync(out);
      let maxRssKb = NaN;
      try {
        const lines = fs.readFileSync(rssFile, "utf8").trim().split("\n");
        maxRssKb = Number(lines[lines.length - 1]);
        fs.rmSync(rssFile, { force: true });
      } catch {
        // No figure when the process was killed.
      }
      resolve({ wallMs, maxRssKb, code, stdout, stderr, timedOut });
    });
  });
}
