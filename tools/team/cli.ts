import { parseArgs } from "node:util";
import { ProjectError } from "../../lib/project";
import { addTeam } from "./add";
import { removeTeam } from "./remove";
import { formatReport, type TeamReport } from "./report";
import { TeamRefused, TeamUsageError, type TeamContext } from "./workspace";

const USAGE = `Usage: npm run team -- add <name> [--maintainers g1,g2] [--viewers g3] [--environments dev,staging,...]
       npm run team -- remove <name>

  add     provisions a team: its entry under blueprint:teams in each environment's platform stack
          (stacks/Pulumi.<env>.platform.yaml: the schema's default guardrails and the groups given)
          and its team stack file stacks/Pulumi.<env>.<name>.yaml (no apps, no release).
          --environments  the environments to add it to (default: every environment)
  remove  removes a team that has no apps, volumes or release left: its platform entries and its
          team stack files.
Every written stack is validated as the render validates it before any file is replaced; on any
problem nothing is written. See docs/teams.md.`;

function splitList(text: string | undefined, option: string): string[] {
  if (text === undefined) return [];
  const list = [
    ...new Set(
      text
        .split(",")
        .map((g) => g.trim())
        .filter((g) => g.length > 0),
    ),
  ];
  if (list.length === 0) {
    throw new TeamUsageError(
      option === "environments"
        ? `--environments ${JSON.stringify(text)} names no environment: give a comma-separated list such as --environments dev,staging, or leave it out for every environment`
        : `--${option} ${JSON.stringify(text)} names no group: give a comma-separated list such as --${option} team-a,team-b`,
    );
  }
  return list;
}

/** Runs the command; returns the exit code. */
export async function main(
  argv: string[],
  ctx: TeamContext = { projectDir: process.cwd() },
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      tokens: true,
      options: {
        maintainers: { type: "string" },
        viewers: { type: "string" },
        environments: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    const seen = new Set<string>();
    for (const t of args.tokens) {
      if (t.kind !== "option" || t.name === "help") continue;
      if (seen.has(t.name)) throw new Error(`--${t.name} is given twice; it takes one comma-separated list`);
      seen.add(t.name);
    }
  } catch (e) {
    err(`team: ${(e as Error).message} (usage: npm run team -- --help)`);
    return 2;
  }
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  const [command, name, ...rest] = args.positionals;
  try {
    if ((command !== "add" && command !== "remove") || name === undefined || rest.length > 0) {
      throw new TeamUsageError(
        command === "add" || command === "remove"
          ? `${command} takes exactly one team name`
          : `give a command: add or remove${command ? ` (got "${command}")` : ""}`,
      );
    }
    let report: TeamReport;
    if (command === "add") {
      report = await addTeam(ctx, {
        name,
        maintainers: splitList(args.values.maintainers, "maintainers"),
        viewers: splitList(args.values.viewers, "viewers"),
        environments:
          args.values.environments === undefined ? undefined : splitList(args.values.environments, "environments"),
      });
    } else {
      if (
        args.values.maintainers !== undefined ||
        args.values.viewers !== undefined ||
        args.values.environments !== undefined
      )
        throw new TeamUsageError("remove takes only the team name: it removes the team from every environment");
      report = await removeTeam(ctx, name);
    }
    for (const line of formatReport(command, name, report)) out(line);
    return 0;
  } catch (e) {
    if (e instanceof TeamUsageError) {
      err(`team: ${e.message} (usage: npm run team -- --help)`);
      return 2;
    }
    if (e instanceof TeamRefused) {
      for (const p of e.problems) err(`team: ${p}`);
      err("team: refused; nothing was written");
      return 1;
    }
    if (e instanceof ProjectError) {
      err(`team: ${e.message}`);
      return e.exitCode;
    }
    err(`team: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}

/** Runs {@link main} as a command (`npm run team`): the exit code, and one line for an error. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`team: ${e.message.split("\n")[0]}`);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
