import type { RunResult } from "../../tools/offline/run";
import type { RegisteredResource } from "../../tools/offline/mocks";
import type { StackConfig } from "../../lib/project";
import type { ClusterHandle } from "../../components/cluster";
import { asPlatform, PROJECT_DIR, runStack, setConfig, stackConfig, underMocks } from "../helpers/program";
import type { StackOutputsByName } from "../../tools/offline/mocks";

/** The cloud resources of one type, in registration order. */
export function ofType(result: Pick<RunResult, "resources">, type: string): RegisteredResource[] {
  return result.resources.filter((r) => r.type === type);
}

/** The single resource of a type; fails when there is not exactly one. */
export function one(result: Pick<RunResult, "resources">, type: string, name?: string): RegisteredResource {
  const found = ofType(result, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1)
    throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

/** The clear value of a secret as the SDK serializes it into mock inputs. */
export function unsecret(v: unknown): unknown {
  if (
    v &&
    typeof v === "object" &&
    "value" in v &&
    Object.keys(v).some((k) => k === "4dabf18193072939515e22adb298388d")
  ) {
    return (v as { value: unknown }).value;
  }
  return v;
}

/** What a run that fails produced: the error message and the resources registered before it. */
export interface FailedRun {
  readonly message: string;
  readonly registered: readonly string[];
}

/** Runs the program expecting it to fail; also returns the cloud resources registered before the failure. */
export async function runFailing(stack: string, cfg: StackConfig, stacks?: StackOutputsByName): Promise<FailedRun> {
  const registered: string[] = [];
  let message: string | undefined;
  await underMocks(async () => {
    const { runProgram } = await import("../../tools/offline/run");
    const { cloudState, cloudCalls } = await import("../../tools/offline/cloud-state");
    try {
      await runProgram({
        projectDir: PROJECT_DIR,
        stack,
        config: cfg,
        stacks,
        calls: cloudCalls,
        computed: (type, name, inputs) => {
          if (!type.startsWith("pulumi:pulumi:")) registered.push(`${type} ${name}`);
          return cloudState(type, name, inputs);
        },
      });
    } catch (e) {
      message = (e as Error).message;
    }
  });
  if (message === undefined) throw new Error(`stack ${stack} rendered, but an error was expected`);
  return { message, registered };
}

/**
 * Runs only the cluster seam (`createCluster`) for a stack's config under the mock engine and
 * returns the handle it produced, with everything it registered.
 */
export async function clusterHandle(
  stack: string,
  cfg: StackConfig = stackConfig(stack),
  createOpts: { offline?: boolean } = {},
): Promise<{ handle: ClusterHandle; resources: RegisteredResource[] }> {
  let handle: ClusterHandle | undefined;
  let resources: RegisteredResource[] = [];
  await underMocks(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { RecordingMocks } = await import("../../tools/offline/mocks");
    const { cloudState, cloudCalls } = await import("../../tools/offline/cloud-state");
    const { parsePlatform } = await import("../../config/load");
    const { createCluster } = await import("../../layers/cluster");
    const mocks = new RecordingMocks(cloudState, cloudCalls);
    await pulumi.runtime.setMocks(mocks, "blueprint", stack, false);
    pulumi.runtime.setAllConfig(cfg.config, cfg.secretKeys);
    let failure: unknown;
    await pulumi.runtime.runInPulumiStack(async () => {
      // A rejection here would escape as an unhandled one: keep it and rethrow once the engine is idle.
      try {
        handle = await createCluster(
          parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)),
          createOpts,
        );
      } catch (e) {
        failure = e;
      }
      return {};
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> }).waitForRPCs();
    if (failure) throw failure;
    resources = mocks.resources;
  });
  return { handle: handle!, resources };
}

/**
 * An environment's platform stack and one of its team stacks, run in turn (the team against the
 * platform's outputs) and merged into one result, platform first: what one stack held before
 * the layers. Each config may be edited; the outputs are the platform's.
 */
export async function runLayers(
  env: string,
  platformCfg: StackConfig = stackConfig(`${env}.platform`),
  teamCfg: StackConfig = stackConfig(`${env}.shop`),
  team = "shop",
): Promise<RunResult> {
  const platform = await runStack(`${env}.platform`, platformCfg);
  const app = await runStack(`${env}.${team}`, teamCfg, { stacks: asPlatform(platform) });
  return {
    ...platform,
    resources: [...platform.resources, ...app.resources],
    objects: [...platform.objects, ...app.objects],
    defaultProviderUses: [...platform.defaultProviderUses, ...app.defaultProviderUses],
  };
}

