import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { listStacks, readProject, readStackConfig, type ProjectFile } from "../../lib/project";

/** The layer name of platform stacks (`<env>.platform`); every other `<env>.<name>` is a team's. */
const PLATFORM = "platform";

/** A stage as the pipelines need it: where it deploys and the registry it pulls from. */
export interface PipelineStage {
  readonly name: string;
  readonly environment: string;
  readonly registry?: string;
}

/**
 * The stages of `stacks/stages.yaml`, in file order, as the workflows need them: name, environment
 * (`stack:`, default the name) and `registry:`. The promotion commands check the file in full
 * (promotion/stages.ts); this reads only what the pipelines ask, and refuses a file without stages.
 */
export function pipelineStages(project: ProjectFile): PipelineStage[] {
  const file = path.join(project.stackConfigDir, "stages.yaml");
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as {
    stages?: Record<string, { stack?: unknown; registry?: unknown } | null>;
  } | null;
  const stages = doc?.stages;
  if (!stages || typeof stages !== "object" || Array.isArray(stages) || Object.keys(stages).length === 0)
    throw new Error(`${path.relative(project.dir, file)}: "stages:" must map each stage name to its settings`);
  return Object.entries(stages).map(([name, def]) => ({
    name,
    environment: typeof def?.stack === "string" ? def.stack : name,
    ...(typeof def?.registry === "string" ? { registry: def.registry } : {}),
  }));
}

/** One stack a pipeline deploys: where it is, which layer it is, and which cloud its cluster is on. */
export interface PipelineStack {
  readonly stack: string;
  readonly environment: string;
  readonly layer: "platform" | "team";
  /** `aws`, `gcp` or `existing`: which credentials a job needs (from the environment's platform stack). */
  readonly cloud: string;
}

/**
 * The stacks the pipelines deploy: the platform and team stacks of every environment that a
 * promotion stage uses (stacks/stages.yaml). Other environments (`local`) are a developer's and are
 * never deployed from CI. Platform stacks first, then team stacks, each sorted.
 */
export function pipelineStacks(projectDir: string): PipelineStack[] {
  const project = readProject(projectDir);
  const environments = new Set(pipelineStages(project).map((s) => s.environment));
  const clouds = new Map<string, string>();
  const out: PipelineStack[] = [];
  for (const stack of listStacks(project)) {
    const dot = stack.indexOf(".");
    if (dot < 0) continue;
    const environment = stack.slice(0, dot);
    if (!environments.has(environment)) continue;
    const layer = stack.slice(dot + 1) === PLATFORM ? "platform" : "team";
    let cloud = clouds.get(environment);
    if (cloud === undefined) clouds.set(environment, (cloud = platformCloud(project, environment)));
    out.push({ stack, environment, layer, cloud });
  }
  return out.sort((a, b) => (a.layer === b.layer ? a.stack.localeCompare(b.stack) : a.layer === "platform" ? -1 : 1));
}

/** `blueprint:cluster.cloud` of `<environment>.platform`; an environment without one is refused. */
function platformCloud(project: ProjectFile, environment: string): string {
  const { config, file } = readStackConfig(project, `${environment}.${PLATFORM}`);
  const raw = config["blueprint:cluster"];
  let cloud: unknown;
  try {
    cloud = raw === undefined ? undefined : (JSON.parse(raw) as { cloud?: unknown }).cloud;
  } catch {
    cloud = undefined;
  }
  if (cloud !== "aws" && cloud !== "gcp" && cloud !== "existing") {
    throw new Error(
      `${path.relative(project.dir, file)}: blueprint:cluster.cloud must be aws, gcp or existing, got ${JSON.stringify(cloud)}`,
    );
  }
  return cloud;
}

/** Files whose change can change what every stack deploys: the program, its libraries and the policy pack's code. */
const PROGRAM = [
  /^index\.ts$/,
  /^Pulumi\.yaml$/,
  /^package(-lock)?\.json$/,
  /^tsconfig\.json$/,
  /^(layers|components|config|lib)\//,
  /^policy\/(?!config\/)/,
];

/**
 * The stacks a change touches, for previews on a pull request: every stack when the program or the
 * policy pack changed; a stack whose file or policy pack config changed; and the team stacks of an
 * environment whose platform stack changed (their contract may change with it). Promotion files
 * (releases, history, scans, stages.yaml) change no stack's program or config by themselves: a
 * promotion writes the team stack file, which is listed.
 */
export function affectedStacks(changed: readonly string[], stacks: readonly PipelineStack[]): PipelineStack[] {
  const files = changed.map((f) => f.replace(/\\/g, "/").replace(/^\.\//, ""));
  if (files.some((f) => PROGRAM.some((p) => p.test(f)))) return [...stacks];
  const named = new Set<string>();
  for (const f of files) {
    const m = /^stacks\/Pulumi\.(.+)\.yaml$/.exec(f) ?? /^policy\/config\/(.+)\.json$/.exec(f);
    if (m) named.add(m[1]);
  }
  const platformsChanged = new Set(
    stacks
      .filter((s) => s.layer === "platform" && files.includes(`stacks/Pulumi.${s.stack}.yaml`))
      .map((s) => s.environment),
  );
  return stacks.filter((s) => named.has(s.stack) || (s.layer === "team" && platformsChanged.has(s.environment)));
}
