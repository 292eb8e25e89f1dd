import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The name of a write's temporary file beside `file`: hidden and ending in `.tmp`, so the project's
 * .gitignore (`/stacks/**\/.*.tmp`) covers one a killed process leaves behind.
 */
export function tempName(file: string, what = "tmp"): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${what}.tmp`);
}

/** Writes one file atomically: a temporary file in the same folder, then a rename. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, text, { flag: "wx" });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a file that must not exist yet, atomically: the text goes to a temporary file that is
 * then hard-linked to its name, which fails if the name is taken. A reader never sees a partial
 * file, and two writers never overwrite each other. Returns false when the file already existed.
 */
export function writeNewFile(file: string, text: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  fs.writeFileSync(tmp, text, { flag: "wx" });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
