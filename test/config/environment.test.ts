import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classifyReadFailure, readContract, type ContractLookup } from "../../config/contract";
import { parseTeam } from "../../config/load";
import {
  environments,
  localStackName,
  platformStackOf,
  platformStackProblem,
  qualifiedStackName,
  teamStacks,
} from "../../lib/stacks";
import { auditStack } from "../../tools/audit";
import { collect, contractLookup, platformOf, PROJECT_DIR, stackConfig, withEdits } from "../helpers/program";
import { launch } from "../helpers/cli";
import { harnessIn, removeTempProjects, shippedProject } from "../promotion/fixtures";
import type { StackConfig } from "../../lib/project";

/** A team stack belongs to one environment: its platform, its contract and its namespace. */

const teamProblems = (cfg: StackConfig, stack: string, lookup: ContractLookup) =>
  collect(() => parseTeam(cfg.config, stack, "blueprint", new Set(cfg.secretKeys), lookup));

afterAll(() => removeTempProjects());

describe("stack names, in one module", () => {
  it("lists environments and their team stacks", () => {
    const stacks = [
      "dev.platform",
      "dev.shop",
      "dev.shop.x",
      "prod-gke.platform",
      "prod-gke.payments",
      "prod.platform",
      "scratch",
    ];
    expect(environments(stacks)).toEqual(["dev", "prod", "prod-gke"]);
    expect(teamStacks(stacks, "dev")).toEqual(["dev.shop"]);
    expect(teamStacks(stacks, "prod")).toEqual([]);
  });

  it("follows blueprint:platformStack, bare or qualified", () => {
    expect(platformStackOf({}, "dev.shop")).toBe("dev.platform");
    expect(platformStackOf({ "blueprint:platformStack": "acme/blueprint/dev.platform" }, "dev.shop")).toBe(
      "acme/blueprint/dev.platform",
    );
    expect(qualifiedStackName("dev.platform", "acme", "blueprint")).toBe("acme/blueprint/dev.platform");
    expect(qualifiedStackName("other/infra/dev.platform", "acme", "blueprint")).toBe("other/infra/dev.platform");
    expect(localStackName("acme/blueprint/dev.platform", "blueprint")).toBe("dev.platform");
    expect(localStackName("acme/infra/dev.platform", "blueprint")).toBeUndefined();
  });

  it.each([
    [
      "dev.shop",
      "prod.platform",
      /environment "dev", but reads the platform stack "prod\.platform" of environment "prod"/,
    ],
    [
      "dev.shop",
      "acme/blueprint/prod.platform",
      /reads the platform stack "acme\/blueprint\/prod\.platform" of environment "prod"/,
    ],
    ["dev.shop", "dev.payments", /"dev\.payments", which is not a platform stack/],
    ["staging.shop", "staging-eu.platform", /of environment "staging-eu"/],
  ])("refuses %s reading %s", (team, platform, message) => {
    expect(platformStackProblem(team, platform)).toMatch(message);
  });

  it.each([
    ["dev.shop", "dev.platform"],
    ["dev.shop", "acme/blueprint/dev.platform"],
    ["prod-gke.shop", "prod-gke.platform"],
  ])("lets %s read %s", (team, platform) => {
    expect(platformStackProblem(team, platform)).toBeUndefined();
  });
});

