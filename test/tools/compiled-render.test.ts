import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { precompile } from "../../tools/compile";
import { staleSources, type CompiledManifest } from "../../tools/offline/compiled";

describe("the precompiled render", () => {
  const out = path.join(PROJECT_DIR, ".bench", `compiled-test-${process.pid}`);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it("records what it was compiled from, and finds nothing stale right after", () => {
    precompile(out);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "compiled.json"), "utf8")) as CompiledManifest;
    expect(Object.keys(manifest.files)).toContain("config/load.ts");
    expect(staleSources(manifest)).toEqual([]);
  });

  it("refuses in one line to run when a source changed since it was compiled", () => {
    const file = path.join(out, "compiled.json");
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as CompiledManifest;
    fs.writeFileSync(
      file,
      JSON.stringify({
        ...manifest,
        files: { ...manifest.files, "config/load.ts": "0".repeat(64), "config/gone.ts": "0".repeat(64) },
      }),
    );
    const r = spawnSync(
      process.execPath,
      [path.join(out, "tools/render.js"), "dev", "--out", path.join(out, "rendered")],
      { cwd: PROJECT_DIR, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^render: the compiled render in .* is older than its sources \(config\/load\.ts, config\/gone\.ts changed\): run `npm run compile` again, or `npm run render`\n$/,
    );
    expect(fs.existsSync(path.join(out, "rendered"))).toBe(false);
  });

  it("treats a tree compiled without source hashes as stale", () => {
    expect(staleSources({ source: PROJECT_DIR } as CompiledManifest)).toEqual(["compiled.json"]);
  });

  it("refuses to compile over a folder it did not write", () => {
    const foreign = path.join(out, "foreign");
    fs.mkdirSync(foreign, { recursive: true });
    fs.writeFileSync(path.join(foreign, "notes.txt"), "mine");
    expect(() => precompile(foreign)).toThrow(/is not empty and holds no compiled\.json/);
    expect(fs.readdirSync(foreign)).toEqual(["notes.txt"]);
  });
});
