import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { toLayeredStacks, toSingleStackConfig, toStackFile, type SyntheticEnvironment } from "./synth";

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
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: blueprint\nruntime: nodejs\nmain: ${JSON.stringify(main)}\nstackConfigDir: stacks\n`,
  );
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
  for (const [stack, cfg] of toLayeredStacks(env))
    fs.writeFileSync(path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`), toStackFile(cfg));
  return env.stack;
}

/**
 * The program as it was before the layers (every environment one stack), checked out once into the
 * bench's scratch space: the baseline the layered render is measured against.
 */
export const SINGLE_STACK_REVISION = "faf01efcbdc84e644807ff4abd2d9062be7ce6d5";

/** Writes the environment as one stack for the single-stack program; returns its project and render entry. */
export function writeSingleStack(env: SyntheticEnvironment): { project: string; render: string } {
  const tree = path.join(BENCH_DIR, `single-stack-${SINGLE_STACK_REVISION.slice(0, 12)}`);
  if (!fs.existsSync(path.join(tree, "index.ts"))) {
    fs.mkdirSync(tree, { recursive: true });
    const archive = spawnSync("git", ["archive", SINGLE_STACK_REVISION], { cwd: ROOT, maxBuffer: 1 << 28 });
    if (archive.status !== 0)
      throw new Error(
        `bench: cannot read revision ${SINGLE_STACK_REVISION} of the program: ${archive.stderr.toString().trim()}`,
      );
    const untar = spawnSync("tar", ["-x", "-C", tree], { input: archive.stdout });
    if (untar.status !== 0)
      throw new Error(`bench: cannot unpack revision ${SINGLE_STACK_REVISION}: ${untar.stderr.toString().trim()}`);
  }
  const project = scratchProject("single", path.join(tree, "index.ts"));
  fs.writeFileSync(path.join(project, "stacks", `Pulumi.${env.stack}.yaml`), toStackFile(toSingleStackConfig(env)));
  return { project, render: path.join(tree, "tools", "render.ts") };
}
