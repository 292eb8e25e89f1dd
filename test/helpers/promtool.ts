import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { ruleFile, type RuleGroup } from "../../lib/observability";

/** Is promtool on PATH? */
export function hasPromtool(): boolean {
  return spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * `describe` when promtool is installed. Without it the suite is skipped on a laptop, and under
 * CI=true it fails: the rules are only tested by the real tool.
 */
export function describePromtool(name: string, body: () => void): void {
  if (hasPromtool()) describe(name, body);
  else if (process.env.CI === "true") {
    describe(name, () =>
      it("needs promtool (Debian package prometheus; .ci/run installs it)", () => {
        throw new Error("promtool is not installed: apt-get install prometheus");
      }),
    );
  } else describe.skip(`${name} (promtool not installed)`, body);
}

/** A scratch folder removed after the run. */
export function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
}

/** `promtool check rules` on groups; returns its exit status and output. */
export function checkRules(groups: readonly RuleGroup[] | { groups: unknown[] }): { status: number; output: string } {
  const dir = scratch();
  const file = path.join(dir, "rules.yaml");
  fs.writeFileSync(file, stringify(Array.isArray(groups) ? ruleFile(groups as RuleGroup[]) : groups));
  const r = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** `promtool test rules` of a test file (its `rule_files` is filled in). Throws with promtool's output on failure. */
export function testRules(groups: readonly RuleGroup[], tests: Record<string, unknown>): string {
  const dir = scratch();
  try {
    fs.writeFileSync(path.join(dir, "rules.yaml"), stringify(ruleFile(groups)));
    fs.writeFileSync(
      path.join(dir, "test.yaml"),
      stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", ...tests }),
    );
    return execFileSync("promtool", ["test", "rules", path.join(dir, "test.yaml")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
