import { fork } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { runProgram, type RunResult } from "./run";
import { compiledTree, staleSources } from "./compiled";
import { readProject, readStackConfig, type ProjectFile } from "../../lib/project";
import { environments, platformStackName, teamStacks } from "../../lib/stacks";
import { stableJson, type StackOutputs, type StackOutputsByName } from "./mocks";
import { cloudInventory } from "./cloud-state";
import { fillSecretPlaceholders } from "./placeholders";
import { checkOutput, manifestPath, stageDirectory, toYaml, writeUnder } from "./write";
import { platformKey, readCachedPlatform, readContractFile, writeCachedPlatform } from "./contract-cache";

/**
 * The offline render as a library: one stack, or a whole environment (its platform, then every
 * team stack in worker processes). `npm run render`, `npm run audit`, `npm run team` and the bench
 * are command lines over it.
 */

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
  /** Project folder. @default process.cwd() */
  readonly projectDir?: string;
  /**
   * A folder to write the stack's files into (`<writeTo>/<namespace>/<kind>-<name>.yaml`, and
   * `<stack>.stack.json` beside the folder) where it is rendered, instead of handing them back: an environment's
   * workers write their own files into the staged environment folder.
   */
  readonly writeTo?: string;
  /** What the team stack's contract came from, for the summary. */
  readonly contractSource?: string;
}

/** What rendering one stack gave: its files (relative path -> YAML), its stack.json, a summary, and its outputs for StackReferences. */
export type RenderOutcome =
  | {
      readonly ok: true;
      readonly stack: string;
      /** The files, unless the job's `writeTo` already holds them. */
      readonly files: [string, string][];
      readonly objects: number;
      readonly stackJson: string;
      readonly summary: string;
      readonly stackOutputs: StackOutputs;
    }
  | { readonly ok: false; readonly stack: string; readonly message: string };

/**
 * Runs one stack's program offline and turns what it registered into files. Writes only into the
 * job's `writeTo` (a staged folder the caller swaps in or discards).
 */
export async function renderStack(job: RenderJob): Promise<RenderOutcome> {
  const project = readProject(job.projectDir ?? process.cwd());
  const stackConfig = readStackConfig(project, job.stack);
  const placeholders = [...stackConfig.placeholders, ...fillSecretPlaceholders(stackConfig, project.name)];
  let result: RunResult;
  try {
    result = await runProgram({
      projectDir: project.dir,
      stack: job.stack,
      config: stackConfig,
      stacks: job.stacks,
      trace: job.trace,
    });
  } catch (e) {
    const err = e as Error;
    // Config errors are the user's to fix: print them plainly. Anything else is a bug: keep the trace.
    const trace = job.trace
      ? (err.stack ?? err.message)
      : `${err.name}: ${err.message}\n(run again with --trace for the stack trace)`;
    return {
      ok: false,
      stack: job.stack,
      message:
        err.name === "ConfigError" ? err.message : `render: the program failed for stack "${job.stack}": ${trace}`,
    };
  }
  if (result.defaultProviderUses.length > 0) {
    return {
      ok: false,
      stack: job.stack,
      message: `render: ${result.defaultProviderUses.length} resource(s) of stack "${job.stack}" would use a default provider, which every stack disables (pulumi:disable-default-providers):\n  ${result.defaultProviderUses.join("\n  ")}`,
    };
  }
  const files = new Map<string, string>();
  for (const obj of result.objects) {
    const rel = manifestPath(obj);
    if (files.has(rel))
      return {
        ok: false,
        stack: job.stack,
        message: `render: two objects of stack "${job.stack}" would be written to ${rel}`,
      };
    files.set(rel, toYaml(obj));
  }
  const inventory = cloudInventory(result.resources);
  const stackJson = `${JSON.stringify({ stack: job.stack, outputs: result.outputs, ...inventory, secretPlaceholders: placeholders }, null, 2)}\n`;
  const text = summary(result, inventory, placeholders, job.contractSource);
  if (job.writeTo) {
    for (const [rel, yaml] of files) writeUnder(job.writeTo, rel, yaml);
    fs.writeFileSync(path.join(path.dirname(job.writeTo), `${job.stack}.stack.json`), stackJson);
    return {
      ok: true,
      stack: job.stack,
      files: [],
      objects: files.size,
      stackJson,
      summary: text,
      stackOutputs: result.stackOutputs,
    };
  }
  return {
    ok: true,
    stack: job.stack,
    files: [...files],
    objects: files.size,
    stackJson,
    summary: text,
    stackOutputs: result.stackOutputs,
  };
}

