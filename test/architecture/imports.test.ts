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
    expect(
      layeringProblems([
        { from: "components/workload.ts", specifier: "../config/images" },
        { from: "lib/names.ts", specifier: "../components" },
        { from: "promotion/workspace.ts", specifier: "../tools/offline/project" },
        { from: "config/load.ts", specifier: "../layers/team" },
        { from: "components/cluster/eks/cluster.ts", specifier: "../../../index" },
      ]),
    ).toEqual([
      "components/workload.ts imports ../config/images: components/ may import only lib, components, not config/",
      "lib/names.ts imports ../components: lib/ may import only lib, not components/",
      "promotion/workspace.ts imports ../tools/offline/project: promotion/ may import only lib, config, promotion, not tools/",
      "config/load.ts imports ../layers/team: config/ may import only lib, components, config, not layers/",
      "components/cluster/eks/cluster.ts imports ../../../index: components/ may import only lib, components, not layers/",
    ]);
  });

  it("accepts imports that go down or stay in a layer", () => {
    expect(
      layeringProblems([
        { from: "components/workload.ts", specifier: "../lib/images" },
        { from: "components/cluster/eks/cluster.ts", specifier: "../handle" },
        { from: "layers/team.ts", specifier: "../components" },
        { from: "index.ts", specifier: "./layers/team" },
        { from: "promotion/pointer.ts", specifier: "../lib/files" },
        { from: "tools/render.ts", specifier: "./offline/run" },
        { from: "components/workload.ts", specifier: "@pulumi/kubernetes" },
      ]),
    ).toEqual([]);
  });

  it("refuses an import into a folder that is no layer: tests, stack files, docs, the repository root", () => {
    expect(
      layeringProblems([
        { from: "lib/names.ts", specifier: "../test/helpers/program" },
        { from: "components/workload.ts", specifier: "../stacks/stages.yaml" },
        { from: "promotion/cli.ts", specifier: "../docs/promotion.md" },
        { from: "tools/render.ts", specifier: "../package.json" },
        { from: "index.ts", specifier: "./test/helpers/schema" },
      ]),
    ).toEqual([
      "lib/names.ts imports ../test/helpers/program: lib/ may import only lib, not test/, which is no layer",
      "components/workload.ts imports ../stacks/stages.yaml: components/ may import only lib, components, not stacks/, which is no layer",
      "promotion/cli.ts imports ../docs/promotion.md: promotion/ may import only lib, config, promotion, not docs/, which is no layer",
      "tools/render.ts imports ../package.json: tools/ may import only lib, components, config, policy, layers, tools, not package.json/, which is no layer",
      "index.ts imports ./test/helpers/schema: layers/ may import only lib, components, config, layers, not test/, which is no layer",
    ]);
  });

  it("keeps each cloud's folder to itself inside components/, and lets the program reach it", () => {
    expect(
      layeringProblems([
        { from: "components/cluster/eks/cluster.ts", specifier: "../gke/defaults" },
        { from: "components/cluster/handle.ts", specifier: "./eks" },
        { from: "components/index.ts", specifier: "./cluster/gke/cluster" },
      ]),
    ).toEqual([
      "components/cluster/eks/cluster.ts imports ../gke/defaults: components/cluster/eks/ may not import another cloud's folder (gke/)",
      "components/cluster/handle.ts imports ./eks: only components/cluster/eks/ itself imports it; shared components stay free of a cloud SDK",
      "components/index.ts imports ./cluster/gke/cluster: only components/cluster/gke/ itself imports it; shared components stay free of a cloud SDK",
    ]);
    expect(
      layeringProblems([
        { from: "components/cluster/eks/addons/vpc-cni.ts", specifier: "../context" },
        { from: "components/cluster/eks/addons/vpc-cni.ts", specifier: "../../addon" },
        { from: "components/cluster/gke/cluster.ts", specifier: "../egress" },
        { from: "layers/cluster.ts", specifier: "../components/cluster/eks" },
      ]),
    ).toEqual([]);
  });

  it("refuses a Pulumi SDK in lib and an example reaching into the repository", () => {
    expect(
      layeringProblems([
        { from: "lib/errors.ts", specifier: "@pulumi/pulumi" },
        { from: "examples/team-app/index.ts", specifier: "../../components" },
        { from: "examples/team-app/index.ts", specifier: "./contract" },
        { from: "examples/team-app/index.ts", specifier: "@blueprint/k8s-components" },
      ]),
    ).toEqual([
      "lib/errors.ts imports @pulumi/pulumi: lib/ loads no @pulumi/* package",
      "examples/team-app/index.ts imports ../../components: an example imports the repository only through the package",
    ]);
  });
});