/**
 * Lets the team's app bind a cloud identity: the platform offers it to the team (for the app's
 * ServiceAccount and its release Job's), and the team stack names it.
 */
export function withIdentity(
  env: string,
  app: string,
  cloudIdentity: string,
  team = "shop",
): { platform: StackConfig; team: StackConfig } {
  return {
    platform: setConfig(stackConfig(`${env}.platform`), `blueprint:teams.${team}.identities`, {
      [app]: { cloudIdentity, serviceAccounts: [app, `${app}-admin`] },
    }),
    team: setConfig(stackConfig(`${env}.${team}`), `blueprint:apps.${app}.identity`, app),
  };
}

/** A resource as `type::name`, the way the dependency graph names it. */
export type ResourceKey = string;

/** What the engine was told about one registration: its parent and the resources it waits for. */
export interface Registration {
  readonly parent?: ResourceKey;
  /** Direct dependencies (`dependsOn`, expanded to a component's children, plus input dependencies). */
  readonly dependsOn: ReadonlySet<ResourceKey>;
  /** The same dependencies as the engine names them: full URNs (parent chain included). */
  readonly dependencyUrns: ReadonlySet<string>;
  /** The provider reference, `urn::id`. */
  readonly provider?: string;
  /** The names this resource was known by before (its `aliases`), as the engine receives them. */
  readonly aliases: readonly string[];
}

/** `type::name` of a URN (the last type of a parent-qualified type). */
export function keyOfUrn(urn: string): ResourceKey {
  const [, , qualifiedType, name] = urn.split("::");
  return `${qualifiedType.split("$").pop()}::${name}`;
}

/**
 * Runs the program for a stack like `runStack`, and records the dependencies each registration
 * carried to the engine. The mock hook never sees them; the monitor's requests do
 * (`getDependenciesList`, `getParent`), so ordering (`dependsOn`) can be asserted offline.
 */
export async function runStackWithGraph(
  stack: string,
  cfg: StackConfig = stackConfig(stack),
  stacks?: StackOutputsByName,
): Promise<{ result: RunResult; graph: Map<ResourceKey, Registration> }> {
  const graph = new Map<ResourceKey, Registration>();
  let result: RunResult | undefined;
  await underMocks(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as {
      MockMonitor: { prototype: { registerResource(req: RegisterRequest, cb: unknown): Promise<void> } };
    };
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: unknown, req: RegisterRequest, cb: unknown) {
      const parent = req.getParent();
      graph.set(`${req.getType()}::${req.getName()}`, {
        parent: parent ? keyOfUrn(parent) : undefined,
        dependsOn: new Set(req.getDependenciesList().map(keyOfUrn)),
        dependencyUrns: new Set(req.getDependenciesList()),
        provider: req.getProvider() || undefined,
        aliases: [
          ...req.getAliasurnsList().map((urn) => urn.split("::").pop() ?? urn),
          ...req.getAliasesList().map((a) => a.getSpec()?.getName() || (a.getUrn().split("::").pop() ?? "")),
        ],
      });
      return original.call(this, req, cb);
    };
    try {
      const { runProgram } = await import("../../tools/offline/run");
      result = await runProgram({ projectDir: PROJECT_DIR, stack, config: cfg, stacks });
    } finally {
      // The SDK is shared by the runs of this test file: the next run records into its own graph or none.
      MockMonitor.prototype.registerResource = original;
    }
  });
  return { result: result!, graph };
}

/** The parts of a RegisterResourceRequest the graph reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getProvider(): string;
  getAliasurnsList(): string[];
  getAliasesList(): Array<{ getUrn(): string; getSpec(): { getName(): string } | undefined }>;
}

/** The registration of `type::name`; fails when it was never registered. */
export function registration(graph: ReadonlyMap<ResourceKey, Registration>, key: ResourceKey): Registration {
  const r = graph.get(key);
  if (!r)
    throw new Error(
      `${key} was not registered; registered: ${[...graph.keys()].filter((k) => k.startsWith(key.split("::")[0])).join(", ")}`,
    );
  return r;
}

/** The URN a registered resource got (its output, once the run is over). */
export function urnOf(resource: { readonly urn: { apply<U>(f: (urn: string) => U): unknown } }): Promise<string> {
  return new Promise((resolve) => resource.urn.apply((urn) => resolve(urn)));
}
