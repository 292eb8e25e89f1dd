import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseEnvironment } from "../../config/load";
import { measureProcess } from "./measure";
import { summarise, type Summary } from "./stats";
import { syntheticEnvironment, toStackConfig } from "./synth";
import { ROOT } from "./workspace";

/**
 * Times config validation (`parseEnvironment`: schema, cross-field rules, API limits) of a
 * synthetic environment, the step every render and `pulumi up` runs before registering anything.
 * Each sample is the first validation in a fresh process, as a render pays it.
 */

/** Validation figures at one size. */
export interface ValidationResult {
  readonly apps: number;
  readonly ms: Summary;
}

/** Milliseconds of one validation of an environment of `apps` apps, in this process. */
export function timeValidation(apps: number): number {
  const cfg = toStackConfig(syntheticEnvironment(apps));
  const t0 = performance.now();
  parseEnvironment(cfg.config, "bench", "blueprint");
  return performance.now() - t0;
}

/** `runs` fresh-process samples of {@link timeValidation}. */
export async function validationTiming(apps: number, runs: number, log: (s: string) => void): Promise<ValidationResult> {
  const samples: number[] = [];
  for (let r = 1; r <= runs; r++) {
    log(`bench: config validation, ${apps} apps, run ${r}/${runs}`);
    const run = await measureProcess(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/bench/validation.ts"), String(apps)], { cwd: ROOT });
    if (run.code !== 0) throw new Error(`validation timing failed: ${run.stderr.trim()}`);
    samples.push(Number(run.stdout.trim()));
  }
  return { apps, ms: summarise(samples) };
}

if (require.main === module) console.log(timeValidation(Number(process.argv[2])).toFixed(1));
