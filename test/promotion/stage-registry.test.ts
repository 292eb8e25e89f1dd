import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
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
    // Every app of the stack file, on the digest its release names for the app's image, through the stage's registry.
    const file = parseYaml(fs.readFileSync(path.join(PROJECT_DIR, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
      config: {
        "blueprint:release": { images: Record<string, string> };
        "blueprint:apps": Record<string, { image: string }>;
      };
    };
    const { "blueprint:release": release, "blueprint:apps": apps } = file.config;
    const images = r.outputs.images as Record<string, string>;
    expect(Object.keys(images).sort()).toEqual(Object.keys(apps).sort());
    for (const [app, image] of Object.entries(images)) {
      expect(image.startsWith(`${registry}/`)).toBe(true);
      expect(image.split("@")[1]).toBe(release.images[apps[app].image].split("@")[1]);
    }
  });
});
