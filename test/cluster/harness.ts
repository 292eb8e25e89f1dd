import type { RunResult } from "../../tools/offline/run";
import type { RegisteredResource } from "../../tools/offline/mocks";
import type { StackConfig } from "../../tools/offline/project";
import type { ClusterHandle } from "../../components/cluster";
import { PROJECT_DIR, stackConfig } from "../helpers/program";

/** The cloud resources of one type, in registration order. */
export function ofType(result: Pick<RunResult, "resources">, type: string): RegisteredResource[] {
  return result.resources.filter((r) => r.type === type);
}

/** The single resource of a type; fails when there is not exactly one. */
export function one(result: Pick<RunResult, "resources">, type: string): RegisteredResource {
  const found = ofType(result, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

/** The clear value of a secret as the SDK serializes it into mock inputs. */
export function unsecret(v: unknown): unknown {
  if (v && typeof v === "object" && "value" in v && Object.keys(v).some((k) => k === "4dabf18193072939515e22adb298388d")) {
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
export async function runFailing(stack: string, cfg: StackConfig): Promise<FailedRun> {
  const registered: string[] = [];
  let message: string | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = await import("../../tools/offline/run");
    const { cloudState, cloudCalls } = await import("../../tools/offline/cloud-state");
    try {
      await runProgram({
        projectDir: PROJECT_DIR,
        stack,
        config: cfg,
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
export async function clusterHandle(stack: string, cfg: StackConfig = stackConfig(stack)): Promise<{ handle: ClusterHandle; resources: RegisteredResource[] }> {
  let handle: ClusterHandle | undefined;
  let resources: RegisteredResource[] = [];
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { RecordingMocks } = await import("../../tools/offline/mocks");
    const { cloudState, cloudCalls } = await import("../../tools/offline/cloud-state");
    const { parseEnvironment } = await import("../../config/load");
    const { createCluster } = await import("../../components/cluster");
    const mocks = new RecordingMocks(cloudState, cloudCalls);
    await pulumi.runtime.setMocks(mocks, "blueprint", stack, false);
    pulumi.runtime.setAllConfig(cfg.config, cfg.secretKeys);
    await pulumi.runtime.runInPulumiStack(async () => {
      handle = await createCluster(parseEnvironment(cfg.config, stack, "blueprint", new Set(cfg.secretKeys)));
      return {};
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> }).waitForRPCs();
    resources = mocks.resources;
  });
  return { handle: handle!, resources };
}
