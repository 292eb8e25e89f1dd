import * as path from "node:path";
import {
  RecordingMocks,
  isKubernetesObject,
  redactSecrets,
  revealSecrets,
  toManifest,
  type CallAnswer,
  type ComputedState,
  type RegisteredResource,
  type StackOutputs,
  type StackOutputsByName,
} from "./mocks";
import { cloudCalls, cloudState } from "./cloud-state";
import { programFile } from "./compiled";
import { readProject, readStackConfig, type ProjectFile, type StackConfig } from "../../lib/project";

/** The Pulumi organization of an offline run (the default of a self-managed backend). */
export const OFFLINE_ORGANIZATION = "organization";

/** Options for {@link runProgram}. */
export interface RunOptions {
  /** Project folder (holding Pulumi.yaml). @default process.cwd() */
  readonly projectDir?: string;
  readonly stack: string;
  /** Config to use instead of the stack file's (same shape as {@link StackConfig}). */
  readonly config?: Pick<StackConfig, "config" | "secretKeys">;
  /** The program file to run instead of the project's `main` (e.g. its compiled JavaScript). */
  readonly main?: string;
  readonly computed?: ComputedState;
  readonly calls?: CallAnswer;
  /** Outputs of other stacks (the platform's, for a team stack), answering its StackReferences. */
  readonly stacks?: StackOutputsByName;
  /**
   * Keep stack traces while the program runs (render's `--trace`). Off by default, unless the
   * environment sets `BLUEPRINT_TRACE=1` (for debugging the program under tests and tools): see
   * {@link withoutStackTraces}. An error thrown by the program keeps its name and message either way.
   */
  readonly trace?: boolean;
}

/** Everything one offline run of the program produced. */
export interface RunResult {
  readonly project: ProjectFile;
  readonly stack: string;
  /** Every registration, in order. */
  readonly resources: readonly RegisteredResource[];
  /** Kubernetes objects as they would be applied, secrets redacted. */
  readonly objects: readonly Record<string, unknown>[];
  /** Stack outputs, with secret outputs shown as `[secret]` (as `pulumi stack output --json` does). */
  readonly outputs: Record<string, unknown>;
  /**
   * The same outputs with secrets revealed, as the engine hands them to a StackReference of this
   * stack: what an offline environment render feeds its team stacks. Never written to disk.
   */
  readonly stackOutputs: StackOutputs;
  /** Resources (Kubernetes or cloud) registered without an explicit provider. */
  readonly defaultProviderUses: readonly string[];
  /** `<type>::<name>` of every resource registered with the `protect` option (the mocks do not see options). */
  readonly protectedResources: ReadonlySet<string>;
}

/**
 * Runs the project's real program under Pulumi's mock engine, as the Pulumi Node host would:
 * sets the mocks and the stack's config, runs `main` (awaiting an exported function), and waits
 * until every registration has completed. Each run sets its own mocks and config and removes the
 * process hooks it added, so runs may follow one another in a process (the render's workers do).
 */
export async function runProgram(opts: RunOptions): Promise<RunResult> {
  const run = () => withOwnProcessHooks(() => runOnce(opts));
  return (opts.trace ?? process.env.BLUEPRINT_TRACE === "1") ? run() : withoutStackTraces(run);
}

/**
 * Runs `body` without stack traces. The SDK records one for every internal promise
 * (runtime/debuggable.js) and, whatever `Error.stackTraceLimit` says, a full one for every resource
 * it constructs (`Resource.callsites`, which only feeds the engine's source positions, which mocks
 * ignore). Formatting them through source maps (tsx, jest) is a third of a run under jest and a
 * few percent of a render. Errors thrown meanwhile keep their name and message, which is all an
 * offline run prints without `--trace`.
 */
