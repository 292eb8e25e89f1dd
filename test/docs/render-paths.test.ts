import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";

/**
 * README.md and docs/architecture.md say where the render writes; what they say is what it
 * writes: every concrete `rendered/...` path they name exists after `npm run render -- dev` and
 * `npm run render -- dev.shop`, every pattern they give is the render's layout, and both give the
 * layout of one object's file.
 */

const PAGES = ["README.md", "docs/architecture.md"];
/** The layouts the render writes (as the docs spell their placeholders). */
const LAYOUTS = [
  "<env>/<layer>/<namespace>/<kind>-<name>.yaml",
  "<env>/<layer>/_cluster/<kind>-<name>.yaml",
  "<env>/<stack>.stack.json",
  "<stack>/<namespace>/<kind>-<name>.yaml",
  "<stack>.stack.json",
];

/** The `rendered/...` and `<out>/...` paths a page names (in code spans, code blocks or text). */
function namedPaths(page: string): string[] {
  const text = fs.readFileSync(path.join(PROJECT_DIR, page), "utf8");
  return [...text.matchAll(/(?:rendered|<out>)\/[A-Za-z0-9_.<>/-]*/g)].map((m) => m[0].replace(/[.]$/, ""));
}

let out: string;

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), "render-paths-"));
  for (const target of ["dev", "dev.shop"]) {
    const r = spawnSync(process.execPath, launch("tools/render", target, "--out", out), {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`render ${target} failed: ${r.stderr}`);
  }
}, 240_000);

describe.each(PAGES)("%s", (page) => {
  it("gives the layout of one object's file", () => {
    expect(namedPaths(page).some((p) => p.endsWith("/<env>/<layer>/<namespace>/<kind>-<name>.yaml"))).toBe(true);
  });

  it("names only paths the render writes for dev and dev.shop", () => {
    const concrete = namedPaths(page).filter((p) => p.startsWith("rendered/") && !p.includes("<") && p !== "rendered/");
    expect(concrete.length).toBeGreaterThan(0);
    const missing = concrete.filter((p) => !fs.existsSync(path.join(out, p.slice("rendered/".length))));
    expect(missing).toEqual([]);
  });

  it("gives only patterns that are the render's layout", () => {
    const patterns = namedPaths(page).filter((p) => p.includes("<") && p.split("/").length > 2);
    const wrong = patterns.filter(
      (p) =>
        !LAYOUTS.some(
          (l) => p.replace(/^(rendered|<out>)\//, "") === l || l.startsWith(p.replace(/^(rendered|<out>)\//, "")),
        ),
    );
    expect(wrong).toEqual([]);
  });
});

describe("the check of named paths", () => {
  it("would catch a path the render does not write, and a pattern that is not its layout", () => {
    // The layout before layers (`rendered/dev/<namespace>/...`) is not what the render writes.
    expect(fs.existsSync(path.join(out, "dev/shop/deployment-frontend.yaml"))).toBe(false);
    expect(fs.existsSync(path.join(out, "dev/shop/shop/deployment-frontend.yaml"))).toBe(true);
    const stale = "<env>/<stack>/<namespace>/<kind>.yaml";
    expect(LAYOUTS.some((l) => stale === l || l.startsWith(stale))).toBe(false);
  });
});
