import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runProgram, type RunResult } from "./offline/run";
import { staleSources, type CompiledManifest } from "./offline/compiled";
import { ProjectError, listStacks, readProject, readStackConfig, stackNameProblem } from "../lib/project";
import type { StackOutputs, StackOutputsByName } from "./offline/mocks";
import { cloudInventory } from "./offline/cloud-state";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { checkOutput, manifestPath, OutputRefused, replaceDirectory, toYaml } from "./offline/write";
import { writeFileAtomic } from "../lib/files";
import { renderProgress, stackDone } from "./render-progress";

const USAGE = `Usage: npm run render -- <environment | stack> [--out <dir>] [--jobs <n>] [--quiet] [--trace]

Runs the Pulumi program offline (Pulumi's mock engine, no CLI, no cluster) and writes every
Kubernetes object it registers as YAML, one file per object (default dir: rendered).
  <environment>  e.g. dev: the platform stack dev.platform, then every team stack dev.<team> in
                 parallel, each reading the platform's contract. Writes <dir>/<env>/platform/,
                 <dir>/<env>/<team>/ and <dir>/<env>/<stack>.stack.json (outputs, cloud resources).
  <stack>        e.g. dev.shop: one stack, under <dir>/<stack>/ and <dir>/<stack>.stack.json. A team
                 stack's platform is rendered first, in memory, for its contract.
Secret values never appear in the output.
  --jobs   team stacks rendered at once (default: one per core)
  --quiet  no progress on the terminal (it shows only when stdout and stderr are terminals)
  --trace  keep stack traces (slower: the SDK records one for every internal promise)`;

/**
 * Stack frames kept while the program runs. The SDK records a stack trace for every internal
 * promise (runtime/debuggable.js), and formatting them (through source maps under tsx) is about a
 * third of an offline run; without them a render of 1000 apps is that much faster and smaller.
 * Config errors never need a trace; `--trace` restores them for debugging the program.
 */
const FAST_STACK_TRACE_LIMIT = 0;

/**
 * The compiled tree this file belongs to, when it runs as compiled JavaScript
 * (`<out>/tools/render.js`, with `<out>/compiled.json` naming the source folder). Undefined otherwise.
 */
function compiledTree(self: string): { out: string; manifest: CompiledManifest } | undefined {
  if (!self.endsWith(".js")) return undefined;
  const out = path.dirname(path.dirname(self));
  const file = path.join(out, "compiled.json");
  if (!fs.existsSync(file)) return undefined;
  return { out, manifest: JSON.parse(fs.readFileSync(file, "utf8")) as CompiledManifest };
}

/**
 * The program file to run: when this file runs as compiled JavaScript, the program compiled
 * beside it (`<out>/index.js` for `index.ts`), so no TypeScript loader is needed. Undefined otherwise.
 */
export function compiledProgram(main: string, self: string = __filename): string | undefined {
  const tree = compiledTree(self);
  if (!tree || !main.endsWith(".ts")) return undefined;
  const rel = path.relative(tree.manifest.source, main);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  const js = path.join(tree.out, rel.replace(/\.ts$/, ".js"));
  return fs.existsSync(js) ? js : undefined;
}

/** Why the compiled render must not run (its sources changed since), or undefined. */
export function staleCompiled(self: string = __filename): string | undefined {
  const tree = compiledTree(self);
  if (!tree) return undefined;
  const stale = staleSources(tree.manifest);
  if (stale.length === 0) return undefined;
  const shown = `${stale.slice(0, 3).join(", ")}${stale.length > 3 ? `, and ${stale.length - 3} more` : ""}`;
  return `the compiled render in ${path.relative(process.cwd(), tree.out) || "."} is older than its sources (${shown} changed): run \`npm run compile\` again, or \`npm run render\``;
}

/** One stack to render, as the parent hands it to a worker process. */
export interface RenderJob {
  readonly stack: string;
  /** Outputs of other stacks its StackReferences read (the platform's, for a team stack). */
  readonly stacks?: StackOutputsByName;
  readonly trace: boolean;
}

/** What rendering one stack gave: its files (relative path -> YAML), its stack.json, a summary, and its outputs for StackReferences. */
export type RenderOutcome =
  | { readonly ok: true; readonly stack: string; readonly files: [string, string][]; readonly stackJson: string; readonly summary: string; readonly stackOutputs: StackOutputs }
  | { readonly ok: false; readonly stack: string; readonly message: string };

/**
 * Runs one stack's program offline and turns what it registered into files. Never writes: the
 * caller writes a whole environment (or stack) at once.
 */
