import * as fs from "node:fs";
import * as path from "node:path";
import { hashText, sourceFiles, type CompiledManifest } from "./offline/compiled";

/** The project folder. */
const ROOT = path.resolve(__dirname, "..");

/**
 * Compiles the program and the offline tools to CommonJS under `outDir`, file by file with
 * TypeScript's `transpileModule` (no type check: `tsc --noEmit` does that), keeping the layout, so
 * `node <outDir>/tools/render.js <stack>` renders without a TypeScript loader. Dynamic `import()`
 * becomes `require`, which keeps the lazy loading of cloud SDKs.
 */
export function precompile(outDir: string, roots: readonly string[] = ["index.ts", "layers", "lib", "components", "config", "tools/offline", "tools/render.ts"]): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof import("typescript");
  const files = sourceFiles(ROOT, roots);
  const hashes: Record<string, string> = {};
  // The folder is deleted first: only ever one this function wrote (it holds compiled.json), or an empty one.
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0 && !fs.existsSync(path.join(outDir, "compiled.json"))) {
    throw new Error(`${outDir} is not empty and holds no compiled.json, so it was not written by compile; choose another folder`);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const rel of files) {
    const text = fs.readFileSync(path.join(ROOT, rel), "utf8");
    hashes[rel] = hashText(text);
    const out = ts.transpileModule(text, {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    });
    const target = path.join(outDir, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
  }
  // Tells the compiled render which source folder this tree mirrors, and what it was compiled from.
  const manifest: CompiledManifest = { source: ROOT, roots, files: hashes };
  fs.writeFileSync(path.join(outDir, "compiled.json"), `${JSON.stringify(manifest)}\n`);
  return files.length;
}

if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? "dist");
  const rel = path.relative(ROOT, outDir);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
    console.error(`compile: ${outDir} must be inside ${ROOT}, so the compiled files find node_modules`);
    process.exit(2);
  }
  try {
    console.log(`compile: ${precompile(outDir)} files compiled to ${path.relative(process.cwd(), outDir) || "."}`);
  } catch (e) {
    console.error(`compile: ${(e as Error).message}`);
    process.exit(1);
  }
}
