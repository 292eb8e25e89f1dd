import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";

describe("the promotion walkthrough in docs/promotion.md", () => {
  it("shows exactly what npm run demo prints, and the demo leaves the workspace untouched", () => {
    const status = () =>
      execFileSync("git", ["status", "--porcelain", "--", "stacks"], { cwd: PROJECT_DIR, encoding: "utf8" });
    const before = status();
    const printed = execFileSync(process.execPath, launch("promotion/demo"), {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    const page = fs.readFileSync(path.join(PROJECT_DIR, "docs", "promotion.md"), "utf8");
    const marker = page.indexOf("$ npm run demo\n");
    expect(marker).toBeGreaterThanOrEqual(0);
    const start = marker + "$ npm run demo\n".length;
    const shown = page.slice(start, page.indexOf("\n```", start));
    expect(printed.trimEnd()).toBe(shown);
    expect(status()).toBe(before);
  });
});

describe("npm run demo", () => {
  const demo = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, launch("promotion/demo", ...args), {
      cwd,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });

  it("starts from the shipped stacks as committed, whatever the working tree's stacks/ holds, and prints the same each run", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-"));
    try {
      fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      fs.cpSync(path.join(PROJECT_DIR, "stacks"), path.join(dir, "stacks"), { recursive: true });
      const git = (...a: string[]) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...a], {
          cwd: dir,
          stdio: "ignore",
        });
      git("init", "-q");
      git("add", ".");
      git("commit", "-qm", "shipped");
      const first = demo(dir);
      expect(first.status).toBe(0);
      const clean = first.stdout;
      // A user's own state: a stray release, an edited pointer, a history record of their own, a stale read cache.
      fs.mkdirSync(path.join(dir, "stacks", "releases", "shop"), { recursive: true });
      fs.writeFileSync(path.join(dir, "stacks", "releases", "shop", "r-000000000000.json"), "{}");
      fs.appendFileSync(path.join(dir, "stacks", "Pulumi.dev.shop.yaml"), "# edited\n");
      fs.mkdirSync(path.join(dir, "stacks", "history", ".cache"), { recursive: true });
      fs.writeFileSync(path.join(dir, "stacks", "history", ".cache", "shop.json"), "not json");
      const dirty = demo(dir);
      expect(dirty.status).toBe(0);
      expect(dirty.stdout).toBe(clean);
      expect(demo(dir).stdout).toBe(clean);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers --help and refuses an unknown flag", () => {
    const help = demo(PROJECT_DIR, "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run demo \[-- --keep\]/);
    const bad = demo(PROJECT_DIR, "--fast");
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^demo: Unknown option '--fast'.* \(see npm run demo -- --help\)$/);
  });
});
