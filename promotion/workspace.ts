import * as fs from "node:fs";
import * as path from "node:path";
import { readProject, readStackConfig } from "../lib/project";
import { platformStackOf, platformStackProblem } from "../lib/stacks";
import { Refusal, UsageError } from "./errors";
import { HistoryStore } from "./history";
import type { Registry } from "./registry";
import { ReleaseStore } from "./release";
import { ScanStore } from "./scan/store";
import { loadStages, PLATFORM, type Stage, type Stages } from "./stages";

/** A team stack file: `Pulumi.<environment>.<team>.yaml` (both DNS labels, so the first dot splits them). */
const TEAM_STACK_FILE = /^Pulumi\.([a-z0-9][-a-z0-9]{0,62})\.([a-z0-9][-a-z0-9]{0,62})\.yaml$/;

/**
 * The promotion files of one project: the stages, and the lanes (one per team) that move through
 * them. Each lane has its own releases, history, locks, pointers and scans.
 */
export interface Project {
  readonly projectDir: string;
  /** The Pulumi project name (Pulumi.yaml). */
  readonly project: string;
  readonly stacksDir: string;
  /** The stages as stages.yaml defines them, before any lane's overrides. */
  readonly stages: Stages;
  /** Every lane: the teams with a stack file in the stages' environments, sorted. */
  readonly lanes: readonly string[];
  /** The lane a command works on: `name`, or the only lane when there is one. */
  lane(name: string | undefined): Workspace;
  /**
   * A lane as `status` reads it: also when it lacks a team stack file in some stage's environment
   * (a team left out of an environment), with the stages it lacks. Commands never use this.
   */
  laneForStatus(name: string): { readonly ws: Workspace; readonly missing: readonly Stage[] };
}

/** Where one lane keeps its promotion files, all inside the stack config folder (`stacks/`). */
export interface Workspace {
  readonly projectDir: string;
  readonly project: string;
  readonly stacksDir: string;
  /** The team this lane is. */
  readonly lane: string;
  /** The stages with this lane's overrides; each stage's stack is `<environment>.<lane>`. */
  readonly stages: Stages;
  /** `stacks/releases/<lane>/`. */
  readonly releases: ReleaseStore;
  /** `stacks/history/<lane>/<stage>/`: one hash chain per stage. */
  readonly history: HistoryStore;
  /** This lane's vulnerability scan summaries by image digest (`stacks/scans/<lane>/`). */
  readonly scans: ScanStore;
  /** Lock files (not committed): `<lane>.<stage>.lock`. */
  readonly locksDir: string;
  /** What `status` keeps of reading this lane's records (not committed; see HistoryStore.read). */
  readonly readCache: string;
  /** Every lane's stack of every stage -> what it is, to name evidence from elsewhere. */
  readonly stackOwners: ReadonlyMap<string, { readonly lane: string; readonly stage: string }>;
}

/** What commands need from the world; tests inject fakes (a fixed clock, a fake registry). */
export interface Deps {
  now(): Date;
  actor(): string;
  readonly registry: Registry;
  out(line: string): void;
  /** Terminal width for `status` (default: 100 columns). */
  readonly columns?: number;
}

