import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parsePlatform, parseTeam } from "../../config/load";
import { measureProcess } from "./measure";
import { summarise, type Summary } from "./stats";
import { platformStackName, syntheticContract, syntheticEnvironment, toLayeredStacks } from "./synth";
import { ROOT } from "./workspace";

/**
 * Times config validation (`parsePlatform` and `parseTeam`: schema, cross-field rules, API limits) of a
 * synthetic environment, the step every render and `pulumi up` runs before registering anything.
 * Each sample is the first validation in a fresh process, as a render pays it.
 */

/** Validation figures at one size. */
export interface ValidationResult {
  readonly apps: number;
  readonly ms: Summary;
}

/**
 * Milliseconds of one validation of an environment of `apps` apps, in this process: its platform
 * stack, and each team stack against the contract the platform exports for it.
 */
export function timeValidation(apps: number): number {
  const env = syntheticEnvironment(apps);
  const stacks = toLayeredStacks(env);
  const platformStack = platformStackName(env);
  const t0 = performance.now();
  for (const [stack, cfg] of stacks) {
    if (stack === platformStack) parsePlatform(cfg.config, stack, "blueprint");
    else
      parseTeam(cfg.config, stack, "blueprint", new Set(), {
        found: true,
        value: { [stack.slice(env.stack.length + 1)]: syntheticContract(env, stack.slice(env.stack.length + 1)) },
      });
  }
  return performance.now() - t0;
}

/** `runs` fresh-process samples of {@link timeValidation}. */
export async function validationTiming(
  apps: number,
  runs: number,
  log: (s: string) => void,
): Promise<ValidationResult> {
  const samples: number[] = [];
  for (let r = 1; r <= runs; r++) {
    log(`bench: config validation, ${apps} apps, run ${r}/${runs}`);
    const run = await measureProcess(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "tools/bench/validation.ts"), String(apps)],
      { cwd: ROOT },
    );
    if (run.code !== 0) throw new Error(`validation timing failed: ${run.stderr.trim()}`);
    samples.push(Number(run.stdout.trim()));
  }
  return { apps, ms: summarise(samples) };
}

if (require.main === module) console.log(timeValidation(Number(process.argv[2])).toFixed(1));
