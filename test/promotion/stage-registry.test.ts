import { openProject } from "../../promotion/workspace";
import { PROJECT_DIR, runStack } from "../helpers/program";

const project = openProject(PROJECT_DIR);
const lanesWithRegistry = project.lanes.flatMap((lane) =>
  project
    .lane(lane)
    .stages.ordered.filter((s) => s.registry)
    .map((s) => [s.name, s.stack, s.registry!] as const),
);

describe("a stage's registry", () => {
  it("exists among the shipped stages", () => {
    expect(project.stages.ordered.filter((s) => s.registry).map((s) => s.name)).toContain("prod-gke");
  });

  // stages.yaml names the registry promote checks; the platform's cluster config creates the mirror
  // the pods pull from, and every team stack of the environment pulls through it. They are written in
  // two places, so this keeps them in step, lane by lane.
  it.each(lanesWithRegistry)("%s: the team stack %s pulls every image from %s", async (_name, stack, registry) => {
    const r = await runStack(stack);
    const images = Object.values(r.outputs.images as Record<string, string>);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image.startsWith(`${registry}/`)).toBe(true);
  });
});
