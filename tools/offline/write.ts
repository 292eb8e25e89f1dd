import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";

/** Relative file path for one Kubernetes object: `<namespace or _cluster>/<kind>-<name>.yaml`. */
export function manifestPath(obj: Record<string, unknown>): string {
  const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
  const kind = String(obj.kind ?? "Unknown").toLowerCase();
  return path.join(meta.namespace ?? "_cluster", `${kind}-${meta.name ?? "unnamed"}.yaml`);
}

/**
 * Replaces `dir` with a folder holding exactly `files` (relative path -> text). The new content
 * is written beside it and swapped in by renames, so a reader sees the old or the new folder,
 * never a mix, and no stale file survives.
 */
export function replaceDirectory(dir: string, files: ReadonlyMap<string, string>): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const base = path.basename(dir);
  const tmp = fs.mkdtempSync(path.join(parent, `.${base}.new-`));
  try {
    for (const [rel, text] of files) {
      const file = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
    const old = fs.existsSync(dir) ? `${tmp.replace(".new-", ".old-")}` : undefined;
    if (old) fs.renameSync(dir, old);
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Put the previous output back rather than leave no folder at all.
      if (old) fs.renameSync(old, dir);
      throw e;
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Writes one file atomically: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** YAML for one object, with stable formatting. */
export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0, sortMapEntries: false });
}
