import * as fs from "node:fs";
import * as path from "node:path";

/** The project folder. */
const ROOT = path.resolve(__dirname, "..");

/**
 * Compiles the program and the offline tools to CommonJS under `outDir`, file by file with
 * TypeScript's `transpileModule` (no type check: `tsc --noEmit` does that), keeping the layout, so
 * `node <outDir>/tools/render.js <stack>` renders without a TypeScript loader. Dynamic `import()`
 * becomes `require`, which keeps the lazy loading of cloud SDKs.
 */
export function precompile(outDir: string, roots: readonly string[] = ["index.ts", "components", "config", "tools/offline", "tools/render.ts"]): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof import("typescript");
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(ROOT, rel);
    if (fs.statSync(abs).isDirectory()) for (const f of fs.readdirSync(abs)) walk(path.join(rel, f));
    else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) files.push(rel);
  };
  for (const r of roots) if (fs.existsSync(path.join(ROOT, r))) walk(r);
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const rel of files) {
    const out = ts.transpileModule(fs.readFileSync(path.join(ROOT, rel), "utf8"), {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    });
    const target = path.join(outDir, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
  }
  // Tells the compiled render which source folder this tree mirrors.
  fs.writeFileSync(path.join(outDir, "compiled.json"), `${JSON.stringify({ source: ROOT })}\n`);
  return files.length;
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? "dist");
  if (path.relative(ROOT, outDir).startsWith("..")) {
    console.error(`compile: ${outDir} must be inside ${ROOT}, so the compiled files find node_modules`);
    process.exit(2);
  }
  console.log(`compile: ${precompile(outDir)} files compiled to ${path.relative(process.cwd(), outDir) || "."}`);
}
