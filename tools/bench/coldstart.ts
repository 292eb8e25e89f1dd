import * as path from "node:path";
import { measureProcess } from "./measure";
import { precompile } from "../compile";
import { summarise, type Summary } from "./stats";
import { syntheticEnvironment } from "./synth";
import { BENCH_DIR, ROOT, programProject, writeStack } from "./workspace";

/** Cold start figures: the render command for one app against loading the SDK alone. */
export interface ColdStartResult {
  /** `node <compiled>/tools/render.js <stack>`: the render as precompiled JavaScript. */
  readonly render: Summary;
  /** `node --import tsx tools/render.ts <stack>`: the render as `npm run render` runs it today. */
  readonly renderTsx: Summary;
  /** `node` requiring only @pulumi/pulumi and @pulumi/kubernetes. */
  readonly bareLoad: Summary;
  readonly command: string;
}

/**
 * Runs the three commands in turn, `runs` times each, after one unmeasured warm-up round (so the
 * file cache and tsx's transform cache are warm, as on a developer's machine). All whole-process
 * times, for a stack with one app.
 */
export async function coldStart(runs: number, log: (s: string) => void): Promise<ColdStartResult> {
  const project = programProject();
  const stack = writeStack(project, syntheticEnvironment(1));
  const compiled = path.join(BENCH_DIR, "dist");
  precompile(compiled);
  const out = path.join(BENCH_DIR, "rendered");
  const commands = {
    render: [process.execPath, path.join(compiled, "tools/render.js"), stack, "--out", out],
    renderTsx: [process.execPath, "--import", "tsx", path.join(ROOT, "tools/render.ts"), stack, "--out", out],
    bareLoad: [process.execPath, "-e", 'require("@pulumi/pulumi"); require("@pulumi/kubernetes")'],
  };
  const times: Record<keyof typeof commands, number[]> = { render: [], renderTsx: [], bareLoad: [] };
  for (let r = 0; r <= runs; r++) {
    if (r > 0) log(`bench: cold start, run ${r}/${runs}`);
    for (const [name, cmd] of Object.entries(commands) as [keyof typeof commands, string[]][]) {
      const run = await measureProcess(cmd[0], cmd.slice(1), { cwd: name === "bareLoad" ? ROOT : project });
      if (run.code !== 0) throw new Error(`bench: cold start: ${cmd.join(" ")} failed:\n${run.stderr}`);
      if (r > 0) times[name].push(run.wallMs);
    }
  }
  return {
    render: summarise(times.render),
    renderTsx: summarise(times.renderTsx),
    bareLoad: summarise(times.bareLoad),
    command: `node .bench/dist/tools/render.js ${stack} (compiled by tools/compile.ts; one-app stack)`,
  };
}
