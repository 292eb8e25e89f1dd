import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, NAMESPACE, parsePlatform } from "../../config";
import { ProjectError, readProject, readStackConfig } from "../../lib/project";
import { fillSecretPlaceholders } from "../offline/placeholders";
import { runProgram } from "../offline/run";
import type { StackOutputs } from "../offline/mocks";
import { stackPath, TeamRefused, type TeamContext, type Workspace } from "./workspace";

/**
 * Validates the stacks as they would be after `changes`, the way the render does: each changed
 * platform stack's config is read and parsed, then the program runs under mocks for it, and each
 * new team stack runs against that platform's outputs (its contract). The files are staged in a
 * temporary copy of the project; nothing in the project is touched. Throws {@link TeamRefused}
 * with every problem.
 */
export async function validate(
  ctx: TeamContext,
  ws: Workspace,
  changes: ReadonlyMap<string, string | null>,
  teamStacks: readonly string[],
): Promise<void> {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-team-"));
  try {
    const stackDir = path.join(staging, path.relative(ws.project.dir, ws.project.stackConfigDir));
    fs.mkdirSync(stackDir, { recursive: true });
    fs.copyFileSync(path.join(ws.project.dir, "Pulumi.yaml"), path.join(staging, "Pulumi.yaml"));
    for (const s of ws.stacks) fs.copyFileSync(stackPath(ws, s), path.join(stackDir, `Pulumi.${s}.yaml`));
    for (const [file, text] of changes) {
      const to = path.join(stackDir, path.basename(file));
      if (text === null) fs.rmSync(to, { force: true });
      else fs.writeFileSync(to, text);
    }
    const project = readProject(staging);
    const platformStacks = [...changes]
      .filter(([f, t]) => t !== null && f.endsWith(".platform.yaml"))
      .map(([f]) => path.basename(f).slice("Pulumi.".length, -".yaml".length));
    const problems: string[] = [];
    const read = (stack: string) => {
      const cfg = readStackConfig(project, stack);
      fillSecretPlaceholders(cfg, NAMESPACE);
      return cfg;
    };
    const failed = (stack: string, e: unknown) => {
      if (e instanceof ConfigError) problems.push(...e.message.split("\n").slice(1));
      else if (e instanceof ProjectError) problems.push(e.message);
      else problems.push(`the program failed for stack "${stack}": ${(e as Error).message.split("\n")[0]}`);
    };
    // The config rules first, for every platform at once: the program runs cost seconds each.
    for (const stack of platformStacks) {
      try {
        const cfg = read(stack);
        parsePlatform(cfg.config, stack, project.name, new Set(cfg.secretKeys));
      } catch (e) {
        failed(stack, e);
      }
    }
    if (problems.length > 0) throw new TeamRefused(problems);
    const main = ctx.program ?? readProject(ws.project.dir).main;
    for (const stack of platformStacks) {
      let outputs: StackOutputs;
      try {
        outputs = (await runProgram({ projectDir: staging, stack, config: read(stack), main })).stackOutputs;
      } catch (e) {
        failed(stack, e);
        continue;
      }
      const env = stack.slice(0, -".platform".length);
      for (const team of teamStacks.filter((t) => t.startsWith(`${env}.`))) {
        try {
          await runProgram({
            projectDir: staging,
            stack: team,
            config: read(team),
            main,
            stacks: { [stack]: outputs },
          });
        } catch (e) {
          failed(team, e);
        }
      }
    }
    if (problems.length > 0) throw new TeamRefused(problems);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
