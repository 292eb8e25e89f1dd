import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { launch } from "../helpers/cli";
import { runProgram } from "../../tools/offline/run";
import { readProject, readStackConfig } from "../../lib/project";
import { snapshot, team, tempProject } from "../helpers/team";

const PODINFO = "ghcr.io/stefanprodan/podinfo@sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";

/** Whether git would pick a file up, by the project's .gitignore rule for temporary files beside stack files. */
const ignoredByGit = (file: string) => file.startsWith("stacks/") && /^\..*\.tmp$/.test(path.basename(file));

describe("npm run team -- add, for a team that then ships", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempProject();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes an example app that renders once uncommented and its image released", async () => {
    expect((await team(dir, "add", "billing", "--environments", "dev")).code).toBe(0);
    const file = path.join(dir, "stacks", "Pulumi.dev.billing.yaml");
    const text = fs.readFileSync(file, "utf8");
    const uncommented = text
      .replace(/^ {2}# (blueprint:apps:|  .*)$/gm, "  $1")
      .replace("    images: {}", `    images: { web: "${PODINFO}" }`);
    expect(uncommented).toContain("  blueprint:apps:\n    web:\n");
    fs.writeFileSync(file, uncommented);
    const project = readProject(dir);
    const platform = await runProgram({
      projectDir: dir,
      stack: "dev.platform",
      config: readStackConfig(project, "dev.platform"),
    });
    const run = await runProgram({
      projectDir: dir,
      stack: "dev.billing",
      config: readStackConfig(project, "dev.billing"),
      stacks: { "dev.platform": platform.stackOutputs },
    });
    const deployment = run.objects.find((o) => o.kind === "Deployment");
    const container = (
      deployment?.spec as { template: { spec: { containers: { readinessProbe?: { httpGet?: { path?: string } } }[] } } }
    ).template.spec.containers[0];
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
  }, 120_000);

  it("names creating a release and promoting it to the first stage among the next steps", async () => {
    const r = await team(dir, "add", "billing", "--environments", "dev");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("npm run release -- create --lane billing --image web=<repo>@sha256:<64 hex>");
    expect(r.stdout).toContain("npm run promote -- dev --lane billing --release <the id it prints>");
    expect(r.stdout.indexOf("npm run release -- create")).toBeLessThan(r.stdout.indexOf("pulumi up -s dev.platform"));
  }, 120_000);

  it('says what is wrong with --environments "," and with a flag given twice', async () => {
    const empty = await team(dir, "add", "billing", "--environments", ",");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      'team: --environments "," names no environment: give a comma-separated list such as --environments dev,staging, or leave it out for every environment (usage: npm run team -- --help)',
    );
    const twice = await team(dir, "add", "billing", "--environments", "dev", "--environments", "prod");
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(
      "team: --environments is given twice; it takes one comma-separated list (usage: npm run team -- --help)",
    );
    expect(fs.existsSync(path.join(dir, "stacks", "Pulumi.dev.billing.yaml"))).toBe(false);
  });
});

describe("an add killed between file swaps", () => {
  it("leaves only files git ignores, and the next run undoes the half-written set and finishes", async () => {
    const dir = tempProject();
    const clean = tempProject();
    try {
      const before = snapshot(dir);
      // Kill the process right after the second stack file is replaced.
      const hook = path.join(dir, "kill-hook.cjs");
      fs.writeFileSync(
        hook,
        `const fs = require("node:fs");
let swaps = 0;
const rename = fs.renameSync;
fs.renameSync = (from, to) => { const r = rename(from, to); if (/Pulumi\\.[a-z-]+\\.platform\\.yaml$/.test(String(to)) && ++swaps === 2) process.kill(process.pid, "SIGKILL"); return r; };
`,
      );
      const killed = spawnSync(
        process.execPath,
        ["--require", hook, ...launch("tools/team/cli"), "add", "billing", "--environments", "dev,staging,local"],
        { cwd: dir, encoding: "utf8", timeout: 120_000 },
      );
      expect(killed.signal).toBe("SIGKILL");
      fs.rmSync(hook);
      const after = snapshot(dir);
      const changed = [...after.keys()].filter((f) => after.get(f) !== before.get(f));
      // Two environments' files were swapped and the third's not: a half-written set...
      const stackFiles = changed.filter((f) => /^stacks\/Pulumi\.[a-z.-]+\.yaml$/.test(f)).sort();
      expect(stackFiles).toEqual([
        "stacks/Pulumi.dev.billing.yaml",
        "stacks/Pulumi.dev.platform.yaml",
        "stacks/Pulumi.local.platform.yaml",
      ]);
      // ...and every other file it left is one the .gitignore rule covers.
      expect(changed.filter((f) => !stackFiles.includes(f)).filter((f) => !ignoredByGit(f))).toEqual([]);
      expect(changed.filter(ignoredByGit).length).toBeGreaterThan(0);

      const again = await team(dir, "add", "billing", "--environments", "dev,staging,local");
      expect(again.stderr).toBe("");
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(
        "an earlier run was interrupted while it replaced files; they were put back as they were first: stacks/Pulumi.dev.platform.yaml, stacks/Pulumi.dev.billing.yaml, stacks/Pulumi.local.platform.yaml",
      );
      expect((await team(clean, "add", "billing", "--environments", "dev,staging,local")).code).toBe(0);
      const finished = snapshot(dir);
      expect([...finished.keys()].filter(ignoredByGit)).toEqual([]);
      expect(finished).toEqual(snapshot(clean));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(clean, { recursive: true, force: true });
    }
  }, 300_000);
});