describe("a team stack reading another environment's platform is refused", () => {
  let devLookup: ContractLookup;
  beforeAll(async () => {
    devLookup = await contractLookup("dev.shop");
  });

  it("in the program's config, naming both stacks, before the contract is read", async () => {
    const cfg = withEdits(stackConfig("dev.shop"), [["blueprint:platformStack", "prod.platform"]]);
    const prodLookup = await contractLookup("prod.shop");
    expect(teamProblems(cfg, "dev.shop", prodLookup)).toEqual([
      'blueprint:platformStack names "prod.platform": the team stack "dev.shop" belongs to environment "dev", but reads the platform stack "prod.platform" of environment "prod": a team stack reads its own environment\'s dev.platform',
    ]);
  });

  it("accepts its own platform named in the qualified form", () => {
    const cfg = withEdits(stackConfig("dev.shop"), [
      ["blueprint:platformStack", "organization/blueprint/dev.platform"],
    ]);
    expect(teamProblems(cfg, "dev.shop", devLookup)).toEqual([]);
  });

  it("refuses a contract that says it is for another environment", async () => {
    const lookup = await contractLookup("dev.shop", (c) => {
      c.environment = "prod";
    });
    expect(teamProblems(stackConfig("dev.shop"), "dev.shop", lookup)).toEqual([
      expect.stringMatching(
        /^blueprint:platformStack reads a contract of environment "prod" from "dev\.platform", but the team stack "dev\.shop" belongs to environment "dev"/,
      ),
    ]);
  });

  it("refuses a contract whose namespace is not the team's own", async () => {
    const lookup = await contractLookup("dev.shop", (c) => {
      c.namespace = "payments";
    });
    expect(teamProblems(stackConfig("dev.shop"), "dev.shop", lookup)).toEqual([
      'blueprint:platformStack reads a contract from "dev.platform" whose namespace is "payments", not the team\'s own "shop": refused',
    ]);
  });

  it("refuses a contract whose namespace is a system namespace", async () => {
    const base = (await contractLookup("dev.shop")) as { found: true; value: Record<string, Record<string, unknown>> };
    const lookup: ContractLookup = {
      found: true,
      value: { "kube-system": { ...base.value.shop, namespace: "kube-system" } },
    };
    const cfg = withEdits(stackConfig("dev.shop"), [["blueprint:team", "kube-system"]]);
    expect(teamProblems(cfg, "dev.kube-system", lookup)).toEqual([
      expect.stringMatching(
        /^blueprint:platformStack reads a contract from "dev\.platform" whose namespace is a system namespace: "kube-system" starts with "kube-"/,
      ),
    ]);
  });

  it("in the audit, naming both stacks, and the audit accepts the qualified form", async () => {
    const crossed = await auditStack({
      projectDir: PROJECT_DIR,
      stack: "dev.shop",
      config: withEdits(stackConfig("dev.shop"), [["blueprint:platformStack", "prod.platform"]]),
    });
    expect(crossed.code).toBe(1);
    expect(crossed.err.join("\n")).toMatch(
      /stacks\/Pulumi\.dev\.shop\.yaml: blueprint:platformStack names "prod\.platform": the team stack "dev\.shop" belongs to environment "dev"/,
    );
    // The platform's outputs are handed in (a worker's arrays are of another realm inside jest).
    const qualified = await auditStack({
      projectDir: PROJECT_DIR,
      stack: "dev.shop",
      config: withEdits(stackConfig("dev.shop"), [["blueprint:platformStack", "organization/blueprint/dev.platform"]]),
      stacks: await platformOf("dev.shop"),
    });
    expect(qualified.err).toEqual([]);
    expect(qualified.code).toBe(0);
  });

  it("in the render, which follows the override", () => {
    const dir = shippedProject();
    const file = path.join(dir, "stacks", "Pulumi.dev.shop.yaml");
    fs.writeFileSync(
      file,
      fs.readFileSync(file, "utf8").replace(/^config:\n/m, "config:\n  blueprint:platformStack: staging.platform\n"),
    );
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
    );
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "env-render-"));
    const r = spawnSync(process.execPath, launch("tools/render", "dev.shop", "--out", out), {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /stacks\/Pulumi\.dev\.shop\.yaml: blueprint:platformStack names "staging\.platform": the team stack "dev\.shop" belongs to environment "dev", but reads the platform stack "staging\.platform" of environment "staging"/,
    );
    expect(fs.existsSync(path.join(out, "dev.shop"))).toBe(false);
  });

  it("in every promotion command, naming both stacks", async () => {
    const dir = shippedProject();
    const file = path.join(dir, "stacks", "Pulumi.dev.shop.yaml");
    fs.writeFileSync(
      file,
      fs.readFileSync(file, "utf8").replace(/^config:\n/m, "config:\n  blueprint:platformStack: prod.platform\n"),
    );
    const h = harnessIn(dir, "shop");
    for (const argv of [
      ["promote", "dev"],
      ["status", "--lane", "shop"],
      ["approve", "prod", "--release", "r-000000000000"],
      ["rollback", "dev"],
    ]) {
      h.out.length = 0;
      const code = await h.cliRaw(...argv, ...(argv.includes("--lane") ? [] : ["--lane", "shop"]));
      expect([argv[0], code]).toEqual([argv[0], 1]);
    }
    expect(() => h.ws()).toThrow(
      /stacks\/Pulumi\.dev\.shop\.yaml: blueprint:platformStack: the team stack "dev\.shop" belongs to environment "dev", but reads the platform stack "prod\.platform" of environment "prod"/,
    );
    // The other lane is untouched.
    expect(() => harnessIn(dir, "payments").ws()).not.toThrow();
  });
});

describe("a failed read of the platform stack says why", () => {
  it.each<[string, string]>([
    ['unknown stack "acme/blueprint/dev.platform"', "missing"],
    ["[404] Not Found: Stack 'acme/blueprint/dev.platform' not found", "missing"],
    ["[403] Forbidden: You do not have access to this stack", "forbidden"],
    ["AccessDenied: Access Denied (s3 bucket)", "forbidden"],
    ["incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase", "decrypt"],
    ["failed to decrypt: secrets (code=Unknown): AccessDeniedException: kms:Decrypt", "decrypt"],
    ['Get "https://api.pulumi.com/api/stacks": dial tcp: lookup api.pulumi.com: no such host', "network"],
    ["connect ECONNREFUSED 127.0.0.1:443", "network"],
  ])("classifies %s as %s", (message, failure) => {
    expect(classifyReadFailure(message)).toBe(failure);
  });

  it.each<[ContractLookup, RegExp]>([
    [{ found: false, failure: "missing" }, /has no output "contract": it does not exist or was never deployed/],
    [
      { found: false, failure: "forbidden", detail: "[403] Forbidden" },
      /could not be read: you may not read it: a team stack needs read access to dev\.platform .*\(\[403\] Forbidden\)/,
    ],
    [
      { found: false, failure: "decrypt" },
      /could not be read: its output "contract" is secret and cannot be decrypted: a team stack needs the platform's secrets provider/,
    ],
    [
      { found: false, failure: "network" },
      /could not be read: the state backend could not be reached \(network error\)/,
    ],
  ])("tells the team what to fix: %j", (lookup, message) => {
    const { problems } = readContract(lookup, "shop", "dev.platform", "blueprint:team");
    expect(problems).toEqual([{ key: "blueprint:team", message: expect.stringMatching(message) }]);
  });
});
