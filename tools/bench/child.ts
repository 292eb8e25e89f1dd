import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { performance } from "node:perf_hooks";
import { platformStackName, syntheticEnvironment, toLayeredStacks, type SyntheticApp } from "./synth";
import {
  admissionObjects,
  appObjects,
  configMapObject,
  namespaceObject,
  platformObjects,
  teamObjects,
  type ObjectSpec,
} from "./reference";
import { ROOT, bareProject } from "./workspace";

/**
 * One measurement, in a fresh process: `child.ts <variant> <apps> [--dump <file>]`.
 * Prints one JSON line ({@link ChildReport}); with `--dump`, also writes the objects produced.
 *
 * - `ours`:  our program (index.ts) under the mock engine, as the offline runner runs it: the
 *            platform stack, then every team stack, one after another in this process;
 * - `bare`:  the bare-SDK reference program under the same runner and mocks;
 * - `bare-components`: the same, wrapped in empty components shaped like ours (for analysis);
 * - `cdk8s`: the same objects synthesised to YAML by cdk8s.
 * - `modules <stack> [<platform outputs file>]`: runs a shipped stack (a team stack against the
 *   platform outputs in the file) and reports which provider SDKs were loaded;
 * - `platform-outputs <platform stack> <file>`: writes a platform stack's outputs to the file.
 */

/** What a child prints. */
export interface ChildReport {
  readonly variant: string;
  readonly apps: number;
  /** Time from before the SDK (or cdk8s) is loaded until every object exists, in ms. */
  readonly evalMs: number;
  /** Kubernetes objects produced. */
  readonly objects: number;
  /** Registrations the engine saw (components, providers, the stack included); objects for cdk8s. */
  readonly registered: number;
}

async function main(argv: string[]): Promise<void> {
  const [variant, arg] = argv;
  const dumpAt = argv.indexOf("--dump");
  const dump = dumpAt >= 0 ? argv[dumpAt + 1] : undefined;
  if (variant === "modules") return modules(arg, argv[2]);
  if (variant === "platform-outputs") return platformOutputs(arg, argv[2]);
  const apps = Number(arg);
  const env = syntheticEnvironment(apps);
  let report: ChildReport;
  let objects: readonly Record<string, unknown>[];
  if (variant === "bare-components") process.env.BENCH_BARE_COMPONENTS = "1";
  if (variant === "ours" || variant === "bare" || variant === "bare-components") {
    const t0 = performance.now();
    const { runProgram } = await import("../offline/run");
    const result = variant === "ours" ? await runLayered(runProgram, env) : await runBare(runProgram, apps);
    const evalMs = performance.now() - t0;
    objects = result.objects;
    report = { variant, apps, evalMs, objects: objects.length, registered: result.resources.length };
  } else if (variant === "cdk8s") {
    const t0 = performance.now();
    const { app, chart } = buildCdk8s(env.apps.length);
    const yaml = app.synthYaml();
    const evalMs = performance.now() - t0;
    if (yaml.length === 0) throw new Error("cdk8s produced no YAML");
    objects = chart.toJson() as Record<string, unknown>[];
    report = { variant, apps, evalMs, objects: objects.length, registered: objects.length };
  } else {
    throw new Error(`bench child: unknown variant ${JSON.stringify(variant)}`);
  }
  if (dump) fs.writeFileSync(dump, JSON.stringify(objects));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * Our program over the environment's layers, one after another in this process: the platform
 * stack, then each team stack reading the platform's outputs. The objects and registrations of
 * all of them.
 */
async function runLayered(
  runProgram: typeof import("../offline/run").runProgram,
  env: ReturnType<typeof syntheticEnvironment>,
): Promise<{ objects: readonly Record<string, unknown>[]; resources: readonly unknown[] }> {
  const stacks = toLayeredStacks(env);
  const platformStack = platformStackName(env);
  const platform = await runProgram({ projectDir: ROOT, stack: platformStack, config: stacks.get(platformStack)! });
  const objects = [...platform.objects];
  const resources: unknown[] = [...platform.resources];
  for (const [stack, config] of stacks) {
    if (stack === platformStack) continue;
    const team = await runProgram({
      projectDir: ROOT,
      stack,
      config,
      stacks: { [platformStack]: platform.stackOutputs },
    });
    objects.push(...team.objects);
    resources.push(...team.resources);
  }
  return { objects, resources };
}

function runBare(runProgram: typeof import("../offline/run").runProgram, apps: number) {
  process.env.BENCH_APPS = String(apps);
  return runProgram({ projectDir: bareProject(), stack: `bench-${apps}`, config: { config: {}, secretKeys: [] } });
}

/**
 * The cdk8s reference: one chart holding every object as an `ApiObject`. The ConfigMap is left
 * unnamed, so cdk8s names it from its construct id and a hash of its path (the chart's own prefix
 * is left out so names read like the others').
 */
function buildCdk8s(apps: number) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cdk8s = require("cdk8s") as typeof import("cdk8s");
  class BenchChart extends cdk8s.Chart {
    public generateObjectName(o: import("cdk8s").ApiObject): string {
      return `${o.node.id}-${createHash("sha256").update(o.node.path).digest("hex").slice(0, 8)}`;
    }
  }
  const env = syntheticEnvironment(apps);
  const app = new cdk8s.App();
  const chart = new BenchChart(app, "bench");
  const add = (o: ObjectSpec) =>
    new cdk8s.ApiObject(chart, o.kind === "ConfigMap" ? o.logicalName : `${o.kind}-${o.logicalName}`, {
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...o.body,
    });
  for (const o of platformObjects()) add(o);
  for (const team of env.teams) {
    add(namespaceObject(team));
    for (const o of teamObjects(team, team.name)) add(o);
  }
  for (const a of env.apps as SyntheticApp[]) {
    const cm = add(configMapObject(a, a.team));
    const refs = {
      namespace: a.team,
      configMapName: cm.name,
      serviceAccountName: a.name,
      priorityClassName: "blueprint-standard",
      deploymentName: a.name,
      image: `${a.repository}@${a.digest}`,
    };
    for (const o of appObjects(a, refs)) add(o);
  }
  for (const o of admissionObjects(env)) add(o);
  return { app, chart };
}

