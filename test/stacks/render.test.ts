import { byKind, runStack, shippedStacks } from "../helpers/program";

describe("every shipped stack", () => {
  it.each(shippedStacks())("%s renders with an explicit provider on every Kubernetes resource", async (stack) => {
    const result = await runStack(stack);
    expect(result.objects.length).toBeGreaterThan(10);
    expect(result.defaultProviderUses).toEqual([]);
    expect(byKind(result, "Deployment").size).toBeGreaterThan(0);
  });
});
