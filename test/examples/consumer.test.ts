import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT_DIR, platformOf } from "../helpers/program";

/**
 * The consumer example the way another team uses the library: the package is built and packed,
 * the example is copied OUT of the repository and installs the tarball (and its own Pulumi SDKs)
 * from npm, is type-checked by its own tsc, and runs under the mock engine of its own SDK, with
 * its StackReference answered by a shipped platform's real contract.
 */
const EXAMPLE = path.join(PROJECT_DIR, "examples", "team-app");
const RUNNER = path.join(__dirname, "run-under-mocks.cjs");
const PLATFORM = "organization/blueprint/prod-gke.platform";

interface MockRun {
  readonly error?: string;
  readonly resources?: { type: string; name: string; inputs: Record<string, unknown> }[];
  readonly outputs?: Record<string, unknown>;
}

let work: string;
let app: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "team-app-"));
  const npm = (args: string[], cwd: string): string =>
    execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  npm(["run", "-s", "build:lib"], PROJECT_DIR);
  const tarball = path.join(
    work,
    npm(["pack", "--silent", "--pack-destination", work], path.join(PROJECT_DIR, "components"))
      .trim()
      .split("\n")
      .pop()!,
  );
  app = path.join(work, "team-app");
  fs.cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](node_modules|bin)$/.test(src) });
  // The dependency names the tarball before the install, so npm never asks the registry about the
  // package (a round trip to a 404); everything else comes from npm's cache when it holds it all
  // (`--offline`), else from the registry.
  const manifest = path.join(app, "package.json");
  const pkg = JSON.parse(fs.readFileSync(manifest, "utf8")) as { dependencies: Record<string, string> };
  pkg.dependencies["@blueprint/k8s-components"] = `file:${tarball}`;
  fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
  try {
    npm(["install", "--no-audit", "--no-fund", "--offline"], app);
  } catch {
    npm(["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
  }
}, 240_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Runs the example's compiled program under its own SDK's mocks. */
function run(config: Record<string, string>, contract: unknown): MockRun {
  const input = path.join(work, `input-${Date.now()}.json`);
  fs.writeFileSync(
    input,
    JSON.stringify({
      project: "team-app",
      stack: "dev",
      config,
      stacks: { [PLATFORM]: { outputs: { contract }, secretOutputNames: ["contract"] } },
    }),
  );
  return JSON.parse(
    execFileSync(process.execPath, [RUNNER, app, "bin/index.js", input], { encoding: "utf8" }),
  ) as MockRun;
}

function exampleConfig(): Record<string, string> {
  const doc = parseYaml(fs.readFileSync(path.join(EXAMPLE, "Pulumi.dev.yaml"), "utf8")) as {
    config: Record<string, string>;
  };
  return { ...doc.config, "team-app:platformStack": PLATFORM };
}

describe("the team-app example, installed from the packed library", () => {
  it("installs the package from the tarball, not from the repository", () => {
    const installed = path.join(app, "node_modules", "@blueprint", "k8s-components");
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, "dist", "components", "index.d.ts"))).toBe(true);
    expect(fs.existsSync(path.join(installed, "components"))).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies["@blueprint/k8s-components"]).toMatch(
      /^file:.*blueprint-k8s-components-0\.1\.0\.tgz$/,
    );
  });

  it("type-checks and compiles with its own tsc", () => {
    execFileSync(path.join(app, "node_modules", ".bin", "tsc"), ["-p", app], { encoding: "utf8" });
    expect(fs.existsSync(path.join(app, "bin", "index.js"))).toBe(true);
  });

  it("deploys its app into the contract's namespace, pulling through the contract's registry mirror", async () => {
    const contract = (await platformOf("prod-gke.shop"))["prod-gke.platform"].outputs.contract as Record<
      string,
      { namespace: string; registry: { mirrors: Record<string, string> } }
    >;
    const shop = contract.shop;
    expect(Object.keys(shop.registry.mirrors)).toContain("ghcr.io");
    const result = run(exampleConfig(), contract);
    expect(result.error).toBeUndefined();
    const deployments = result.resources!.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deployments).toHaveLength(1);
    const deployment = deployments[0].inputs as {
      metadata: { namespace: string };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(deployment.metadata.namespace).toBe(shop.namespace);
    const released = exampleConfig()["team-app:image"];
    const expected = `${shop.registry.mirrors["ghcr.io"]}/${released.slice("ghcr.io/".length)}`;
    expect(deployment.spec.template.spec.containers[0].image).toBe(expected);
    expect(result.outputs!.namespace).toBe(shop.namespace);
    const provider = result.resources!.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.inputs.namespace).toBe(shop.namespace);
  });

  it("refuses a platform whose contract does not know the team, registering no Deployment", async () => {
    const contract = structuredClone(
      (await platformOf("prod-gke.shop"))["prod-gke.platform"].outputs.contract,
    ) as Record<string, unknown>;
    delete contract.shop;
    const result = run(exampleConfig(), contract);
    expect(result.error).toBe(`the platform stack ${PLATFORM} exports no contract for team "shop"`);
  });
});
