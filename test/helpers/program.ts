import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ConfigError } from "../../lib/errors";
import type { RunResult } from "../../tools/offline/run";
import type { StackOutputsByName } from "../../tools/offline/mocks";
import type { ContractLookup } from "../../config/contract";
import { readProject, readStackConfig, stackFilePath, type StackConfig } from "../../lib/project";
import { platformKey } from "../../tools/offline/contract-cache";
import { fillSecretPlaceholders } from "../../tools/offline/placeholders";

// Kubernetes version support is judged on a pinned day, so every run of the program in tests gives
// the same answer whatever the date (test/cluster checks the shipped minors against the real clock).
process.env.BLUEPRINT_EVALUATION_DATE ??= "2026-11-29";

/** The project folder (holding Pulumi.yaml). */
export const PROJECT_DIR = path.resolve(__dirname, "../..");

/** A Kubernetes object as rendered. */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** A stack's config as the offline runner reads it, ready to be edited by a test. */
export function stackConfig(stack: string): StackConfig {
  const cfg = readStackConfig(readProject(PROJECT_DIR), stack);
  fillSecretPlaceholders(cfg, "blueprint");
  return cfg;
}

/** `namespace:key.path.to.field`, or `["namespace:key", "path", "field.with.dots"]`. */
export type KeyPath = string | readonly string[];

/**
 * Sets a value at a key path in a config map (structured values are JSON), or deletes it when
 * `value` is undefined. Returns the same config for chaining.
 */
