import * as path from "node:path";
import { readProject } from "../tools/offline/project";
import { HistoryStore } from "./history";
import type { Registry } from "./registry";
import { ReleaseStore } from "./release";
import { ScanStore } from "./scan/store";
import { loadStages, type Stage, type Stages } from "./stages";

/** Where promotion keeps its files, all inside the stack config folder (`stacks/`). */
export interface Workspace {
  readonly projectDir: string;
  /** The Pulumi project name (Pulumi.yaml). */
  readonly project: string;
  readonly stacksDir: string;
  readonly stages: Stages;
  readonly releases: ReleaseStore;
  readonly history: HistoryStore;
  /** Vulnerability scan summaries by image digest (`stacks/scans/`). */
  readonly scans: ScanStore;
  /** Lock files (not committed). */
  readonly locksDir: string;
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
export function openWorkspace(projectDir: string): Workspace {
  const project = readProject(projectDir);
  const stacksDir = project.stackConfigDir;
  const historyDir = path.join(stacksDir, "history");
  const stages = loadStages(path.join(stacksDir, "stages.yaml"));
  return {
    projectDir,
    project: project.name,
    stacksDir,
    stages,
    releases: new ReleaseStore(path.join(stacksDir, "releases")),
    history: new HistoryStore(historyDir, stages.ordered.map((s) => s.name), projectDir),
    scans: new ScanStore(path.join(stacksDir, "scans")),
    locksDir: path.join(historyDir, ".locks"),
  };
}

/** The stack file of a stage. */
export function stageFile(ws: Workspace, stage: Stage): string {
  return path.join(ws.stacksDir, `Pulumi.${stage.stack}.yaml`);
}

/** A path for messages: relative to the project when inside it. */
export function shown(ws: Workspace, file: string): string {
  const rel = path.relative(ws.projectDir, file);
  return rel.startsWith("..") ? file : rel;
}
