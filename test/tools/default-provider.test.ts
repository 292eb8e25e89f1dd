import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunResult } from "../../tools/offline/run";

describe("the offline runner", () => {
  it("reports every resource that would fall back to a default provider", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "default-provider-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      `name: probe\nruntime: nodejs\nmain: ${path.join(__dirname, "fixtures", "default-provider.ts")}\n`,
    );
    let result: RunResult | undefined;
    await jest.isolateModulesAsync(async () => {
      const { runProgram } = await import("../../tools/offline/run");
      result = await runProgram({ projectDir: dir, stack: "probe", config: { config: {}, secretKeys: [] } });
    });
    expect(result!.objects).toHaveLength(2);
    expect(result!.defaultProviderUses).toEqual(['kubernetes:core/v1:ConfigMap "without-provider"']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
