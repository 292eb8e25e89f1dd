import * as path from "node:path";
import { NAMESPACE } from "../../config";
import { listStacks, readProject, type ProjectFile } from "../../lib/project";
import { environments } from "../../lib/stacks";

/** A command line the tool cannot act on (exit 2). */
export class TeamUsageError extends Error {}
/** A request the tool refuses for the state of the stack files (exit 1); nothing was written. */
export class TeamRefused extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/** Where the tool works. */
export interface TeamContext {
  /** The project folder (holding Pulumi.yaml). */
  readonly projectDir: string;
  /** The program the stacks are validated with. @default the project's `main` */
  readonly program?: string;
}

export interface Workspace {
  readonly project: ProjectFile;
  readonly stacks: readonly string[];
  readonly envs: readonly string[];
}

export function openWorkspace(ctx: TeamContext): Workspace {
  const project = readProject(ctx.projectDir);
  const stacks = listStacks(project);
  return { project, stacks, envs: environments(stacks) };
}

export const rel = (ws: Workspace, file: string) => path.relative(ws.project.dir, file);
export const stackPath = (ws: Workspace, stack: string) => path.join(ws.project.stackConfigDir, `Pulumi.${stack}.yaml`);
export const teamsKey = `${NAMESPACE}:teams`;
