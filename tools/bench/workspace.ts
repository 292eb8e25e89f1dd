import * as fs from "node:fs";
import * as path from "node:path";
import { toLayeredStacks, toStackFile, type SyntheticEnvironment } from "./synth";

/** The project folder (holding Pulumi.yaml). */
export const ROOT = path.resolve(__dirname, "../..");
/** Scratch space of the bench (git-ignored). */
export const BENCH_DIR = path.join(ROOT, ".bench");

/**
 * A project folder whose `Pulumi.yaml` runs `main` (an absolute path) with the stacks written
 * into its own `stacks/`. Lives under the repository, so node resolves packages from its
 * `node_modules` and the real program runs unchanged.
 */
export function scratchProject(name: string, main: string): string {
  const dir = path.join(BENCH_DIR, name);
  fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: blueprint\nruntime: nodejs\nmain: ${JSON.stringify(main)}\nstackConfigDir: stacks\n`);
  return dir;
}

/** The scratch project that runs our program (`index.ts`). */
export function programProject(): string {
  return scratchProject("program", path.join(ROOT, "index.ts"));
}

/** The scratch project that runs the bare-SDK reference program. */
export function bareProject(): string {
  return scratchProject("bare", path.join(ROOT, "tools/bench/bare-program.ts"));
}

/** Writes a synthetic environment as the stack files of a scratch project (its platform and team stacks); returns the environment's name. */
export function writeStack(projectDir: string, env: SyntheticEnvironment): string {
  for (const [stack, cfg] of toLayeredStacks(env)) fs.writeFileSync(path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`), toStackFile(cfg));
  return env.stack;
}
