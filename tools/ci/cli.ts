import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { readProject } from "../../lib/project";
import { affectedStacks, pipelineStacks, pipelineStages, type PipelineStack } from "./stacks";

const USAGE = `Usage: npm run pipeline -- stacks [--layer platform|team] [--environment ENV]
       npm run pipeline -- affected --base REF [--head REF] [--layer platform|team]
       npm run pipeline -- cloud ENV
       npm run pipeline -- registry STAGE

What the GitHub Actions workflows (.github/workflows/, docs/ci.md) ask of the project, as JSON:
  stacks    the stacks the pipelines deploy (the environments of stacks/stages.yaml): stack,
            environment, layer and cloud of each
  affected  the stacks a change between two git revisions touches (pull request previews)
  cloud     aws | gcp | existing: the cloud of an environment's platform stack
  registry  the host of the registry a stage pulls from (stacks/stages.yaml registry:), or nothing`;

/** Runs one subcommand; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export function main(
  argv: readonly string[],
  out: (line: string) => void = (l) => console.log(l),
  err: (line: string) => void = (l) => console.error(l),
  projectDir: string = process.cwd(),
): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        base: { type: "string" },
        head: { type: "string" },
        layer: { type: "string" },
        environment: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    err(`pipeline: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  const usage = (why: string) => {
    err(`pipeline: ${why}\n${USAGE}`);
    return 2;
  };
  if (values.layer !== undefined && values.layer !== "platform" && values.layer !== "team")
    return usage(`--layer is platform or team, got "${values.layer}"`);
  const layer = (s: PipelineStack) => values.layer === undefined || s.layer === values.layer;
  try {
    const stacks = pipelineStacks(projectDir);
    switch (command) {
      case "stacks":
        if (rest.length) return usage(`stacks takes no arguments, got ${rest.join(" ")}`);
        out(
          JSON.stringify(
            stacks.filter(
              (s) => layer(s) && (values.environment === undefined || s.environment === values.environment),
            ),
          ),
        );
        return 0;
      case "affected": {
        if (!values.base) return usage("affected needs --base REF (the pull request's base commit)");
        const changed = execFileSync("git", ["diff", "--name-only", `${values.base}...${values.head ?? "HEAD"}`], {
          cwd: projectDir,
          encoding: "utf8",
        })
          .split("\n")
          .filter(Boolean);
        out(JSON.stringify(affectedStacks(changed, stacks).filter(layer)));
        return 0;
      }
      case "cloud": {
        if (rest.length !== 1) return usage("cloud takes one environment");
        const found = stacks.find((s) => s.environment === rest[0]);
        if (!found)
          return usage(
            `"${rest[0]}" is not an environment the pipelines deploy (${[...new Set(stacks.map((s) => s.environment))].join(", ")})`,
          );
        out(found.cloud);
        return 0;
      }
      case "registry": {
        if (rest.length !== 1) return usage("registry takes one stage");
        const stages = pipelineStages(readProject(projectDir));
        const stage = stages.find((s) => s.name === rest[0]);
        if (!stage) return usage(`"${rest[0]}" is not a stage (${stages.map((s) => s.name).join(", ")})`);
        const registry = stage.registry;
        out(registry ? registry.split("/")[0] : "");
        return 0;
      }
      default:
        return usage(command ? `unknown subcommand "${command}"` : "a subcommand is required");
    }
  } catch (e) {
    err(`pipeline: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}

/** Runs {@link main} as a command (`npm run pipeline`). */
export function cli(argv: string[]): void {
  process.exitCode = main(argv);
}

if (require.main === module) cli(process.argv.slice(2));
