/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher that runs before anything is compiled */
// `npm run render`: runs the render compiled to JavaScript, from a tree kept in
// node_modules/.cache/blueprint-render/dist that is compiled again whenever a source's content
// changed (compiled.json holds the SHA-256 of each). Loading the TypeScript sources through a
// loader (tsx) on every run cost about as much as the render of a team stack itself; compiling
// costs once per change of the sources. `BLUEPRINT_RENDER_TSX=1` runs the sources through tsx.
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
// Inside the project, so the compiled files resolve packages from its node_modules.
const TREE = path.join(ROOT, "node_modules", ".cache", "blueprint-render", "dist");

/** Whether the compiled tree exists and every source it was compiled from is unchanged. */
function current(tree) {
  const manifestFile = path.join(tree, "compiled.json");
  if (!fs.existsSync(manifestFile) || !fs.existsSync(path.join(tree, "tools", "render.js"))) return false;
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
    if (manifest.source !== ROOT) return false;
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
  precompile(fresh);
  try {
    fs.rmSync(TREE, { recursive: true, force: true });
    fs.renameSync(fresh, TREE);
    return TREE;
  } catch {
    // Another render swapped its tree in meanwhile: this run uses its own.
    return fresh;
  }
}

if (process.env.BLUEPRINT_RENDER_TSX) {
  require("tsx/cjs/api").register();
  require(path.join(ROOT, "tools", "render.ts")).cli(process.argv.slice(2));
} else {
  const tree = current(TREE) ? TREE : compile();
  require(path.join(tree, "tools", "render.js")).cli(process.argv.slice(2));
}
