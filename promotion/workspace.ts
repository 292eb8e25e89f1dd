import * as path from "node:path";
import { readProject } from "../tools/offline/project";
import { HistoryStore } from "./history";
import type { Registry } from "./registry";
import { ReleaseStore } from "./release";
import { loadStages, type Stage, type Stages } from "./stages";

/** Where promotion keeps its files, all inside the stack config folder (`stacks/`). */
export interface Workspace {
  readonly projectDir: string;
  readonly stacksDir: string;
  readonly stages: Stages;
  readonly releases: ReleaseStore;
  readonly history: HistoryStore;
  /** Lock files (not committed). */
  readonly locksDir: string;
}

/** What commands need from the world; tests inject fakes (a fixed clock, a fake registry). */
export interface Deps {
  now(): Date;
  actor(): string;
  readonly registry: Registry;
  out(line: string): void;
}

/** Opens the promotion files of the project in `projectDir` (the folder holding Pulumi.yaml). */
export function openWorkspace(projectDir: string): Workspace {
  const project = readProject(projectDir);
  const stacksDir = project.stackConfigDir;
  const historyDir = path.join(stacksDir, "history");
  return {
    projectDir,
    stacksDir,
    stages: loadStages(path.join(stacksDir, "stages.yaml")),
    releases: new ReleaseStore(path.join(stacksDir, "releases")),
    history: new HistoryStore(historyDir),
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
