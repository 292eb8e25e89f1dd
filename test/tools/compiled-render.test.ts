import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { precompile } from "../../tools/compile";
import { staleSources, type CompiledManifest } from "../../tools/offline/compiled";

describe("the precompiled render", () => {
  const out = path.join(PROJECT_DIR, ".bench", `compiled-test-${process.pid}`);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  /** The manifest as compiled (a later test edits the file). */
  let compiled: CompiledManifest;

  it("records what it was compiled from, and finds nothing stale right after", () => {
    precompile(out);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "compiled.json"), "utf8")) as CompiledManifest;
    expect(Object.keys(manifest.files)).toContain("config/load.ts");
    expect(staleSources(manifest)).toEqual([]);
    compiled = manifest;
  });

  it("refuses in one line to run when a source changed since it was compiled", () => {
    const file = path.join(out, "compiled.json");
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as CompiledManifest;
    fs.writeFileSync(
      file,
      JSON.stringify({
        ...manifest,
        files: { ...manifest.files, "config/load.ts": "0".repeat(64), "config/gone.ts": "0".repeat(64) },
        // An edit after compiling leaves another modification time than the one recorded.
        stats: { ...manifest.stats, "config/load.ts": [1, 0] },
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

  it("trusts a recorded time only when it lies well before compiling, and hashes otherwise", () => {
    const manifest = compiled;
    const rel = "config/load.ts";
    const [size, mtime] = manifest.stats![rel];
    const wrongHash = { ...manifest.files, [rel]: "0".repeat(64) };
    // Same size and time, written long before compiling: the time is trusted, the file not read.
    expect(staleSources({ ...manifest, files: wrongHash, compiledAt: mtime + 60_000 })).toEqual([]);
    // Written within two seconds before compiling: a second edit could carry the same time, so it is hashed.
    expect(staleSources({ ...manifest, files: wrongHash, compiledAt: mtime + 1_000 })).toEqual([rel]);
    // Another time or size (a checkout, a copy, an edit): hashed, and the same content is not stale.
    const moved = { ...manifest.stats, [rel]: [size, mtime - 1] as const };
    expect(staleSources({ ...manifest, stats: moved, compiledAt: mtime + 60_000 })).toEqual([]);
    expect(staleSources({ ...manifest, stats: moved, files: wrongHash, compiledAt: mtime + 60_000 })).toEqual([rel]);
    // No times recorded (an older tree): every file is hashed.
    expect(staleSources({ ...manifest, stats: undefined, files: wrongHash })).toEqual([rel]);
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