/**
 * Hooks an environment render calls as it goes. {@link RenderEvents.onStackDone} is the one place
 * that learns "stack X is done" (the platform first, then each team stack as its worker reports),
 * before anything is swapped into the output folder.
 */
export interface RenderEvents {
  /** A stack finished rendering (or failed); `done` of `total` stacks of the environment are finished. */
  onStackDone?(outcome: RenderOutcome, done: number, total: number): void;
}

/**
 * A larger young generation for the processes that run programs. A run allocates many short-lived
 * objects (promises, protobuf messages, YAML nodes); with node's default semi-space the scavenger
 * ran about 15% of a render's CPU time. 32 MB gave about 15% less CPU time and less peak memory on
 * a 300-app environment (docs/performance.md).
 */
export const YOUNG_GENERATION = "--max-semi-space-size=32";

/** The worker entry point, beside this file (TypeScript or compiled JavaScript). */
const WORKER = path.join(__dirname, `worker${path.extname(__filename)}`);

/**
 * Worker processes that render stacks, each taking the next stack when it is done with one (each
 * run sets up its own mocks and leaves no process hooks behind: see runProgram). Started before
 * they get work, they load the program while the caller is busy (an environment's platform render).
 * `onDone` hears each outcome as it arrives.
 */
export function startWorkers(count: number): {
  render(jobs: readonly RenderJob[], onDone?: (outcome: RenderOutcome) => void): Promise<RenderOutcome[]>;
  close(): void;
} {
  // The TypeScript source needs its loader in the worker too, also when the parent got it otherwise (jest).
  const loader =
    __filename.endsWith(".ts") && !process.execArgv.some((a) => a.includes("tsx")) ? ["--import", "tsx"] : [];
  const heap = process.execArgv.some((a) => a.startsWith("--max-semi-space-size")) ? [] : [YOUNG_GENERATION];
  // The code cache the command line started with (tools/launch.cjs), for the workers' modules too.
  const cache = process.env.BLUEPRINT_COMPILE_CACHE ? ["--require", process.env.BLUEPRINT_COMPILE_CACHE] : [];
  const execArgv = [...process.execArgv, ...loader, ...heap, ...cache];
  const children = Array.from({ length: Math.max(1, count) }, () =>
    fork(WORKER, [], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv }),
  );
  const close = () => {
    for (const c of children) if (c.connected) c.disconnect();
  };
  const render = (jobs: readonly RenderJob[], onDone?: (outcome: RenderOutcome) => void) => {
    const outcomes: RenderOutcome[] = new Array(jobs.length);
    let next = 0;
    const settle = (i: number, outcome: RenderOutcome) => {
      outcomes[i] = outcome;
      onDone?.(outcome);
    };
    const lane = (child: ReturnType<typeof fork>) =>
      new Promise<void>((resolve) => {
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
          const i = current;
          current = -1;
          settle(i, m as RenderOutcome);
          give();
        };
        const onExit = (code: number | null) => {
          if (current >= 0)
            settle(current, {
              ok: false,
              stack: jobs[current].stack,
              message: `render: the worker for stack "${jobs[current].stack}" exited with code ${code} before reporting`,
            });
          resolve();
        };
        child.on("message", onMessage);
        child.on("exit", onExit);
        if (child.exitCode !== null) onExit(child.exitCode);
        else give();
      });
    return Promise.all(children.map(lane)).then(() => {
      for (let i = 0; i < jobs.length; i++)
        if (!outcomes[i])
          settle(i, {
            ok: false,
            stack: jobs[i].stack,
            message: `render: no worker rendered stack "${jobs[i].stack}"`,
          });
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

/** The environments of the project, and the team stacks of one (lib/stacks.ts names every stack). */
export { environments, teamStacks };

/**
 * The platform's outputs as one team's StackReference needs them: the contract of the other teams
 * left out, which that team never reads, so each worker is sent a fraction of a large environment.
 */
export function contractFor(outputs: StackOutputs, team: string): StackOutputs {
  const contract = outputs.outputs.contract as Record<string, unknown> | undefined;
  if (!contract || typeof contract !== "object" || !Object.hasOwn(contract, team)) return outputs;
  return { ...outputs, outputs: { ...outputs.outputs, contract: { [team]: contract[team] } } };
}

/** Where a team stack's platform outputs come from. */
export interface ContractOptions {
  /** Outputs of a deployed platform (`pulumi stack output --json --show-secrets`). */
  readonly contractFile?: string;
  /** Render the platform even when its last render is current. */
  readonly fresh?: boolean;
  readonly trace: boolean;
  /**
   * Renders the platform when it must: in this process by default (runs may follow one another,
   * see runProgram); the audit uses a worker, so the platform's run leaves its process untouched.
   */
  readonly renderPlatform?: (job: RenderJob) => Promise<RenderOutcome>;
}

/** A platform's outputs and the sentence that says where they came from. */
export type PlatformOutputs =
  | { readonly ok: true; readonly stackOutputs: StackOutputs; readonly source: string }
  | { readonly ok: false; readonly message: string };

/**
 * The outputs a team stack's StackReference reads from `platformStack`: from `--contract FILE`;
 * else from the last render of that platform when its stack file and the program's sources are
 * unchanged (content hashes, see {@link platformKey}); else from a render of the platform now,
 * which is kept for the next time.
 */
export async function platformOutputs(
  project: ProjectFile,
  platformStack: string,
  opts: ContractOptions,
): Promise<PlatformOutputs> {
  if (opts.contractFile) {
    return {
      ok: true,
      stackOutputs: readContractFile(opts.contractFile),
      source: `the outputs in ${opts.contractFile} (--contract)`,
    };
  }
  const key = platformKey(project, platformStack);
  if (!opts.fresh) {
    const cached = readCachedPlatform(project, platformStack, key);
    if (cached)
      return {
        ok: true,
        stackOutputs: cached,
        source: `the last render of ${platformStack} (its stack file and the program's sources are unchanged; --fresh renders it again)`,
      };
  }
  const run = opts.renderPlatform ?? renderStack;
  const base = await run({ stack: platformStack, trace: opts.trace, projectDir: project.dir });
  if (!base.ok) return { ok: false, message: base.message };
  writeCachedPlatform(project, platformStack, key, base.stackOutputs);
  return { ok: true, stackOutputs: base.stackOutputs, source: `${platformStack}, rendered now` };
}

/** Options of {@link renderEnvironment}. */
export interface EnvironmentOptions {
  readonly projectDir?: string;
  readonly env: string;
  readonly teams: readonly string[];
  readonly outDir: string;
  readonly trace: boolean;
  /** Team stacks rendered at once. */
  readonly jobs: number;
  /** Render the platform before any team stack, even when its last render's contract is current. */
  readonly fresh?: boolean;
  readonly events?: RenderEvents;
}

/** What an environment render did: every stack's outcome (platform first), and whether it was written. */
export interface EnvironmentResult {
  readonly ok: boolean;
  readonly outcomes: readonly RenderOutcome[];
  /** The folder written (only when every stack rendered). */
  readonly dir: string;
  /** When not ok: one message for the whole environment. */
  readonly message?: string;
}

/**
 * Renders a whole environment: the platform, and every team stack in worker processes (at most
 * `jobs` at once), each StackReference answered from the platform's outputs. Workers write their
 * own files into the staged environment folder, which replaces `<out>/<env>/` at once, and only
 * when every stack rendered (`<env>/platform/`, `<env>/<team>/`, a `<stack>.stack.json` each).
 *
 * When the platform's last render is current (same content key), its contract is known before
 * the platform runs: team stacks start at once, beside the platform's own render, and the
 * platform's fresh outputs are then checked against the ones the teams used.
 */
export async function renderEnvironment(opts: EnvironmentOptions): Promise<EnvironmentResult> {
  const project = readProject(opts.projectDir ?? process.cwd());
  const { env, teams } = opts;
  const platformStack = platformStackName(env);
  const dir = path.join(opts.outDir, env);
  checkOutput(opts.outDir, env);
  const key = platformKey(project, platformStack);
  const cached = opts.fresh ? undefined : readCachedPlatform(project, platformStack, key);
  const total = teams.length + 1;
  let done = 0;
  const report = (o: RenderOutcome) => opts.events?.onStackDone?.(o, ++done, total);
  const staged = stageDirectory(dir);
  const workers = startWorkers(Math.min(opts.jobs, teams.length));
  try {
    const teamJobs = (outputs: StackOutputs, source: string): RenderJob[] =>
      teams.map((stack) => {
        const layer = stack.slice(env.length + 1);
        return {
          stack,
          projectDir: project.dir,
          stacks: { [platformStack]: contractFor(outputs, layer) },
          trace: opts.trace,
          writeTo: path.join(staged.path, layer),
          contractSource: source,
        };
      });
    const platformJob: RenderJob = { stack: platformStack, projectDir: project.dir, trace: opts.trace };
    let platform: RenderOutcome;
    let teamOutcomes: RenderOutcome[];
    if (cached) {
      const early = workers.render(
        teamJobs(cached, `the last render of ${platformStack} (unchanged since; checked against this run's)`),
        report,
      );
      platform = await renderStack(platformJob);
      report(platform);
      teamOutcomes = await early;
      if (platform.ok && stableJson(platform.stackOutputs) !== stableJson(cached)) {
        // The program is not deterministic for this platform: render the teams again against today's outputs.
        for (const t of teams)
          fs.rmSync(path.join(staged.path, t.slice(env.length + 1)), { recursive: true, force: true });
        done = 1;
        teamOutcomes = await workers.render(
          teamJobs(platform.stackOutputs, `${platformStack}, rendered in this run`),
          report,
        );
      }
    } else {
      platform = await renderStack(platformJob);
      report(platform);
      teamOutcomes = platform.ok
        ? await workers.render(teamJobs(platform.stackOutputs, `${platformStack}, rendered in this run`), report)
        : [];
    }
    if (!platform.ok) {
      staged.discard();
      return { ok: false, outcomes: [platform], dir, message: platform.message };
    }
    writeCachedPlatform(project, platformStack, key, platform.stackOutputs);
    const outcomes = [platform, ...teamOutcomes];
    const failed = outcomes.filter((o): o is Extract<RenderOutcome, { ok: false }> => !o.ok);
    if (failed.length > 0) {
      staged.discard();
      return {
        ok: false,
        outcomes,
        dir,
        message: `render: ${failed.length} of ${outcomes.length} stacks of ${env} failed; nothing was written\n${failed.map((f) => f.message).join("\n")}`,
      };
    }
    for (const [rel, text] of platform.files) staged.write(path.join("platform", rel), text);
    staged.write(`${platformStack}.stack.json`, platform.stackJson);
    staged.commit();
    return { ok: true, outcomes, dir };
  } catch (e) {
    staged.discard();
    throw e;
  } finally {
    workers.close();
  }
}

/** The lines printed for a rendered stack; `{where}` stands for the folder it is written to. */
function summary(
  result: RunResult,
  inventory: ReturnType<typeof cloudInventory>,
  placeholders: readonly string[],
  contractSource: string | undefined,
): string {
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
    .filter(
      (o) =>
        o.kind === "Deployment" &&
        (o.spec as { strategy?: { type?: string } } | undefined)?.strategy?.type === "Recreate",
    )
    .map((o) => {
      const m = o.metadata as { name?: string; namespace?: string };
      return `${m.namespace}/${m.name}`;
    });
  const kinds = [...byKind]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  return [
    `stack ${result.stack}: ${result.objects.length} Kubernetes objects written to {where}/`,
    `  kinds:      ${kinds || "none"}`,
    `  namespaces: ${[...namespaces].sort().join(", ") || "none"}`,
    `  images:     ${[...images].sort().join("\n              ") || "none"}`,
    `  cloud:      ${inventory.cloudResources.length} cloud resources, ${inventory.helmReleases.length} Helm releases (see ${result.stack}.stack.json)`,
    ...(contractSource ? [`  contract:   from ${contractSource}`] : []),
    ...(recreate.length
      ? [
          `  rollout:    Recreate for ${recreate.sort().join(", ")} (one replica with a ReadWriteOnce volume: a surge pod on another node could not attach it)`,
        ]
      : []),
    ...(placeholders.length
      ? [`  secrets:    ${placeholders.length} rendered as placeholders (${placeholders.join(", ")})`]
      : []),
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
