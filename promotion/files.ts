import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Writes a file that must not exist yet, atomically: the text goes to a temporary file that is
 * then hard-linked to its name, which fails if the name is taken. A reader never sees a partial
 * file, and two writers never overwrite each other. Returns false when the file already existed.
 */
export function writeNewFile(file: string, text: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
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
