import type { RunResult } from "../../tools/offline/run";
import { asPlatform, PROJECT_DIR, runStack, runStackError, setConfig, stackConfig } from "../helpers/program";

/**
 * The test harness runs every program of a test file in one module registry (one SDK instance),
 * and the render's workers run many stacks in one process. These tests prove that a run sees
 * nothing of the runs before it: not their config, not their resources, not their stack outputs,
 * also after a run that failed.
 */

// These runs must happen, in this file's process, where the SDK's state can be inspected after
// each: not in the suite's warm run process (test/helpers/environment.cjs), which runs programs one
// after another by the same runProgram whose isolation this file proves, and not read from the
// shared runs of shipped stacks.
process.env.BLUEPRINT_TEST_RUN_SERVER = "off";
process.env.BLUEPRINT_TEST_RUN_CACHE = "off";

/** A run of `stack` in a module registry of its own (a fresh SDK instance and program). */
async function isolatedRun(
  stack: string,
  cfg = stackConfig(stack),
  stacks?: Parameters<typeof runStack>[2],
): Promise<RunResult> {
  let result: RunResult | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = await import("../../tools/offline/run");
    result = await runProgram({ projectDir: PROJECT_DIR, stack, config: cfg, stacks: stacks?.stacks });
  });
  return result!;
}

/** What a run produced that a later run could be confused by: objects, registrations and outputs. */
const seen = (r: RunResult) => ({
  objects: r.objects,
  resources: r.resources.map((x) => `${x.type}::${x.name}`),
  outputs: r.outputs,
  stackOutputs: r.stackOutputs,
});

/** The SDK instance of this file's registry: the one runStack uses. */
const sdk = () => require("@pulumi/pulumi") as typeof import("@pulumi/pulumi"); // eslint-disable-line @typescript-eslint/no-require-imports

describe("runs that follow one another in one process", () => {
  it("do not see each other's config: a key set by the first run is gone in the second", async () => {
    const probe = setConfig(stackConfig("dev.shop"), "blueprint:apps.frontend.config.ISOLATION_PROBE", "first-run");
    const first = await runStack("dev.shop", probe);
    expect(JSON.stringify(first.objects)).toContain("first-run");
    const second = await runStack("dev.shop");
    expect(JSON.stringify(second.objects)).not.toContain("first-run");
    expect(JSON.stringify(second.objects)).not.toContain("ISOLATION_PROBE");
    const config = sdk().runtime.allConfig();
    expect(config["blueprint:apps"]).not.toContain("ISOLATION_PROBE");
    // The platform's keys are not left behind for a team stack either.
    await runStack("dev.platform");
    await runStack("dev.shop");
    expect(
      Object.keys(sdk().runtime.allConfig()).filter(
        (k) => k.startsWith("blueprint:cluster") || k === "blueprint:teams",
      ),
    ).toEqual([]);
  });

  it("do not see each other's resources or stack outputs: a team run after its platform's equals a run in a fresh process", async () => {
    const platform = await runStack("dev.platform");
    expect(platform.resources.some((r) => r.type.startsWith("aws:"))).toBe(true);
    expect(Object.keys(platform.outputs)).toContain("contract");
    const team = await runStack("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(platform) });
    expect(
      team.resources.filter((r) => r.type.startsWith("aws:") || r.type === "kubernetes:core/v1:Namespace"),
    ).toEqual([]);
    expect(Object.keys(team.outputs)).not.toContain("contract");
    expect(Object.keys(team.outputs)).not.toContain("kubeconfig");
    const fresh = await isolatedRun("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(platform) });
    expect(seen(team)).toEqual(seen(fresh));
  });

  it("start clean after a run that failed: nothing it registered or exported reaches the next run", async () => {
    const platform = await runStack("dev.platform");
    const bad = setConfig(stackConfig("dev.shop"), "blueprint:apps.frontend.image", "nginx");
    expect(await runStackError("dev.shop", bad, { stacks: asPlatform(platform) })).toMatch(
      /blueprint:apps\.frontend\.image names an image that is not in blueprint:release\.images/,
    );
    const after = await runStack("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(platform) });
    const fresh = await isolatedRun("dev.shop", stackConfig("dev.shop"), { stacks: asPlatform(platform) });
    expect(seen(after)).toEqual(seen(fresh));
  });

  it("of different clouds give each the same result as a fresh process", async () => {
    await runStack("prod-gke.platform");
    const aws = await runStack("dev.platform");
    const fresh = await isolatedRun("dev.platform");
    expect(seen(aws)).toEqual(seen(fresh));
    expect(aws.resources.some((r) => r.type.startsWith("gcp:"))).toBe(false);
  });
});
