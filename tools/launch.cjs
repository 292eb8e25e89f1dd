/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher that runs before anything is compiled */
// Starts a command line of the project (`npm run render`, `audit`, `team`, `release`, `promote`...,
// `pipeline`): `node tools/launch.cjs <entry> [args]`, where <entry> is one of ENTRIES. It runs the
// entry compiled to JavaScript, from a tree kept in node_modules/.cache/blueprint/dist that is
// compiled again whenever a source's content changed (compiled.json holds the SHA-256 of each).
// Loading the TypeScript sources through a loader (tsx) on every run cost about a second of CPU
// per command, as much as rendering a team stack; compiling costs once per change of the sources.
// `BLUEPRINT_TSX=1` runs the sources through tsx instead.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
// Inside the project, so the compiled files resolve packages from its node_modules.
const TREE = path.join(ROOT, "node_modules", ".cache", "blueprint", "dist");
// Everything a command line imports: the program, and every tool.
const ROOTS = ["index.ts", "layers", "lib", "components", "config", "tools", "promotion", "policy"];
// The command lines, each a module exporting `cli(argv)`.
const ENTRIES = new Set([
  "tools/render",
  "tools/audit",
  "tools/team/cli",
  "tools/ci/cli",
  "promotion/cli",
  "promotion/demo",
]);

/** Whether the compiled tree exists and every source it was compiled from is unchanged. */
function current(tree) {
  const manifestFile = path.join(tree, "compiled.json");
  if (!fs.existsSync(manifestFile) || !fs.existsSync(path.join(tree, "tools", "offline", "compiled.js"))) return false;
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
    if (manifest.source !== ROOT || JSON.stringify(manifest.roots) !== JSON.stringify(ROOTS)) return false;
    return require(path.join(tree, "tools", "offline", "compiled.js")).staleSources(manifest).length === 0;
  } catch {
    return false;
  }
}

/** Compiles the sources beside the tree, then swaps the new tree in; returns the tree to run. */
function compile() {
  require("tsx/cjs/api").register();
  const { precompile } = require(path.join(ROOT, "tools", "compile.ts"));
  const fresh = `${TREE}.${process.pid}`;
  precompile(fresh, ROOTS);
  try {
    fs.rmSync(TREE, { recursive: true, force: true });
    fs.renameSync(fresh, TREE);
    return TREE;
  } catch {
    // Another command swapped its tree in meanwhile: this run uses its own.
    return fresh;
  }
}

/** The compiled tree, compiled first when a source changed; what `npm test` prepares once. */
function ensureCompiled() {
  return current(TREE) ? TREE : compile();
}

/**
 * Keeps V8's compiled code of every module a command loads (v8-compile-cache; Node 22's
 * `module.enableCompileCache` does the same, Node 20 has none), in node_modules/.cache/blueprint/v8:
 * the next start reads it instead of compiling the SDK and the tools again, about a fifth of a
 * command's start. V8 checks each entry against its source, so a changed file is compiled afresh.
 * `DISABLE_V8_COMPILE_CACHE=1` switches it off. Render workers inherit it (tools/offline/render.ts).
 */
function useCompileCache() {
  if (process.env.DISABLE_V8_COMPILE_CACHE === "1") return;
  process.env.V8_COMPILE_CACHE_CACHE_DIR ??= path.join(ROOT, "node_modules", ".cache", "blueprint", "v8");
  try {
    require("v8-compile-cache");
    process.env.BLUEPRINT_COMPILE_CACHE = require.resolve("v8-compile-cache");
  } catch {
    // Not installed (an older node_modules): the command only starts slower.
  }
}

module.exports = { ensureCompiled, useCompileCache, ENTRIES };

if (require.main === module) {
  const [entry, ...argv] = process.argv.slice(2);
  if (!ENTRIES.has(entry)) {
    console.error(`launch: the first argument names a command line, one of: ${[...ENTRIES].join(", ")}`);
    process.exit(2);
  }
  useCompileCache();
  if (process.env.BLUEPRINT_TSX === "1") {
    require("tsx/cjs/api").register();
    require(path.join(ROOT, `${entry}.ts`)).cli(argv);
  } else {
    require(path.join(ensureCompiled(), `${entry}.js`)).cli(argv);
  }
}