/** A shipped stack's config as the render reads it (secret values as placeholders), and the runner. */
async function shippedStack(stack: string) {
  const { readProject, readStackConfig } = await import("../../lib/project");
  const { fillSecretPlaceholders } = await import("../offline/placeholders");
  const { runProgram } = await import("../offline/run");
  const project = readProject(ROOT);
  const config = readStackConfig(project, stack);
  fillSecretPlaceholders(config, project.name);
  return { config, runProgram };
}

/** Runs a shipped platform stack and writes its outputs, as its team stacks' StackReferences read them, to `file`. */
async function platformOutputs(stack: string, file: string): Promise<void> {
  const { config, runProgram } = await shippedStack(stack);
  fs.writeFileSync(
    file,
    JSON.stringify({ [stack]: (await runProgram({ projectDir: ROOT, stack, config })).stackOutputs }),
  );
}

/** Runs a shipped stack and reports which provider SDK packages ended up loaded. */
async function modules(stack: string, platformOutputs?: string): Promise<void> {
  const { config, runProgram } = await shippedStack(stack);
  const cloud = (JSON.parse(config.config["blueprint:cluster"] ?? "{}") as { cloud?: string }).cloud ?? "unknown";
  const stacks = platformOutputs
    ? (JSON.parse(fs.readFileSync(platformOutputs, "utf8")) as import("../offline/mocks").StackOutputsByName)
    : undefined;
  await runProgram({ projectDir: ROOT, stack, config, stacks });
  const loaded = (pkg: string) =>
    Object.keys(require.cache).filter((f) => f.includes(`/node_modules/@pulumi/${pkg}/`)).length;
  process.stdout.write(
    `${JSON.stringify({ stack, cloud, modules: { aws: loaded("aws"), gcp: loaded("gcp"), kubernetes: loaded("kubernetes") } })}\n`,
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
