import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parsePlatform, parseTeam } from "../../config/load";
import { readProject, readStackConfig } from "../../lib/project";
import {
  compareObjectSets,
  contentDifferences,
  describeDifference,
  logicalName,
  sameObjectSet,
} from "../../tools/bench/compare";
import { isolationHolds } from "../../tools/bench/isolation";
import { plainObjects } from "../../tools/bench/reference";
import { summarise, table } from "../../tools/bench/stats";
import {
  TEAM_SIZE,
  platformStackName,
  syntheticContract,
  syntheticEnvironment,
  toLayeredStacks,
  toSingleStackConfig,
  toStackFile,
} from "../../tools/bench/synth";
import { compiledProgram } from "../../tools/offline/compiled";
import { asPlatform, PROJECT_DIR, runStack } from "../helpers/program";

type Manifest = Record<string, unknown>;

const cm = (name: string, data: Record<string, string> = { A: "1" }): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "t" },
  data,
});
const deploy = (configMap: string, image = "r@sha256:1"): Manifest => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "t" },
  spec: { template: { spec: { containers: [{ image, envFrom: [{ configMapRef: { name: configMap } }] }] } } },
});

describe("the synthetic environment", () => {
  it.each([1, 10, 25, 1000])(
    "with %i apps is a platform stack and a team stack per team, which pass the program's config validation",
    (apps) => {
      const env = syntheticEnvironment(apps);
      const stacks = toLayeredStacks(env);
      const platformStack = platformStackName(env);
      const platform = parsePlatform(stacks.get(platformStack)!.config, platformStack, "blueprint");
      expect(Object.keys(platform.teams)).toHaveLength(Math.ceil(apps / TEAM_SIZE));
      expect(stacks.size).toBe(Math.ceil(apps / TEAM_SIZE) + 1);
      let count = 0;
      for (const [stack, cfg] of stacks) {
        if (stack === platformStack) continue;
        const team = stack.slice(env.stack.length + 1);
        const parsed = parseTeam(cfg.config, stack, "blueprint", new Set(), {
          found: true,
          value: { [team]: syntheticContract(env, team) },
        });
        expect(Object.values(parsed.apps).every((a) => a.autoscaling && Object.keys(a.config).length > 0)).toBe(true);
        count += Object.keys(parsed.apps).length;
      }
      expect(count).toBe(apps);
    },
  );

  it("reads back from its stack files exactly as the offline runner passes them to the program", () => {
    const env = syntheticEnvironment(12);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      "name: blueprint\nruntime: nodejs\nmain: index.ts\nstackConfigDir: stacks\n",
    );
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const [stack, cfg] of toLayeredStacks(env))
      fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), toStackFile(cfg));
    for (const [stack, cfg] of toLayeredStacks(env))
      expect(readStackConfig(readProject(dir), stack).config).toEqual(cfg.config);
  });

  it("is the same on every call, so every run measures the same work", () => {
    expect([...toLayeredStacks(syntheticEnvironment(30))]).toEqual([...toLayeredStacks(syntheticEnvironment(30))]);
    expect(toSingleStackConfig(syntheticEnvironment(30))).toEqual(toSingleStackConfig(syntheticEnvironment(30)));
  });

  it("makes our program's layers register exactly the objects the references are built from", async () => {
    const env = syntheticEnvironment(12);
    const stacks = toLayeredStacks(env);
    const platformStack = platformStackName(env);
    const platform = await runStack(platformStack, stacks.get(platformStack)!);
    const objects = [...platform.objects];
    for (const [stack, cfg] of stacks)
      if (stack !== platformStack)
        objects.push(...(await runStack(stack, cfg, { stacks: asPlatform(platform) })).objects);
    // The ConfigMap is left for the generator to name; any suffix stands in for the generated one.
    const reference = plainObjects(
      env,
      (a) => `${a.name}-config-00000000`,
      (a) => `${a.repository}@${a.digest}`,
    ).map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...o.body,
      metadata: { name: `${o.logicalName}-00000000`, ...o.body.metadata },
    }));
    const diff = compareObjectSets(reference, objects as Manifest[]);
    expect(describeDifference(diff)).toBe("identical");
  });
});

describe("the object-set comparison", () => {
  it("ignores the generated suffix of ConfigMap names and nothing else", () => {
    expect(logicalName(cm("web-config-1a2b3c4d"))).toBe("web-config");
    expect(logicalName(cm("web-config-9kdh5t7fm2"))).toBe("web-config");
    expect(logicalName({ kind: "Deployment", metadata: { name: "web-1a2b3c4d" } })).toBe("web-1a2b3c4d");
    expect(
      sameObjectSet(
        compareObjectSets(
          [cm("web-config-1a2b3c4d"), deploy("web-config-1a2b3c4d")],
          [cm("web-config-k9t2hf5m7c"), deploy("web-config-k9t2hf5m7c")],
        ),
      ),
    ).toBe(true);
  });

  it("reports a missing, an extra and a duplicated object", () => {
    const d = compareObjectSets(
      [cm("a-config-11111111"), deploy("x")],
      [
        cm("a-config-11111111"),
        { kind: "Service", metadata: { name: "web", namespace: "t" } },
        { kind: "Service", metadata: { name: "web", namespace: "t" } },
      ],
    );
    expect(d.missing).toEqual(["Deployment/t/web"]);
    expect(d.extra).toEqual(["Service/t/web"]);
    expect(d.duplicates).toEqual(["Service/t/web"]);
    expect(sameObjectSet(d)).toBe(false);
    expect(describeDifference(d)).toBe(
      "1 missing (Deployment/t/web); 1 extra (Service/t/web); 1 duplicated (Service/t/web)",
    );
  });

  it("tells objects in another namespace apart", () => {
    const other = { ...deploy("c"), metadata: { name: "web", namespace: "u" } };
    expect(sameObjectSet(compareObjectSets([deploy("c")], [other]))).toBe(false);
  });

  it("finds content differences once generated names are normalised", () => {
    const ours = [cm("web-config-1a2b3c4d"), deploy("web-config-1a2b3c4d")];
    expect(contentDifferences(ours, [cm("web-config-zzzzzzzz"), deploy("web-config-zzzzzzzz")])).toEqual([]);
    expect(contentDifferences(ours, [cm("web-config-zzzzzzzz"), deploy("web-config-zzzzzzzz", "r@sha256:2")])).toEqual([
      "Deployment/t/web",
    ]);
    expect(contentDifferences(ours, [cm("web-config-zzzzzzzz", { A: "2" }), deploy("web-config-zzzzzzzz")])).toEqual([
      "ConfigMap/t/web-config",
    ]);
  });
});

