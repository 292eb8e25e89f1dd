import * as path from "node:path";
import { main } from "../../tools/ci/cli";
import * as fs from "node:fs";
import * as os from "node:os";
import { readProject } from "../../lib/project";
import { loadStages } from "../../promotion/stages";
import { affectedStacks, pipelineStacks, pipelineStages } from "../../tools/ci/stacks";

const root = path.resolve(__dirname, "../..");
const stacks = pipelineStacks(root);
const names = (changed: string[]) => affectedStacks(changed, stacks).map((s) => s.stack);

function run(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
    root,
  );
  return { code, out, err };
}

describe("the stages the pipelines read", () => {
  it("are the promotion stages' names, environments and registries, as the promotion commands read them", () => {
    const full = loadStages(path.join(root, "stacks", "stages.yaml")).ordered.map((s) => ({
      name: s.name,
      environment: s.environment,
      ...(s.registry ? { registry: s.registry } : {}),
    }));
    expect(pipelineStages(readProject(root))).toEqual(expect.arrayContaining(full));
    expect(pipelineStages(readProject(root))).toHaveLength(full.length);
  });

  it("refuse a stages.yaml without stages, naming the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-"));
    try {
      fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      fs.mkdirSync(path.join(dir, "stacks"));
      fs.writeFileSync(path.join(dir, "stacks", "stages.yaml"), "stages: []\n");
      expect(() => pipelineStages(readProject(dir))).toThrow(
        'stacks/stages.yaml: "stages:" must map each stage name to its settings',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the stacks the pipelines deploy", () => {
  it("are the platform and team stacks of the stages' environments, never local, with each environment's cloud", () => {
    expect(stacks.filter((s) => s.layer === "platform").map((s) => `${s.stack}:${s.cloud}`)).toEqual([
      "dev.platform:aws",
      "prod-gke.platform:gcp",
      "prod.platform:aws",
      "staging.platform:aws",
    ]);
    expect(stacks.some((s) => s.environment === "local")).toBe(false);
    expect(stacks.filter((s) => s.layer === "team").map((s) => s.stack)).toContain("prod-gke.shop");
  });
});

describe("the stacks a change touches", () => {
  it("are every stack when the program or the policy pack's code changes", () => {
    for (const f of ["components/workload.ts", "index.ts", "package-lock.json", "policy/rules.ts", "layers/team.ts"])
      expect(names([f])).toHaveLength(stacks.length);
  });

  it("are one stack when only its file or its policy pack config changes", () => {
    expect(names(["stacks/Pulumi.staging.shop.yaml"])).toEqual(["staging.shop"]);
    expect(names(["policy/config/prod.payments.json"])).toEqual(["prod.payments"]);
  });

  it("are a platform stack and its environment's team stacks when the platform stack file changes", () => {
    expect(names(["stacks/Pulumi.prod.platform.yaml"])).toEqual(["prod.platform", "prod.payments", "prod.shop"]);
  });

  it("are none for promotion files, docs, tests, the local environment and files outside the project", () => {
    expect(
      names([
        "stacks/history/shop/dev/000001-promotion-r-61909ab161ac-85ad597657b4.json",
        "stacks/releases/shop/r-61909ab161ac.json",
        "stacks/stages.yaml",
        "docs/ci.md",
        "test/tools/pipeline.test.ts",
        "stacks/Pulumi.local.platform.yaml",
        "README.md",
        "policy/config/local.shop.json",
      ]),
    ).toEqual([]);
  });
});

describe("npm run pipeline", () => {
  it("prints the stacks as JSON, filtered by layer and environment", () => {
    const r = run(["stacks", "--layer", "team", "--environment", "prod"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out[0]) as { stack: string }[]).map((s) => s.stack)).toEqual(["prod.payments", "prod.shop"]);
  });

  it("prints an environment's cloud", () => {
    expect(run(["cloud", "prod-gke"]).out).toEqual(["gcp"]);
  });

  it("refuses an environment no pipeline deploys, naming those it does, on stderr with exit 2", () => {
    const r = run(["cloud", "local"]);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toMatch(
      /^pipeline: "local" is not an environment the pipelines deploy \(dev, prod-gke, prod, staging\)/,
    );
  });

  it("refuses a bad layer, affected without --base, and an unknown subcommand", () => {
    expect(run(["stacks", "--layer", "cloud"]).err[0]).toMatch(/^pipeline: --layer is platform or team, got "cloud"/);
    expect(run(["affected"]).err[0]).toMatch(/^pipeline: affected needs --base REF/);
    const r = run(["deploy"]);
    expect([r.code, r.err[0].split("\n")[0]]).toEqual([2, 'pipeline: unknown subcommand "deploy"']);
  });
});

describe("npm run pipeline -- registry", () => {
  it("prints the host of a stage's registry, and nothing for a stage without one", () => {
    expect(run(["registry", "prod-gke"]).out).toEqual(["europe-west1-docker.pkg.dev"]);
    expect(run(["registry", "prod"]).out).toEqual([""]);
  });

  it("refuses a stage that stages.yaml does not define", () => {
    const r = run(["registry", "qa"]);
    expect([r.code, r.err[0].split("\n")[0]]).toEqual([
      2,
      'pipeline: "qa" is not a stage (dev, staging, prod, prod-gke)',
    ]);
  });
});