export async function withoutStackTraces<T>(body: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = 0;
  Error.prepareStackTrace = () => "";
  try {
    return await body();
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}

/** Process events an SDK instance hooks once per instance (its promise-leak report, gRPC shutdown). */
const PROCESS_HOOKS = ["exit", "beforeExit"] as const;

/**
 * Runs `body` and then removes the process `exit`/`beforeExit` listeners it added. Each run loads
 * a fresh SDK instance, which hooks process exit once (runtime/debuggable.js reports leaked
 * promises there); once the run has drained, that instance is discarded and its hooks have nothing
 * left to do. Without this, every run in one process (a test file, the bench) leaks listeners
 * until Node warns with MaxListenersExceededWarning.
 */
export async function withOwnProcessHooks<T>(body: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const emitter = process as unknown as {
    listeners(e: string): Listener[];
    removeListener(e: string, l: Listener): void;
  };
  const before = new Map(PROCESS_HOOKS.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await body();
  } finally {
    for (const e of PROCESS_HOOKS) {
      for (const l of emitter.listeners(e)) if (!before.get(e)!.has(l)) emitter.removeListener(e, l);
    }
  }
}

async function runOnce(opts: RunOptions): Promise<RunResult> {
  const project = readProject(opts.projectDir ?? process.cwd());
  const stackConfig = opts.config ?? readStackConfig(project, opts.stack);
  // Loaded here, not at the top, so each run can get a fresh SDK instance.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const mocks = new RecordingMocks(opts.computed ?? cloudState, opts.calls ?? cloudCalls, opts.stacks);
  // The organization a real backend would give; StackReferences are qualified with it.
  await pulumi.runtime.setMocks(mocks, project.name, opts.stack, false, OFFLINE_ORGANIZATION);
  const protectedResources = recordProtected();
  pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);

  let exported: Record<string, unknown> = {};
  let failure: unknown;
  await pulumi.runtime.runInPulumiStack(async () => {
    // A rejection inside the stack's initialisation escapes as an unhandled rejection; keep it
    // here and rethrow once the engine is idle, as the Pulumi host reports a failed program.
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(programFile(path.resolve(opts.main ?? project.main))) as unknown;
      const program = (mod as { default?: unknown }).default ?? mod;
      exported = ((typeof program === "function" ? await (program as () => unknown)() : program) ?? {}) as Record<
        string,
        unknown
      >;
    } catch (e) {
      failure = e;
    }
    return failure ? {} : exported;
  });
  await waitForRegistrations(pulumi);
  if (failure) throw failure;

  const outputs: Record<string, unknown> = {};
  const revealed: Record<string, unknown> = {};
  const secretOutputNames: string[] = [];
  for (const [k, v] of Object.entries(exported)) {
    outputs[k] = await plain(pulumi, v);
    revealed[k] = await plain(pulumi, v, true);
    if (pulumi.Output.isInstance(v) && (await (v as unknown as { isSecret: Promise<boolean> }).isSecret))
      secretOutputNames.push(k);
  }

  const kube = mocks.resources.filter((r) => isKubernetesObject(r.type));
  return {
    project,
    stack: opts.stack,
    resources: mocks.resources,
    objects: kube.map((r) => toManifest(r.state)),
    outputs,
    stackOutputs: { outputs: revealed, secretOutputNames },
    // Every stack disables all default providers: each cloud or Kubernetes resource needs an explicit one.
    defaultProviderUses: mocks.resources
      .filter((r) => r.custom && !r.type.startsWith("pulumi:") && !r.provider)
      .map((r) => `${r.type} "${r.name}"`),
    protectedResources,
  };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getProtect(): boolean | undefined;
}
type RegisterResource = (req: RegisterRequest, callback: unknown) => unknown;

/**
 * Records which resources are registered with `protect`: the option travels in the monitor's
 * request, which the mock hook never sees, so the mock monitor's `registerResource` is wrapped.
 */
function recordProtected(): Set<string> {
  const found = new Set<string>();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): { registerResource: RegisterResource };
  };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    if (req.getProtect()) found.add(`${req.getType()}::${req.getName()}`);
    return register(req, callback);
  };
  return found;
}

async function waitForRegistrations(pulumi: typeof import("@pulumi/pulumi")): Promise<void> {
  // The SDK's own drain of outstanding RPCs (what `pulumi up` waits for before exiting).
  const settings = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  const wait =
    settings.waitForRPCs ??
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> }).waitForRPCs;
  await wait();
}

/** Resolves outputs to plain JSON, with secrets redacted (or, with `reveal`, unwrapped). */
async function plain(pulumi: typeof import("@pulumi/pulumi"), v: unknown, reveal = false): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) {
    const out = v as import("@pulumi/pulumi").Output<unknown>;
    if (!reveal && (await (out as unknown as { isSecret: Promise<boolean> }).isSecret)) return "[secret]";
    return plain(pulumi, await new Promise((resolve) => out.apply(resolve)), reveal);
  }
  if (v instanceof Promise) return plain(pulumi, await v, reveal);
  if (Array.isArray(v)) return Promise.all(v.map((x) => plain(pulumi, x, reveal)));
  if (v !== null && typeof v === "object") {
    const entries = await Promise.all(
      Object.entries(v).map(async ([k, x]) => [k, await plain(pulumi, x, reveal)] as const),
    );
    return Object.fromEntries(entries);
  }
  return reveal ? revealSecrets(v) : redactSecrets(v);
}
