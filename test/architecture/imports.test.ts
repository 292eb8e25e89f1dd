import * as path from "node:path";
import { importsOf, layeringProblems, repositoryImports } from "../helpers/layering";

const ROOT = path.resolve(__dirname, "../..");

describe("the layering of the repository", () => {
  it("has no import that goes up a layer, in any TypeScript file", () => {
    const edges = repositoryImports(ROOT);
    // The walk must see the whole tree, or an empty scan would pass.
    expect(edges.some((e) => e.from.startsWith("lib/"))).toBe(true);
    expect(edges.some((e) => e.from.startsWith("promotion/"))).toBe(true);
    expect(edges.some((e) => e.from.startsWith("examples/"))).toBe(true);
    expect(layeringProblems(edges)).toEqual([]);
  });

  it("reads static, type-only, re-exported, dynamic and required imports", () => {
    const text = [
      'import { a } from "./a";',
      'import type { B } from "../b";',
      'export { c } from "./c";',
      'const d = await import("./d");',
      'const e = require("./e");',
    ].join("\n");
    expect(importsOf(text)).toEqual(["./a", "../b", "./c", "./d", "./e"]);
  });

  it("refuses a component importing the config, lib importing a component, and promotion importing the tools", () => {
    expect(layeringProblems([
      { from: "components/workload.ts", specifier: "../config/images" },
      { from: "lib/names.ts", specifier: "../components" },
      { from: "promotion/workspace.ts", specifier: "../tools/offline/project" },
      { from: "config/load.ts", specifier: "../layers/team" },
      { from: "components/cluster/eks/cluster.ts", specifier: "../../../index" },
    ])).toEqual([
      "components/workload.ts imports ../config/images: components/ may import only lib, components, not config/",
      "lib/names.ts imports ../components: lib/ may import only lib, not components/",
      "promotion/workspace.ts imports ../tools/offline/project: promotion/ may import only lib, config, promotion, not tools/",
      "config/load.ts imports ../layers/team: config/ may import only lib, components, config, not layers/",
      "components/cluster/eks/cluster.ts imports ../../../index: components/ may import only lib, components, not layers/",
    ]);
  });

  it("accepts imports that go down or stay in a layer", () => {
    expect(layeringProblems([
      { from: "components/workload.ts", specifier: "../lib/images" },
      { from: "components/cluster/eks/cluster.ts", specifier: "../handle" },
      { from: "layers/team.ts", specifier: "../components" },
      { from: "index.ts", specifier: "./layers/team" },
      { from: "promotion/pointer.ts", specifier: "../lib/files" },
      { from: "tools/render.ts", specifier: "./offline/run" },
      { from: "components/workload.ts", specifier: "@pulumi/kubernetes" },
    ])).toEqual([]);
  });

  it("refuses a Pulumi SDK in lib and an example reaching into the repository", () => {
    expect(layeringProblems([
      { from: "lib/errors.ts", specifier: "@pulumi/pulumi" },
      { from: "examples/team-app/index.ts", specifier: "../../components" },
      { from: "examples/team-app/index.ts", specifier: "./contract" },
      { from: "examples/team-app/index.ts", specifier: "@blueprint/k8s-components" },
    ])).toEqual([
      "lib/errors.ts imports @pulumi/pulumi: lib/ loads no @pulumi/* package",
      "examples/team-app/index.ts imports ../../components: an example imports the repository only through the package",
    ]);
  });
});
