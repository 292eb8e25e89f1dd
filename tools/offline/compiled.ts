import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** What `npm run compile` records beside the compiled files (`<out>/compiled.json`). */
export interface CompiledManifest {
  /** The project folder the files were compiled from. */
  readonly source: string;
  /** Folders and files compiled, relative to `source`. */
  readonly roots: readonly string[];
  /** Every compiled source file (relative path) with the SHA-256 of its text. */
  readonly files: Readonly<Record<string, string>>;
  /** Every compiled source file's size and modification time (ms) when it was read. */
  readonly stats?: Readonly<Record<string, readonly [number, number]>>;
  /** When compiling started (ms since the epoch). */
  readonly compiledAt?: number;
}

/** The TypeScript sources under `roots` (relative to `source`), sorted. */
export function sourceFiles(source: string, roots: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(source, rel);
    if (fs.statSync(abs).isDirectory()) for (const f of fs.readdirSync(abs)) walk(path.join(rel, f));
    else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) files.push(rel);
  };
  for (const r of roots) if (fs.existsSync(path.join(source, r))) walk(r);
  return files.sort();
}

export function hashText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** How long before compiling started a file must have last changed for its time to be trusted (ms). */
const RACY_MS = 2000;

/**
 * Sources that changed, appeared or disappeared since they were compiled. Content decides: a file
 * is hashed again unless its size and modification time are the ones recorded and that time lies
 * well before compiling started. Any write after that gives a later time, so a time check alone
 * can only hash more, never miss an edit; a checkout or a copy changes times without changing
 * code, and then the hash says the file is the same. A file written just before compiling (within
 * {@link RACY_MS}) is always hashed: a second edit could carry the same time.
 */
export function staleSources(manifest: CompiledManifest): string[] {
  // A tree compiled before hashes were recorded cannot be checked: treat it as stale.
  if (!Array.isArray(manifest.roots) || manifest.files === null || typeof manifest.files !== "object")
    return ["compiled.json"];
  const now = sourceFiles(manifest.source, manifest.roots);
  const trusted = (rel: string): boolean => {
    const recorded = manifest.stats?.[rel];
    if (!recorded || typeof manifest.compiledAt !== "number") return false;
    const st = fs.statSync(path.join(manifest.source, rel));
    return st.size === recorded[0] && st.mtimeMs === recorded[1] && recorded[1] < manifest.compiledAt - RACY_MS;
  };
  const changed = now.filter(
    (rel) =>
      !trusted(rel) && manifest.files[rel] !== hashText(fs.readFileSync(path.join(manifest.source, rel), "utf8")),
  );
  const gone = Object.keys(manifest.files).filter((rel) => !now.includes(rel));
  return [...changed, ...gone];
}

/**
 * The compiled tree a file belongs to, when it runs as compiled JavaScript (a folder above it
 * holds the `compiled.json` naming the source folder). Undefined otherwise.
 */
export function compiledTree(self: string): { out: string; manifest: CompiledManifest } | undefined {
  if (!self.endsWith(".js")) return undefined;
  // Compiled files sit at most two folders below the tree's root (tools/offline/, promotion/view/).
  let dir = path.dirname(self);
  for (let i = 0; i < 3; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, "compiled.json");
    if (fs.existsSync(file))
      return { out: dir, manifest: JSON.parse(fs.readFileSync(file, "utf8")) as CompiledManifest };
  }
  return undefined;
}

/**
 * The program file to run: when `self` runs as compiled JavaScript, the program compiled in the
 * same tree (`<out>/index.js` for `index.ts`), so no TypeScript loader is needed. Undefined otherwise.
 */
export function compiledProgram(main: string, self: string = __filename): string | undefined {
  const tree = compiledTree(self);
  if (!tree || !main.endsWith(".ts")) return undefined;
  const rel = path.relative(tree.manifest.source, main);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  const js = path.join(tree.out, rel.replace(/\.ts$/, ".js"));
  return fs.existsSync(js) ? js : undefined;
}

/**
 * The file an offline run loads for the program `main`: the one compiled in the same tree when
 * the tools run compiled, else `main` itself. Compiled tools asked to run a TypeScript program
 * outside their tree (a project of its own) load it through tsx.
 */
export function programFile(main: string): string {
  const compiled = compiledProgram(main);
  if (compiled) return compiled;
  if (main.endsWith(".ts") && __filename.endsWith(".js")) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("tsx/cjs/api") as { register(): void }).register();
  }
  return main;
}
