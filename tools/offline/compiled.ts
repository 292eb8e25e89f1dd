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

/**
 * Sources that changed, appeared or disappeared since they were compiled. Content, not
 * modification times, decides: a checkout or a copy changes times without changing code, and an
 * edit within the same second would slip past a time check.
 */
export function staleSources(manifest: CompiledManifest): string[] {
  // A tree compiled before hashes were recorded cannot be checked: treat it as stale.
  if (!Array.isArray(manifest.roots) || manifest.files === null || typeof manifest.files !== "object")
    return ["compiled.json"];
  const now = sourceFiles(manifest.source, manifest.roots);
  const changed = now.filter(
    (rel) => manifest.files[rel] !== hashText(fs.readFileSync(path.join(manifest.source, rel), "utf8")),
  );
  const gone = Object.keys(manifest.files).filter((rel) => !now.includes(rel));
  return [...changed, ...gone];
}