describe("the figures", () => {
  it("summarise repeated runs as median and relative spread", () => {
    expect(summarise([300, 100, 200])).toEqual({ median: 200, min: 100, max: 300, spread: 1, runs: 3 });
    expect(summarise([1, 2, 3, 4]).median).toBe(2.5);
    expect(() => summarise([])).toThrow();
  });

  it("lay out as an aligned table", () => {
    expect(table(["a", "bb"], [["xyz", "1"]])).toBe("a    bb\n---  --\nxyz   1");
  });
});

describe("the SDK isolation rule", () => {
  it("accepts each cloud's own SDK and refuses the other's", () => {
    expect(isolationHolds({ stack: "a", cloud: "aws", aws: 300, gcp: 0, kubernetes: 100 })).toBe(true);
    expect(isolationHolds({ stack: "a", cloud: "aws", aws: 300, gcp: 1, kubernetes: 100 })).toBe(false);
    expect(isolationHolds({ stack: "g", cloud: "gcp", aws: 1, gcp: 170, kubernetes: 100 })).toBe(false);
    expect(isolationHolds({ stack: "e", cloud: "existing", aws: 0, gcp: 0, kubernetes: 100 })).toBe(true);
  });

  it("does not pass when the detection saw nothing at all", () => {
    expect(isolationHolds({ stack: "e", cloud: "existing", aws: 0, gcp: 0, kubernetes: 0 })).toBe(false);
  });
});

describe("the report's figures, from given measurements", () => {
  // Figures written as a saved result and printed by `npm run bench -- --report FILE`: what the bench
  // computes from them is checked against values worked out by hand, never against a clock.
  const summary = (median: number, min = median, max = median) => ({
    median,
    min,
    max,
    spread: (max - min) / median,
    runs: 3,
  });
  it("sets each variant against ours at its size: eval time for the programs, process time for the renders", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-report-"));
    const file = path.join(dir, "saved.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        machine: { cpus: "2 x test", memory: "1 GiB", node: "v22", loadBefore: "0.00", loadAfter: "0.00" },
        sizes: [100],
        runs: 3,
        checks: [],
        results: [
          {
            variant: "ours",
            apps: 100,
            objects: 900,
            evalMs: summary(200, 190, 210),
            wallMs: summary(1000, 950, 1050),
          },
          { variant: "bare", apps: 100, objects: 900, evalMs: summary(50), wallMs: summary(400) },
          { variant: "render", apps: 100, wallMs: summary(1500, 1400, 1700) },
          { variant: "cdk8s", apps: 100, note: "failed: no cdk8s" },
        ],
        targets: [],
      }),
    );
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        path.join(PROJECT_DIR, "tools/bench/bench.ts"),
        "--report",
        file,
      ],
      { encoding: "utf8", env: { ...process.env, INIT_CWD: undefined, npm_lifecycle_event: undefined } },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const row = (variant: string) =>
      r.stdout
        .split("\n")
        .find((l) => new RegExp(`^ *100 +${variant} `).test(l))
        ?.trim()
        .split(/ {2,}/);
    // apps, variant, objects, registered, eval ms, process ms, objects/s, peak RSS MB, vs ours, note
    expect(row("ours")).toEqual(["100", "ours", "900", "-", "200 ±10%", "1000 ±10%", "-", "-", "1.00x"]);
    // bare: 50 / 200 ms of evaluation, though its process time is below ours.
    expect(row("bare")).toEqual(["100", "bare", "900", "-", "50.0 ±0%", "400 ±0%", "-", "-", "0.25x"]);
    // render: 1500 / 1000 ms of process time, spread (1700 - 1400) / 1500 = 20%.
    expect(row("render")).toEqual(["100", "render", "-", "-", "-", "1500 ±20%", "-", "-", "1.50x"]);
    expect(row("cdk8s")).toEqual(["100", "cdk8s", "-", "-", "-", "-", "-", "-", "-", "failed: no cdk8s"]);
  });
});

describe("the compiled render", () => {
  it("runs the program compiled beside it, and only when it is compiled", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-compiled-"));
    fs.mkdirSync(path.join(out, "tools"));
    fs.writeFileSync(path.join(out, "index.js"), "");
    fs.writeFileSync(path.join(out, "compiled.json"), JSON.stringify({ source: "/src/project" }));
    const self = path.join(out, "tools", "render.js");
    expect(compiledProgram("/src/project/index.ts", self)).toBe(path.join(out, "index.js"));
    expect(compiledProgram("/src/project/index.ts", "/src/project/tools/render.ts")).toBeUndefined();
    expect(compiledProgram("/elsewhere/index.ts", self)).toBeUndefined();
    expect(compiledProgram("/src/project/missing.ts", self)).toBeUndefined();
  });
});