async function renderStack(job: RenderJob): Promise<RenderOutcome> {
  const project = readProject(process.cwd());
  const stackConfig = readStackConfig(project, job.stack);
  const placeholders = [...stackConfig.placeholders, ...fillSecretPlaceholders(stackConfig, project.name)];
  let result: RunResult;
  const traceLimit = Error.stackTraceLimit;
  if (!job.trace) Error.stackTraceLimit = FAST_STACK_TRACE_LIMIT;
  try {
    result = await runProgram({ projectDir: project.dir, stack: job.stack, config: stackConfig, main: compiledProgram(project.main), stacks: job.stacks });
  } catch (e) {
    const err = e as Error;
    // Config errors are the user's to fix: print them plainly. Anything else is a bug: keep the trace.
    const trace = job.trace ? (err.stack ?? err.message) : `${err.name}: ${err.message}\n(run again with --trace for the stack trace)`;
    return { ok: false, stack: job.stack, message: err.name === "ConfigError" ? err.message : `render: the program failed for stack "${job.stack}": ${trace}` };
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
  if (result.defaultProviderUses.length > 0) {
    return { ok: false, stack: job.stack, message: `render: ${result.defaultProviderUses.length} resource(s) of stack "${job.stack}" would use a default provider, which every stack disables (pulumi:disable-default-providers):\n  ${result.defaultProviderUses.join("\n  ")}` };
  }
  const files = new Map<string, string>();
  for (const obj of result.objects) {
    const rel = manifestPath(obj);
    if (files.has(rel)) return { ok: false, stack: job.stack, message: `render: two objects of stack "${job.stack}" would be written to ${rel}` };
    files.set(rel, toYaml(obj));
  }
  const inventory = cloudInventory(result.resources);
  const stackJson = `${JSON.stringify({ stack: job.stack, outputs: result.outputs, ...inventory, secretPlaceholders: placeholders }, null, 2)}\n`;
  return { ok: true, stack: job.stack, files: [...files], stackJson, summary: summary(result, inventory, placeholders), stackOutputs: result.stackOutputs };
}

/**
 * Worker processes that render stacks, each taking the next stack when it is done with one (each
 * run sets up its own mocks and leaves no process hooks behind: see runProgram). The worker is this
 * same file (tsx or compiled). Started before they get work, they load the program while the
 * caller is busy (an environment's platform render).
 */
export function startWorkers(count: number): { render(jobs: readonly RenderJob[], onDone?: (outcome: RenderOutcome) => void): Promise<RenderOutcome[]>; close(): void } {
  // The TypeScript source needs its loader in the worker too, also when the parent got it otherwise (jest).
  const execArgv = __filename.endsWith(".ts") && !process.execArgv.some((a) => a.includes("tsx")) ? [...process.execArgv, "--import", "tsx"] : process.execArgv;
  const children = Array.from({ length: Math.max(1, count) }, () => fork(__filename, ["--worker"], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv }));
  const close = () => { for (const c of children) if (c.connected) c.disconnect(); };
  const render = (jobs: readonly RenderJob[], onDone?: (outcome: RenderOutcome) => void) => {
    const outcomes: RenderOutcome[] = new Array(jobs.length);
    let next = 0;
    const lane = (child: ReturnType<typeof fork>) => new Promise<void>((resolve) => {
      let current = -1;
      const give = () => {
        if (next >= jobs.length) {
          child.off("message", onMessage);
          child.off("exit", onExit);
          resolve();
          return;
        }
        current = next++;
        child.send(jobs[current]);
      };
      const onMessage = (m: unknown) => {
        outcomes[current] = m as RenderOutcome;
        onDone?.(outcomes[current]);
        current = -1;
        give();
      };
      const onExit = (code: number | null) => {
        if (current >= 0) outcomes[current] = { ok: false, stack: jobs[current].stack, message: `render: the worker for stack "${jobs[current].stack}" exited with code ${code} before reporting` };
        resolve();
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      if (child.exitCode !== null) onExit(child.exitCode);
      else give();
    });
    return Promise.all(children.map(lane)).then(() => {
      for (let i = 0; i < jobs.length; i++) outcomes[i] ??= { ok: false, stack: jobs[i].stack, message: `render: no worker rendered stack "${jobs[i].stack}"` };
      return outcomes;
    });
  };
  return { render, close };
}

/** Renders one stack in a worker process. */
export async function renderInWorker(job: RenderJob): Promise<RenderOutcome> {
  const workers = startWorkers(1);
  try {
    return (await workers.render([job]))[0];
  } finally {
    workers.close();
  }
}

/** The environments of the project: each has a `<env>.platform` stack. */
export function environments(stacks: readonly string[]): string[] {
  return stacks.filter((s) => s.endsWith(".platform") && s.indexOf(".") === s.length - ".platform".length).map((s) => s.slice(0, -".platform".length)).sort();
}

/** The team stacks of an environment: `<env>.<team>`, every stack of it but the platform's. */
export function teamStacks(stacks: readonly string[], env: string): string[] {
  return stacks.filter((s) => s.startsWith(`${env}.`) && s !== `${env}.platform` && !s.slice(env.length + 1).includes("."));
}

/** Renders an environment or one stack; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: "string", default: "rendered" }, trace: { type: "boolean", default: false }, quiet: { type: "boolean", default: false }, help: { type: "boolean", short: "h" }, jobs: { type: "string" } } });
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const stale = staleCompiled();
  if (stale) {
    console.error(`render: ${stale}`);
    return 1;
  }
  const project = readProject(process.cwd());
  const stacks = listStacks(project);
  const envs = environments(stacks);
  if (args.values.help) {
    console.log(`${USAGE}\n\nEnvironments: ${envs.join(", ") || "none"}\nStacks: ${stacks.join(", ")}`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    console.error(`render: give exactly one environment or stack (environments: ${envs.join(", ") || "none"}; stacks: ${stacks.join(", ")})\n\n${USAGE}`);
    return 2;
  }
  const jobs = args.values.jobs === undefined ? os.availableParallelism() : Number(args.values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) {
    console.error(`render: --jobs must be a whole number from 1 to 256, got ${JSON.stringify(args.values.jobs)}`);
    return 2;
  }
  const target = args.positionals[0];
  const outDir = path.resolve(args.values.out!);
  const trace = args.values.trace!;
  const isEnvironment = !target.includes(".") && !stacks.includes(target);
  if (isEnvironment) {
    const problem = stackNameProblem(target);
    if (problem) throw new ProjectError(problem);
    if (!envs.includes(target)) {
      console.error(`render: "${target}" is neither an environment (one with stacks/Pulumi.${target}.platform.yaml) nor a stack (environments: ${envs.join(", ") || "none"}; stacks: ${stacks.join(", ")})`);
      return 2;
    }
    return renderEnvironment(target, teamStacks(stacks, target), outDir, trace, jobs, args.values.quiet!);
  }
  // Checked before the program runs: an unknown stack or a refused output folder should not cost a render.
  readStackConfig(project, target);
  checkOutput(outDir, target);
  const platform = `${target.split(".")[0]}.platform`;
  let outcome: RenderOutcome;
  if (target !== platform && stacks.includes(platform)) {
    // A team stack reads its platform's contract: render the platform first (in this process, not written).
    const base = await renderStack({ stack: platform, trace });
    if (!base.ok) {
      console.error(base.message);
      return 1;
    }
    // Runs may follow one another in a process (see runProgram): no worker to start.
    outcome = await renderStack({ stack: target, stacks: { [platform]: base.stackOutputs }, trace });
  } else {
    outcome = await renderStack({ stack: target, trace });
  }
  if (!outcome.ok) {
    console.error(outcome.message);
    return 1;
  }
  replaceDirectory(path.join(outDir, target), new Map(outcome.files));
  writeFileAtomic(path.join(outDir, `${target}.stack.json`), outcome.stackJson);
  console.log(outcome.summary.replace("{where}", path.relative(process.cwd(), path.join(outDir, target)) || "."));
  return 0;
}

/**
 * Renders a whole environment: the platform, then every team stack in parallel worker processes
 * (at most `jobs` at once), each StackReference answered from the platform's outputs. Writes
 * `<out>/<env>/platform/`, `<out>/<env>/<team>/` and a `<stack>.stack.json` for each, replacing
 * the environment folder at once, and only when every stack rendered.
 */
async function renderEnvironment(env: string, teams: readonly string[], outDir: string, trace: boolean, jobs: number, quiet: boolean): Promise<number> {
  checkOutput(outDir, env);
  const platformStack = `${env}.platform`;
  const workers = startWorkers(Math.min(jobs, teams.length));
  const progress = renderProgress(env, teams.length + 1, quiet);
  let outcomes: RenderOutcome[];
  try {
    const platform = await renderStack({ stack: platformStack, trace });
    stackDone(progress, platform);
    if (!platform.ok) {
      console.error(platform.message);
      return 1;
    }
    const teamsBegan = Date.now();
    outcomes = [platform, ...await workers.render(teams.map((stack) => ({ stack, stacks: { [platformStack]: contractFor(platform.stackOutputs, stack.slice(env.length + 1)) }, trace })), (o) => stackDone(progress, o, Date.now() - teamsBegan))];
  } finally {
    progress.stop();
    workers.close();
  }
  const failed = outcomes.filter((o): o is Extract<RenderOutcome, { ok: false }> => !o.ok);
  if (failed.length > 0) {
    console.error(`render: ${failed.length} of ${outcomes.length} stacks of ${env} failed; nothing was written\n${failed.map((f) => f.message).join("\n")}`);
    return 1;
  }
  const files = new Map<string, string>();
  for (const o of outcomes as Extract<RenderOutcome, { ok: true }>[]) {
    const layer = o.stack.slice(env.length + 1);
    for (const [rel, text] of o.files) files.set(path.join(layer, rel), text);
    files.set(`${o.stack}.stack.json`, o.stackJson);
  }
  const where = path.relative(process.cwd(), path.join(outDir, env)) || ".";
  replaceDirectory(path.join(outDir, env), files);
  for (const o of outcomes as Extract<RenderOutcome, { ok: true }>[]) console.log(o.summary.replace("{where}", path.join(where, o.stack.slice(env.length + 1))));
  return 0;
}

/**
 * The platform's outputs as one team's StackReference needs them: the contract of the other teams
 * left out, which that team never reads, so each worker is sent a fraction of a large environment.
 */
function contractFor(outputs: StackOutputs, team: string): StackOutputs {
  const contract = outputs.outputs.contract as Record<string, unknown> | undefined;
  if (!contract || typeof contract !== "object" || !Object.hasOwn(contract, team)) return outputs;
  return { ...outputs, outputs: { ...outputs.outputs, contract: { [team]: contract[team] } } };
}

/** A worker: renders each stack the parent sends, one at a time, and reports its outcome; ends when the parent lets go. */
function worker(): void {
  process.on("disconnect", () => process.exit(0));
  // Loaded while the parent renders the platform: the first team stack then starts warm.
  void import("./offline/run").then(() => {
    const main = readProject(process.cwd()).main;
    return import(compiledProgram(main) ?? main);
  }).catch(() => undefined);
  process.on("message", (job: RenderJob) => {
    renderStack(job).then(
      (outcome) => process.send!(outcome),
      (e: Error) => process.send!({ ok: false, stack: job.stack, message: e instanceof ProjectError || e instanceof OutputRefused ? `render: ${e.message}` : `render: the program failed for stack "${job.stack}": ${e.stack ?? e.message}` }),
    );
  });
}

/** The lines printed for a rendered stack; `{where}` stands for the folder it is written to. */
function summary(result: RunResult, inventory: ReturnType<typeof cloudInventory>, placeholders: readonly string[]): string {
  const byKind = new Map<string, number>();
  const namespaces = new Set<string>();
  const images = new Set<string>();
  for (const o of result.objects) {
    byKind.set(String(o.kind), (byKind.get(String(o.kind)) ?? 0) + 1);
    const ns = (o.metadata as { namespace?: string } | undefined)?.namespace;
    if (ns) namespaces.add(ns);
    collectImages(o, images);
  }
  const recreate = result.objects
    .filter((o) => o.kind === "Deployment" && (o.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type === "Recreate")
    .map((o) => { const m = o.metadata as { name?: string; namespace?: string }; return `${m.namespace}/${m.name}`; });
  const kinds = [...byKind].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
  return [
    `stack ${result.stack}: ${result.objects.length} Kubernetes objects written to {where}/`,
    `  kinds:      ${kinds}`,
    `  namespaces: ${[...namespaces].sort().join(", ") || "none"}`,
    `  images:     ${[...images].sort().join("\n              ") || "none"}`,
    `  cloud:      ${inventory.cloudResources.length} cloud resources, ${inventory.helmReleases.length} Helm releases (see ${result.stack}.stack.json)`,
    ...(recreate.length ? [`  rollout:    Recreate for ${recreate.sort().join(", ")} (one replica with a ReadWriteOnce volume: a surge pod on another node could not attach it)`] : []),
    ...(placeholders.length ? [`  secrets:    ${placeholders.length} rendered as placeholders (${placeholders.join(", ")})`] : []),
  ].join("\n");
}

function collectImages(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) v.forEach((x) => collectImages(x, into));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "image" && typeof x === "string") into.add(x);
      else collectImages(x, into);
    }
  }
}

/** Runs {@link main} as a command: one line and an exit code for anything the user must fix. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      if (e instanceof ProjectError || e instanceof OutputRefused) {
        console.error(`render: ${e.message}`);
        process.exit(e instanceof ProjectError ? e.exitCode : 1);
      }
      console.error(e.stack);
      process.exit(1);
    },
  );
}

if (require.main === module) {
  if (process.argv[2] === "--worker" && process.send) worker();
  else cli(process.argv.slice(2));
}
