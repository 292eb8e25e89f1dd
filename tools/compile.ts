import * as fs from "node:fs";
import * as path from "node:path";
import { hashText, sourceFiles, type CompiledManifest } from "./offline/compiled";
import { PROGRAM_ROOTS } from "./offline/contract-cache";
import { parseCommandLine, UsageError } from "./offline/cli";

/** The project folder. */
const ROOT = path.resolve(__dirname, "..");

/**
 * Compiles the program and the offline tools to CommonJS under `outDir`, file by file with
 * TypeScript's `transpileModule` (no type check: `tsc --noEmit` does that), keeping the layout, so
 * `node <outDir>/tools/render.js <stack>` renders without a TypeScript loader. Dynamic `import()`
 * becomes `require`, which keeps the lazy loading of cloud SDKs.
 */
export function precompile(
  outDir: string,
  roots: readonly string[] = [
    // The program and the offline runner, as the render's contract cache keys them, and the render's CLI.
    ...PROGRAM_ROOTS.filter((r) => !r.endsWith(".json")),
    "tools/render.ts",
    "tools/render-progress.ts",
    "tools/progress.ts",
  ],
): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require("typescript") as typeof import("typescript");
  const files = sourceFiles(ROOT, roots);
  const hashes: Record<string, string> = {};
  const stats: Record<string, [number, number]> = {};
  const compiledAt = Date.now();
  // The folder is deleted first: only ever one this function wrote (it holds compiled.json), or an empty one.
  if (
    fs.existsSync(outDir) &&
    fs.readdirSync(outDir).length > 0 &&
    !fs.existsSync(path.join(outDir, "compiled.json"))
  ) {
    throw new Error(
      `${outDir} is not empty and holds no compiled.json, so it was not written by compile; choose another folder`,
    );
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const rel of files) {
    // The time is taken before the text is read: a write in between leaves a later time, so the
    // check hashes the file again rather than trusting an old text.
    const st = fs.statSync(path.join(ROOT, rel));
    const text = fs.readFileSync(path.join(ROOT, rel), "utf8");
    hashes[rel] = hashText(text);
    stats[rel] = [st.size, st.mtimeMs];
    const out = ts.transpileModule(text, {
      fileName: rel,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    const target = path.join(outDir, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
  }
  // Tells the compiled render which source folder this tree mirrors, and what it was compiled from.
  const manifest: CompiledManifest = { source: ROOT, roots, files: hashes, stats, compiledAt };
  fs.writeFileSync(path.join(outDir, "compiled.json"), `${JSON.stringify(manifest)}\n`);
  return files.length;
}

const USAGE = `Usage: npm run compile [-- --help]

Compiles the program and the offline tools to CommonJS in dist/ (the npm script names the folder),
file by file without a type check (npm run build does that), so npm run render:compiled renders
without a TypeScript loader. Records a hash of every source in dist/compiled.json: the compiled
render refuses to run once a source changed. Never deletes a folder it did not write.
  --help  this text`;

/** The command line: `compile.ts <out folder> [--help]`; returns the process exit code. */
export function main(argv: readonly string[]): number {
  let args;
  try {
    args = parseCommandLine(argv, { help: { type: "boolean", short: "h" } });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`compile: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.positionals.length > 1) {
    console.error(
      `compile: give one output folder, got ${args.positionals.length} (${args.positionals.join(", ")})\n\n${USAGE}`,
    );
    return 2;
  }
  // The folder comes from the npm script (dist), so it is the project's: relative to the project folder.
  const outDir = path.resolve(ROOT, args.positionals[0] ?? "dist");
  const rel = path.relative(ROOT, outDir);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
    console.error(`compile: ${outDir} must be inside ${ROOT}, so the compiled files find node_modules`);
    return 2;
  }
  try {
    console.log(`compile: ${precompile(outDir)} files compiled to ${path.relative(process.cwd(), outDir) || "."}`);
  } catch (e) {
    console.error(`compile: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
