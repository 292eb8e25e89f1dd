import * as fs from "node:fs";
import * as path from "node:path";
import { rel, TeamRefused, type Workspace } from "./workspace";

/**
 * Replaces, creates and deletes the files of `changes` (null: delete) all together or not at all.
 * Each file's new text is written beside it first; a file changed since it was read (`originals`)
 * stops the swap before anything is replaced; if any step fails, the files already swapped are put back.
 */
export function swapFiles(changes: ReadonlyMap<string, string | null>, originals: ReadonlyMap<string, string | undefined>, ws: Workspace): void {
  const tag = `${process.pid}.${Date.now()}`;
  const temp = (file: string, what: string) => path.join(path.dirname(file), `.${path.basename(file)}.${tag}.${what}`);
  const written: string[] = [];
  const undo: (() => void)[] = [];
  try {
    for (const [file, text] of changes) {
      const before = originals.get(file);
      const now = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      if (now !== before) throw new TeamRefused([`${rel(ws, file)} changed while this command ran; nothing was written. Run it again`]);
      if (text !== null) {
        fs.writeFileSync(temp(file, "new"), text, { flag: "wx" });
        written.push(temp(file, "new"));
      }
    }
    for (const [file, text] of changes) {
      const exists = originals.get(file) !== undefined;
      if (exists) {
        // A hard link keeps the old text under another name until every file is swapped.
        fs.linkSync(file, temp(file, "old"));
        written.push(temp(file, "old"));
      }
      if (text === null) {
        fs.unlinkSync(file);
        undo.push(() => fs.linkSync(temp(file, "old"), file));
      } else if (exists) {
        fs.renameSync(temp(file, "new"), file);
        undo.push(() => fs.renameSync(temp(file, "old"), file));
      } else {
        // link, not rename: a file that appeared meanwhile is not overwritten (EEXIST).
        fs.linkSync(temp(file, "new"), file);
        undo.push(() => fs.unlinkSync(file));
      }
    }
  } catch (e) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // Best effort: the remaining steps still restore what they can.
      }
    }
    throw e instanceof TeamRefused ? e : new TeamRefused([`writing the stack files failed (${(e as Error).message.split("\n")[0]}); the files were restored`]);
  } finally {
    for (const t of written) fs.rmSync(t, { force: true });
  }
}

