import { runComponents, runStack } from "../helpers/program";

describe("offline runs and process hooks", () => {
  it("leave no exit listeners behind, however many runs share a process", async () => {
    const count = () => process.listenerCount("exit") + process.listenerCount("beforeExit");
    const before = count();
    await runStack("dev.platform");
    await runStack("local.shop");
    await runComponents(() => undefined);
    expect(count()).toBe(before);
  });
});