/** Opens the promotion files of the project in `projectDir` (the folder holding Pulumi.yaml). */
export function openProject(projectDir: string): Project {
  const project = readProject(projectDir);
  const stacksDir = project.stackConfigDir;
  const historyDir = path.join(stacksDir, "history");
  refuseLinks(projectDir, stacksDir);
  const stages = loadStages(path.join(stacksDir, "stages.yaml"));
  const lanes = findLanes(stacksDir, stages);
  for (const l of stages.overriddenLanes) {
    if (!lanes.includes(l))
      throw new UsageError(
        `${stages.file}: lanes.${l} overrides a lane that has no team stack file (stacks/Pulumi.<environment>.${l}.yaml); lanes: ${lanes.join(", ") || "none"}`,
      );
  }
  const stackOwners = new Map<string, { lane: string; stage: string }>();
  for (const l of lanes)
    for (const s of stages.ordered) stackOwners.set(`${s.environment}.${l}`, { lane: l, stage: s.name });
  const opened = new Map<string, Workspace>();
  const lane = (name: string | undefined): Workspace => {
    if (name === undefined) {
      if (lanes.length === 1) return lane(lanes[0]);
      throw new UsageError(
        lanes.length === 0
          ? `no lane: there is no team stack file (stacks/Pulumi.<environment>.<team>.yaml) for the environments of ${path.relative(projectDir, stages.file)} (${[...new Set(stages.ordered.map((s) => s.environment))].join(", ")})`
          : `--lane <team> is required: this project has ${lanes.length} lanes (${lanes.join(", ")})`,
      );
    }
    if (!lanes.includes(name))
      throw new UsageError(
        `--lane "${name}" is not a lane (lanes: ${lanes.join(", ") || "none"}); a lane is a team with stack files stacks/Pulumi.<environment>.<team>.yaml`,
      );
    let ws = opened.get(name);
    if (!ws) opened.set(name, (ws = openLane(name)));
    return ws;
  };
  const openLane = (team: string, strict = true): Workspace => {
    const laneStages = stages.forLane(team);
    const missing = laneStages.ordered.filter((s) => !fs.existsSync(path.join(stacksDir, `Pulumi.${s.stack}.yaml`)));
    if (strict && missing.length > 0) {
      throw new UsageError(
        `lane ${team} has no team stack file for stage ${missing.map((s) => `${s.name} (${path.relative(projectDir, path.join(stacksDir, `Pulumi.${s.stack}.yaml`))})`).join(", ")}: every lane needs a team stack in the environment of every stage in ${path.relative(projectDir, stages.file)}`,
      );
    }
    // A lane's stage deploys to its environment's cluster only: a team stack reading another
    // environment's platform would take that environment's cluster under this stage's rules.
    // A stage without its team stack file (a lane left out of an environment), or with a folder in
    // its place (refused by the stage's own check, naming it), has nothing to check here.
    const isFile = (s: (typeof laneStages.ordered)[number]) =>
      fs.statSync(path.join(stacksDir, `Pulumi.${s.stack}.yaml`), { throwIfNoEntry: false })?.isFile() === true;
    const crossed = laneStages.ordered.filter(isFile).flatMap((s) => {
      const problem = platformStackProblem(s.stack, platformStackOf(readStackConfig(project, s.stack).config, s.stack));
      return problem
        ? [
            `${path.relative(projectDir, path.join(stacksDir, `Pulumi.${s.stack}.yaml`))}: blueprint:platformStack: ${problem}`,
          ]
        : [];
    });
    if (crossed.length > 0) throw new Refusal(undefined, "environment", crossed.join("\n"));
    return {
      projectDir,
      project: project.name,
      stacksDir,
      lane: team,
      stages: laneStages,
      releases: new ReleaseStore(path.join(stacksDir, "releases", team)),
      history: new HistoryStore(
        path.join(historyDir, team),
        laneStages.ordered.map((s) => s.name),
        projectDir,
        team,
      ),
      scans: new ScanStore(path.join(stacksDir, "scans"), team),
      locksDir: path.join(historyDir, ".locks"),
      readCache: path.join(historyDir, ".cache", `${team}.json`),
      stackOwners,
    };
  };
  return {
    projectDir,
    project: project.name,
    stacksDir,
    stages,
    lanes,
    lane,
    laneForStatus: (name) => {
      if (!lanes.includes(name))
        throw new UsageError(
          `--lane "${name}" is not a lane (lanes: ${lanes.join(", ") || "none"}); a lane is a team with stack files stacks/Pulumi.<environment>.<team>.yaml`,
        );
      const ws = opened.get(name) ?? openLane(name, false);
      return {
        ws,
        missing: ws.stages.ordered.filter((s) => !fs.existsSync(path.join(stacksDir, `Pulumi.${s.stack}.yaml`))),
      };
    },
  };
}

/** The folders of promotion evidence: lane folders in them must be real folders. */
const EVIDENCE_DIRS = ["releases", "history", "scans"] as const;

/**
 * Refuses a symbolic link anywhere under `stacks/releases`, `stacks/history` or `stacks/scans`
 * (the folders themselves included): `releases/payments -> shop` would make lane payments write into
 * lane shop's files, and a link to a file elsewhere would make a record or summary read or land there.
 */
function refuseLinks(projectDir: string, stacksDir: string): void {
  const refuse = (p: string) => {
    throw new Refusal(
      undefined,
      "lane",
      `${path.relative(projectDir, p)} is a symbolic link; lane folders and their files must be real (replace it with the folder or file it points to, or remove it)`,
    );
  };
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isSymbolicLink()) refuse(path.join(dir, e.name));
      else if (e.isDirectory()) walk(path.join(dir, e.name));
    }
  };
  for (const name of EVIDENCE_DIRS) {
    const dir = path.join(stacksDir, name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) refuse(dir);
    if (st.isDirectory()) walk(dir);
  }
}

/** Opens one lane of the project in `projectDir` (`lane` may be omitted when there is only one). */
export function openWorkspace(projectDir: string, lane?: string): Workspace {
  return openProject(projectDir).lane(lane);
}

/** Teams with a stack file in any stage's environment (the platform layer is never a lane). */
function findLanes(stacksDir: string, stages: Stages): string[] {
  const environments = new Set(stages.ordered.map((s) => s.environment));
  const lanes = new Set<string>();
  for (const f of fs.existsSync(stacksDir) ? fs.readdirSync(stacksDir) : []) {
    const m = TEAM_STACK_FILE.exec(f);
    if (m && environments.has(m[1]) && m[2] !== PLATFORM) lanes.add(m[2]);
  }
  return [...lanes].sort();
}

/** The stack file of a lane's stage: `stacks/Pulumi.<environment>.<lane>.yaml`. */
export function stageFile(ws: Pick<Workspace, "stacksDir">, stage: Stage): string {
  return path.join(ws.stacksDir, `Pulumi.${stage.stack}.yaml`);
}

/** The platform stack file of a stage's environment: `stacks/Pulumi.<environment>.platform.yaml`. */
export function platformFile(ws: Pick<Workspace, "stacksDir">, stage: Stage): string {
  return path.join(ws.stacksDir, `Pulumi.${stage.environment}.${PLATFORM}.yaml`);
}

/** A path for messages: relative to the project when inside it. */
export function shown(ws: Pick<Workspace, "projectDir">, file: string): string {
  const rel = path.relative(ws.projectDir, file);
  return rel.startsWith("..") ? file : rel;
}
