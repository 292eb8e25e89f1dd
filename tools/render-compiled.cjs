/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher that runs before anything is compiled */
// `npm run render:compiled`: runs the precompiled render in dist/, which refuses to run when its
// sources changed since `npm run compile`. Plain JavaScript, so it runs before anything is compiled.
const fs = require("node:fs");
const path = require("node:path");

const render = path.join(__dirname, "..", "dist", "tools", "render.js");
if (!fs.existsSync(render)) {
  console.error(
    "render:compiled: dist/ holds no compiled render: run `npm run compile` first (or use `npm run render`)",
  );
  process.exit(1);
}
require(render).cli(process.argv.slice(2));
