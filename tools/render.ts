import * as os from "node:os";
import * as path from "node:path";
import { ProjectError, listStacks, readProject, readStackConfig, stackNameProblem } from "../lib/project";
import { writeFileAtomic } from "../lib/files";
import { checkOutput, OutputRefused, replaceDirectory } from "./offline/write";
import { platformOutputs, renderEnvironment, renderStack, staleCompiled, type RenderOutcome } from "./offline/render";
import {
  defaultPlatformStack,
  environments,
  localStackName,
  platformStackName,
  platformStackOf,
  teamStacks,
} from "../lib/stacks";
import { ContractFileError } from "./offline/contract-cache";
import { parseCommandLine, UsageError, userPath } from "./offline/cli";
import { renderProgress, stackDone } from "./render-progress";

const USAGE = `Usage: npm run render -- <environment | stack> [--out <dir>] [--jobs <n>] [--contract <file>] [--fresh] [--quiet] [--trace]

Runs the Pulumi program offline (Pulumi's mock engine, no CLI, no cluster) and writes every
Kubernetes object it registers as YAML, one file per object (default dir: rendered, relative to
the folder you run the command in):
  <dir>/<env>/<layer>/<namespace>/<kind>-<name>.yaml (cluster-wide objects under _cluster/)
  <environment>  e.g. dev: the platform stack dev.platform and every team stack dev.<team> in
                 parallel, each reading the platform's contract. Writes <dir>/<env>/platform/,
                 <dir>/<env>/<team>/ and <dir>/<env>/<stack>.stack.json (outputs, cloud resources).
  <stack>        e.g. dev.shop: one stack, under <dir>/<stack>/ and <dir>/<stack>.stack.json. A team
                 stack reads its platform's contract: from --contract, else from the platform's last
                 render when its stack file and the program's sources are unchanged, else from a
                 render of the platform now (not written). The summary says which.
Secret values never appear in the output.
  --jobs      team stacks rendered at once (default: one per core)
  --contract  a team stack's platform outputs from a deployed platform, as written by
              pulumi stack output --json --show-secrets -s <env>.platform
  --fresh     render the platform again even when its last render is current
  --quiet     no progress on the terminal (it shows only when stdout and stderr are terminals)
  --trace     keep stack traces (slower: the SDK records one for every internal promise)
  --help      this text, with the project's environments and stacks`;

/** The npm scripts that run this command (their INIT_CWD is the user's folder). */
const SCRIPTS = ["render", "render:compiled"];

/** Renders an environment or one stack; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCommandLine(argv, {
      out: { type: "string" },
      trace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      jobs: { type: "string" },
      contract: { type: "string" },
      fresh: { type: "boolean" },
      quiet: { type: "boolean" },
    });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`render: ${e.message}\n\n${USAGE}`);
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
    console.log(`${USAGE}\n\nEnvironments: ${envs.join(", ") || "none"}\nStacks: ${stacks.join(", ") || "none"}`);
    return 0;
  }
  if (args.positionals.length !== 1) {
    console.error(
      `render: give exactly one environment or stack (environments: ${envs.join(", ") || "none"}; stacks: ${stacks.join(", ") || "none"})\n\n${USAGE}`,
    );
    return 2;
  }
  const jobs = args.values.jobs === undefined ? os.availableParallelism() : Number(args.values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) {
    console.error(`render: --jobs must be a whole number from 1 to 256, got ${JSON.stringify(args.values.jobs)}`);
    return 2;
  }
  const target = args.positionals[0];
  const outDir = userPath(args.values.out ?? "rendered", SCRIPTS);
  const contractFile = args.values.contract === undefined ? undefined : userPath(args.values.contract, SCRIPTS);
  const trace = args.values.trace ?? false;
  const fresh = args.values.fresh ?? false;
  const isEnvironment = !target.includes(".") && !stacks.includes(target);
  if (isEnvironment) {
    const problem = stackNameProblem(target);
    if (problem) throw new ProjectError(problem);
    if (!envs.includes(target)) {
      console.error(
        `render: "${target}" is neither an environment (one with stacks/Pulumi.${target}.platform.yaml) nor a stack (environments: ${envs.join(", ") || "none"}; stacks: ${stacks.join(", ") || "none"})`,
      );
      return 2;
    }
    if (contractFile) {
      console.error(
        `render: --contract applies to one team stack; an environment renders its own platform (give a stack such as ${target}.<team>)`,
      );
      return 2;
    }
    const teams = teamStacks(stacks, target);
    const progress = renderProgress(target, teams.length + 1, args.values.quiet ?? false);
    const began = Date.now();
    let result;
    try {
      // A team stack's time is counted from the start of the render (its platform may render beside it).
      const events = {
        onStackDone: (o: RenderOutcome) =>
          stackDone(progress, o, o.stack === platformStackName(target) ? undefined : Date.now() - began),
      };
      result = await renderEnvironment({ env: target, teams, outDir, trace, jobs, fresh, events });
    } finally {
      progress.stop();
    }
    if (!result.ok) {
      console.error(result.message);
      return 1;
    }
    const where = path.relative(process.cwd(), result.dir) || ".";
    for (const o of result.outcomes as Extract<RenderOutcome, { ok: true }>[])
      console.log(o.summary.replace("{where}", path.join(where, o.stack.slice(target.length + 1))));
    return 0;
  }
  // Checked before the program runs: an unknown stack or a refused output folder should not cost a render.
  const targetConfig = readStackConfig(project, target);
  checkOutput(outDir, target);
  // The platform the stack reads: its blueprint:platformStack when set (a stack of this project), else <env>.platform.
  const platform =
    localStackName(platformStackOf(targetConfig.config, target), project.name) ?? defaultPlatformStack(target);
  let outcome: RenderOutcome;
  if (target !== platform && stacks.includes(platform)) {
    const base = await platformOutputs(project, platform, { contractFile, fresh, trace });
    if (!base.ok) {
      console.error(base.message);
      return 1;
    }
    // Runs may follow one another in a process (see runProgram): no worker to start.
    outcome = await renderStack({
      stack: target,
      stacks: { [platform]: base.stackOutputs },
      trace,
      contractSource: base.source,
    });
  } else {
    if (contractFile) {
      console.error(`render: --contract applies to a team stack; ${target} has no platform to read`);
      return 2;
    }
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

/** Runs {@link main} as a command: one line and an exit code for anything the user must fix. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      if (e instanceof ProjectError || e instanceof OutputRefused || e instanceof ContractFileError) {
        console.error(`render: ${e.message}`);
        process.exit(e instanceof ProjectError ? e.exitCode : e instanceof ContractFileError ? 2 : 1);
      }
      console.error(e.stack);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
