import * as path from "node:path";
import { measureProcess } from "./measure";
import { summarise, type Summary } from "./stats";
import { syntheticEnvironment } from "./synth";
import { BENCH_DIR, ROOT, programProject, writeStack } from "./workspace";

/** Cold start figures: the render command for one app against loading the SDK alone. */
export interface ColdStartResult {
  /** Whole-process time of the render command for a one-app stack. */
  readonly render: Summary;
  /** Whole-process time of `node` requiring only @pulumi/pulumi and @pulumi/kubernetes. */
  readonly bareLoad: Summary;
  readonly command: string;
}

/**
 * Runs both commands alternately, `runs` times each, after one unmeasured warm-up of each (so
 * the file cache and tsx's transform cache are warm, as on a developer's machine).
 */
export async function coldStart(runs: number, log: (s: string) => void): Promise<ColdStartResult> {
  const project = programProject();
  const stack = writeStack(project, syntheticEnvironment(1));
  const render = [process.execPath, "--import", "tsx", path.join(ROOT, "tools/render.ts"), stack, "--out", path.join(BENCH_DIR, "rendered")];
  const bare = [process.execPath, "-e", 'require("@pulumi/pulumi"); require("@pulumi/kubernetes")'];
  const times = { render: [] as number[], bare: [] as number[] };
  for (let r = 0; r <= runs; r++) {
    if (r > 0) log(`bench: cold start, run ${r}/${runs}`);
    const a = await measureProcess(render[0], render.slice(1), { cwd: project });
    if (a.code !== 0) throw new Error(`bench: the one-app render failed:\n${a.stderr}`);
    const b = await measureProcess(bare[0], bare.slice(1), { cwd: ROOT });
    if (b.code !== 0) throw new Error(`bench: loading the SDK failed:\n${b.stderr}`);
    if (r === 0) continue;
    times.render.push(a.wallMs);
    times.bare.push(b.wallMs);
  }
  return {
    render: summarise(times.render),
    bareLoad: summarise(times.bare),
    command: `node --import tsx tools/render.ts ${stack} (cwd: a project whose only stack has one app)`,
  };
}
