import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";

describe("the README walkthrough", () => {
  it("shows exactly what npm run demo prints, and the demo leaves the workspace untouched", () => {
    const status = () => execFileSync("git", ["status", "--porcelain", "--", "stacks"], { cwd: PROJECT_DIR, encoding: "utf8" });
    const before = status();
    const printed = execFileSync(process.execPath, ["--import", "tsx", path.join(PROJECT_DIR, "promotion/demo.ts")], { cwd: PROJECT_DIR, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    const start = readme.indexOf("$ npm run demo\n") + "$ npm run demo\n".length;
    const shown = readme.slice(start, readme.indexOf("\n```", start));
    expect(printed.trimEnd()).toBe(shown);
    expect(status()).toBe(before);
  });
});
