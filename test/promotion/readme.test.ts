import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";

describe("the promotion walkthrough in docs/promotion.md", () => {
  it("shows exactly what npm run demo prints, and the demo leaves the workspace untouched", () => {
    const status = () => execFileSync("git", ["status", "--porcelain", "--", "stacks"], { cwd: PROJECT_DIR, encoding: "utf8" });
    const before = status();
    const printed = execFileSync(process.execPath, ["--import", "tsx", path.join(PROJECT_DIR, "promotion/demo.ts")], { cwd: PROJECT_DIR, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    const page = fs.readFileSync(path.join(PROJECT_DIR, "docs", "promotion.md"), "utf8");
    const marker = page.indexOf("$ npm run demo\n");
    expect(marker).toBeGreaterThanOrEqual(0);
    const start = marker + "$ npm run demo\n".length;
    const shown = page.slice(start, page.indexOf("\n```", start));
    expect(printed.trimEnd()).toBe(shown);
    expect(status()).toBe(before);
  });
});