export function setConfig(cfg: StackConfig, keyPath: KeyPath, value: unknown): StackConfig {
  const [key, ...rest] = splitKey(keyPath);
  if (rest.length === 0) {
    if (value === undefined) delete cfg.config[key];
    else cfg.config[key] = typeof value === "string" ? value : JSON.stringify(value);
    return cfg;
  }
  const root = cfg.config[key] === undefined ? {} : (JSON.parse(cfg.config[key]) as Record<string, unknown>);
  let cur = root;
  for (const p of rest.slice(0, -1)) {
    if (cur[p] === undefined || cur[p] === null || typeof cur[p] !== "object") cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  const last = rest[rest.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  cfg.config[key] = JSON.stringify(root);
  return cfg;
}

/** The config problems `run` throws, as `<key> <message>` lines; empty when it throws none. */
export function collect(run: () => void): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.key} ${p.message}`);
    throw e;
  }
  return [];
}

/** `cfg` with each edit (`[key path, value]`) applied, for tests that change one key of a stack. */
export function withEdits(cfg: StackConfig, edits: ReadonlyArray<readonly [KeyPath, unknown]>): StackConfig {
  for (const [k, v] of edits) setConfig(cfg, k, v);
  return cfg;
}

/** Points a config at an existing cluster (a kubeconfig context), whatever cloud the stack uses. */
export function onExistingCluster(
  cfg: StackConfig,
  existing: Record<string, unknown> = { context: "test" },
): StackConfig {
  const version = getConfig(cfg, "blueprint:cluster.kubernetesVersion");
  return setConfig(cfg, "blueprint:cluster", { cloud: "existing", kubernetesVersion: version, existing });
}

/** Reads a value at `namespace:key.path` from a config map. */
export function getConfig(cfg: StackConfig, keyPath: KeyPath): unknown {
  const [key, ...rest] = splitKey(keyPath);
  const text = cfg.config[key];
  if (text === undefined) return undefined;
  let cur: unknown = rest.length ? JSON.parse(text) : text;
  for (const p of rest) cur = (cur as Record<string, unknown> | undefined)?.[p];
  return cur;
}

function splitKey(keyPath: KeyPath): string[] {
  if (typeof keyPath !== "string") return [...keyPath];
  const colon = keyPath.indexOf(":");
  const [first, ...rest] = keyPath.slice(colon + 1).split(".");
  return [`${keyPath.slice(0, colon)}:${first}`, ...rest];
}

/** How a team stack's StackReference is answered in a test. */
export interface RunOptions {
  /**
   * Other stacks' outputs. Default for a team stack: the outputs of its platform stack
   * (`<env>.platform`, as shipped), run once per test file.
   */
  readonly stacks?: StackOutputsByName;
}

/**
 * Runs `body`, which loads the SDK and the program (`import`, `require`) and runs them under the
 * mock engine, in this test file's module registry, so the SDK and the program are loaded once per
 * file rather than once per run (loading them under jest costs seconds; a run of a team stack
 * costs a fraction of a second). Runs follow one another safely: each sets its own mocks, config
 * and root stack resource, and the program keeps no state between runs
 * (test/tools/run-isolation.test.ts proves that two runs in one registry see nothing of each other).
 *
 * Stack traces are off while the body runs (see withoutStackTraces): the SDK records one for every
 * internal promise and every resource, and jest maps each through source maps, which was a third
 * of a run's time. Set
 * `BLUEPRINT_TRACE=1` to keep them when debugging the program (runProgram reads it too).
 */
export async function underMocks<T>(body: () => Promise<T>): Promise<T> {
  if (process.env.BLUEPRINT_TRACE === "1") return body();
  const { withoutStackTraces } = await import("../../tools/offline/run");
  return withoutStackTraces(body);
}

/**
 * Runs the real program for `stack` under the mock engine and returns what it registered. Pass
 * `cfg` to run with edited config. A team stack reads the contract of its shipped platform stack
 * unless `opts.stacks` says otherwise.
 */
export async function runStack(stack: string, cfg?: StackConfig, opts: RunOptions = {}): Promise<RunResult> {
  const config = cfg ?? stackConfig(stack);
  const stacks = opts.stacks ?? (config.config["blueprint:layer"] === "team" ? await platformOf(stack) : undefined);
  const run = () =>
    warmRun(stack, config, stacks) ??
    underMocks(async () => {
      const { runProgram } = await import("../../tools/offline/run");
      return runProgram({ projectDir: PROJECT_DIR, stack, config, stacks });
    });
  return (await isShippedRun(stack, config, opts.stacks)) ? sharedRun(stack, run) : run();
}

/** What the suite's test environment (test/helpers/environment.cjs) answers a run with. */
type WarmReply = { ok: true; json: string } | { ok: false; name: string; message: string };

/**
 * Runs the program in the warm process of this jest worker (test/helpers/run-server.cjs), which
 * loaded the SDK and the program once for every test file the worker runs, instead of in this
 * file's module registry. Undefined when there is none (another test environment) or
 * `BLUEPRINT_TEST_RUN_SERVER=off`. An error keeps its name and message, as an offline run's does.
 */
function warmRun(
  stack: string,
  config: StackConfig,
  stacks: StackOutputsByName | undefined,
): Promise<RunResult> | undefined {
  const server = (globalThis as { __blueprintRunServer?: (job: unknown) => Promise<WarmReply> }).__blueprintRunServer;
  if (!server || process.env.BLUEPRINT_TEST_RUN_SERVER === "off") return undefined;
  const job = {
    projectDir: PROJECT_DIR,
    stack,
    config: { config: config.config, secretKeys: config.secretKeys },
    stacks,
    evaluationDate: process.env.BLUEPRINT_EVALUATION_DATE,
  };
  return server(job).then((reply) => {
    if (!reply.ok) {
      const error = new Error(reply.message);
      error.name = reply.name;
      error.stack = `${reply.name}: ${reply.message}`;
      throw error;
    }
    const kept = JSON.parse(reply.json) as RunResult & { protectedResources: string[] };
    return { ...kept, protectedResources: new Set(kept.protectedResources) };
  });
}

/**
 * Whether a run is of a shipped stack as shipped: its config unchanged and, for a team stack, its
 * platform's outputs those of the shipped platform. Only such runs are shared between test files.
 */
async function isShippedRun(stack: string, cfg: StackConfig, stacks: StackOutputsByName | undefined): Promise<boolean> {
  if (process.env.BLUEPRINT_TEST_RUN_CACHE === "off" || !shippedStacks().includes(stack)) return false;
  const shipped = stackConfig(stack);
  if (
    !isDeepStrictEqual(cfg.config, shipped.config) ||
    !isDeepStrictEqual([...cfg.secretKeys], [...shipped.secretKeys])
  )
    return false;
  return stacks === undefined || isDeepStrictEqual(stacks, await platformOf(stack));
}

/** Where runs of shipped stacks are kept between test files (and test runs): derived, disposable. */
const RUN_CACHE = path.join(PROJECT_DIR, "node_modules", ".cache", "blueprint", "test-runs");

const runKeys = new Map<string, string>();

/**
 * The content key of a shipped stack's run: its platform's (the platform stack file, the project
 * file, every source of the program and the offline runner, the lockfile, the evaluation day; see
 * `platformKey`), plus the team stack file for a team stack. Any change to any of them is another key.
 */
function runKey(stack: string): string {
  const project = readProject(PROJECT_DIR);
  const platform = `${stack.split(".")[0]}.platform`;
  // The sources do not change while a test file runs; the stack files might (a test may write one).
  const [platformText, stackText] = [platform, stack].map((s) => fs.readFileSync(stackFilePath(project, s), "utf8"));
  const memo = `${stack}\0${platformText}\0${stackText}`;
  let key = runKeys.get(memo);
  if (!key) {
    const hash = createHash("sha256").update(platformKey(project, platform));
    if (stack !== platform) hash.update("\0team\0").update(stackText);
    key = hash.digest("hex");
    runKeys.set(memo, key);
  }
  return key;
}

/**
 * A run of a shipped stack as shipped, shared by every test file: the first file that needs it
 * runs the program and keeps the result under its content key; the others read it. Each call
 * returns a fresh copy, which the caller may change. Many suites assert on the same fifteen runs,
 * and a platform's run costs about a second. `BLUEPRINT_TEST_RUN_CACHE=off` runs every time.
 */
async function sharedRun(stack: string, run: () => Promise<RunResult>): Promise<RunResult> {
  const file = path.join(RUN_CACHE, `${stack}.${runKey(stack)}.json`);
  try {
    const kept = JSON.parse(fs.readFileSync(file, "utf8")) as RunResult & { protectedResources: string[] };
    return { ...kept, protectedResources: new Set(kept.protectedResources) };
  } catch {
    // Not kept yet (or half-written by a process that died): run it.
  }
  const result = await run();
  try {
    fs.mkdirSync(RUN_CACHE, { recursive: true, mode: 0o700 });
    // Results of older sources are of no use any more.
    for (const old of fs.readdirSync(RUN_CACHE))
      if (old.startsWith(`${stack}.`) && old !== path.basename(file))
        fs.rmSync(path.join(RUN_CACHE, old), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ ...result, protectedResources: [...result.protectedResources] }), {
      mode: 0o600,
    });
    fs.renameSync(tmp, file);
  } catch {
    // A run that cannot be kept only costs the next file a run.
  }
  return result;
}

const platforms = new Map<string, Promise<StackOutputsByName>>();

/** The outputs of a team stack's shipped platform stack, as its StackReference reads them (one run per test file). */
export function platformOf(stack: string): Promise<StackOutputsByName> {
  const platform = `${stack.split(".")[0]}.platform`;
  let outputs = platforms.get(platform);
  if (!outputs) {
    outputs = runStack(platform).then((r) => ({ [platform]: r.stackOutputs }));
    platforms.set(platform, outputs);
  }
  return outputs;
}

/**
 * The contract lookup a team stack's config is checked against: its shipped platform's contract
 * output, deep-copied so a test may edit it (`edit` receives the team's entry).
 */
export async function contractLookup(
  stack: string,
  edit?: (teamContract: Record<string, unknown>) => void,
): Promise<ContractLookup> {
  const platform = `${stack.split(".")[0]}.platform`;
  const contract = structuredClone((await platformOf(stack))[platform].outputs.contract) as Record<
    string,
    Record<string, unknown>
  >;
  if (edit) edit(contract[stack.slice(stack.indexOf(".") + 1)]);
  return { found: true, value: contract };
}

/** The outputs of a platform run, as a team stack's StackReference reads them. */
export function asPlatform(result: RunResult): StackOutputsByName {
  return { [result.stack]: result.stackOutputs };
}

/** The team stacks of an environment that ship in stacks/ (`<env>.<team>`). */
export function teamStacksOf(env: string): string[] {
  return shippedStacks().filter((s) => s.startsWith(`${env}.`) && s !== `${env}.platform`);
}

/** The shipped environments (those with a `<env>.platform` stack). */
export function shippedEnvironments(): string[] {
  return shippedStacks()
    .filter((s) => s.endsWith(".platform"))
    .map((s) => s.slice(0, -".platform".length));
}

/** A whole environment: its platform stack, then each team stack against the platform's outputs. */
export async function runEnvironment(env: string): Promise<{ platform: RunResult; teams: Record<string, RunResult> }> {
  const platform = await runStack(`${env}.platform`);
  const teams: Record<string, RunResult> = {};
  for (const stack of teamStacksOf(env))
    teams[stack] = await runStack(stack, stackConfig(stack), { stacks: asPlatform(platform) });
  return { platform, teams };
}

/** Like {@link runStack}, but expects the program to fail and returns the error's message. */
export async function runStackError(stack: string, cfg: StackConfig, opts: RunOptions = {}): Promise<string> {
  try {
    await runStack(stack, cfg, opts);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`stack ${stack} rendered, but an error was expected`);
}

/** The objects of one kind, keyed by `namespace/name` (or `name` when cluster-scoped). */
export function byKind(result: RunResult, kind: string): Map<string, K8sObject> {
  const out = new Map<string, K8sObject>();
  for (const o of result.objects as K8sObject[]) {
    if (o.kind !== kind) continue;
    out.set(o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name, o);
  }
  return out;
}

/** One object; fails the test when it is missing. */
export function getObject(result: RunResult, kind: string, id: string): K8sObject {
  const o = byKind(result, kind).get(id);
  if (!o) throw new Error(`no ${kind} ${id} among: ${[...byKind(result, kind).keys()].join(", ") || "none"}`);
  return o;
}

/** The stacks shipped in stacks/. */
export function shippedStacks(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { listStacks } = require("../../lib/project") as typeof import("../../lib/project");
  return listStacks(readProject(PROJECT_DIR));
}

/** What {@link runComponents} gives the test body: modules loaded in the run's own registry. */
export interface ComponentsScope {
  readonly pulumi: typeof import("@pulumi/pulumi");
  readonly k8s: typeof import("@pulumi/kubernetes");
  readonly components: typeof import("../../components/index");
  /** An explicit Kubernetes provider, as every stack uses. */
  readonly provider: import("@pulumi/kubernetes").Provider;
}

/**
 * Runs a test body that builds components directly (not through the program) under the same mock
 * engine, waits for every registration, and returns the Kubernetes objects and the body's value.
 */
export async function runComponents<T>(body: (scope: ComponentsScope) => T | Promise<T>): Promise<{
  objects: K8sObject[];
  resources: readonly import("../../tools/offline/mocks").RegisteredResource[];
  value: T;
}> {
  let out:
    | { objects: K8sObject[]; resources: readonly import("../../tools/offline/mocks").RegisteredResource[]; value: T }
    | undefined;
  const { withOwnProcessHooks } = await import("../../tools/offline/run");
  await withOwnProcessHooks(() =>
    underMocks(async () => {
      const pulumi = await import("@pulumi/pulumi");
      const k8s = await import("@pulumi/kubernetes");
      const components = await import("../../components/index");
      const mocksModule = await import("../../tools/offline/mocks");
      const mocks = new mocksModule.RecordingMocks();
      await pulumi.runtime.setMocks(mocks, "blueprint", "test", false);
      let value: T | undefined;
      let failure: unknown;
      await pulumi.runtime.runInPulumiStack(async () => {
        try {
          const provider = new k8s.Provider("test-k8s", { context: "test" });
          value = await body({ pulumi, k8s, components, provider });
        } catch (e) {
          failure = e;
        }
        return {};
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> }).waitForRPCs();
      if (failure) throw failure;
      out = {
        objects: mocks.resources
          .filter((r) => mocksModule.isKubernetesObject(r.type))
          .map((r) => mocksModule.toManifest(r.state) as K8sObject),
        resources: mocks.resources,
        value: value as T,
      };
    }),
  );
  return out!;
}
