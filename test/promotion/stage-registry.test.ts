import { openWorkspace } from "../../promotion/workspace";
import { PROJECT_DIR, runStack } from "../helpers/program";

const stagesWithRegistry = openWorkspace(PROJECT_DIR).stages.ordered.filter((s) => s.registry);

describe("a stage's registry", () => {
  it("exists among the shipped stages", () => {
    expect(stagesWithRegistry.map((s) => s.name)).toContain("prod-gke");
  });

  // stages.yaml names the registry promote checks; the stack's cluster config creates the mirror the
  // pods pull from. They are written in two places, so this keeps them in step.
  it.each(stagesWithRegistry.map((s) => [s.name, s.stack, s.registry!]))("%s: is where the rendered stack pulls every image from", async (_name, stack, registry) => {
    const r = await runStack(stack);
    const images = Object.values(r.outputs.images as Record<string, string>);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image.startsWith(`${registry}/`)).toBe(true);
  });
});
