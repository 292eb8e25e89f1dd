import * as fs from "node:fs";
import * as path from "node:path";
import { tempName } from "../../lib/files";
import { rel, TeamRefused, type Workspace } from "./workspace";

/**
 * The journal of a swap in progress, beside the stack files: hidden and ending in `.tmp`, like every
 * temporary file of the swap, so `.gitignore` (`/stacks/**\/.*.tmp`) covers what a killed run leaves.
 */
export const JOURNAL = ".team-transaction.tmp";

/** One file of a swap: where its old text is kept and its new text waits. */
interface JournalEntry {
  readonly file: string;
  /** A hard link to the file as it was (absent for a file the swap creates). */
  readonly old?: string;
  /** The new text, written in full before any file is swapped (absent for a file the swap deletes). */
  readonly next?: string;
}

const journalOf = (ws: Workspace) => path.join(ws.project.stackConfigDir, JOURNAL);

/**
 * Undoes a swap a killed run left half done, from its journal: every file is put back as it was
 * (from its kept old text, or removed when the swap created it) and the temporary files go. Returns
 * the files it restored; none when no swap was interrupted.
 */
export function recoverInterrupted(ws: Workspace): string[] {
  const journal = journalOf(ws);
  if (!fs.existsSync(journal)) return [];
  let entries: JournalEntry[];
  try {
    entries = JSON.parse(fs.readFileSync(journal, "utf8")) as JournalEntry[];
  } catch {
    // The run died while writing its journal, before swapping anything: only temporary files remain.
    fs.rmSync(journal, { force: true });
    return [];
  }
  const restored: string[] = [];
  for (const e of entries) {
    if (e.old !== undefined && fs.existsSync(e.old)) {
      const swapped = !fs.existsSync(e.file) || fs.statSync(e.file).ino !== fs.statSync(e.old).ino;
      // rename() of a hard link onto the same file does nothing (POSIX), so an unswapped file's link is removed instead.
      if (swapped) {
        fs.renameSync(e.old, e.file);
        restored.push(rel(ws, e.file));
      } else fs.rmSync(e.old);
    } else if (e.old === undefined && fs.existsSync(e.file)) {
      fs.unlinkSync(e.file);
      restored.push(rel(ws, e.file));
    }
    if (e.next !== undefined) fs.rmSync(e.next, { force: true });
  }
  fs.rmSync(journal, { force: true });
  return restored;
}

/**
 * Replaces, creates and deletes the files of `changes` (null: delete) all together or not at all.
 * Each file's new text is written beside it first and its old text kept under a hard link; a file
 * changed since it was read (`originals`) stops the swap before anything is replaced. A journal
 * names every file before the first is swapped: if any step fails the files already swapped are put
 * back, and if the process is killed between swaps the next run puts them back ({@link recoverInterrupted}).
 */
export function swapFiles(
  changes: ReadonlyMap<string, string | null>,
  originals: ReadonlyMap<string, string | undefined>,
  ws: Workspace,
): void {
  const written: string[] = [];
  const undo: (() => void)[] = [];
  const entries: JournalEntry[] = [];
  const journal = journalOf(ws);
  try {
    for (const [file, text] of changes) {
      const before = originals.get(file);
      const now = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      if (now !== before)
        throw new TeamRefused([`${rel(ws, file)} changed while this command ran; nothing was written. Run it again`]);
      const entry: { file: string; old?: string; next?: string } = { file };
      if (text !== null) {
        entry.next = tempName(file, "new");
        fs.writeFileSync(entry.next, text, { flag: "wx" });
        written.push(entry.next);
      }
      if (before !== undefined) {
        // A hard link keeps the old text under another name until every file is swapped.
        entry.old = tempName(file, "old");
        fs.linkSync(file, entry.old);
        written.push(entry.old);
      }
      entries.push(entry);
    }
    fs.writeFileSync(journal, JSON.stringify(entries), { flag: "wx" });
    written.push(journal);
    for (const e of entries) {
      if (e.next === undefined) {
        fs.unlinkSync(e.file);
        undo.push(() => fs.linkSync(e.old!, e.file));
      } else if (e.old !== undefined) {
        fs.renameSync(e.next, e.file);
        undo.push(() => fs.renameSync(e.old!, e.file));
      } else {
        // link, not rename: a file that appeared meanwhile is not overwritten (EEXIST).
        fs.linkSync(e.next, e.file);
        undo.push(() => fs.unlinkSync(e.file));
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
    throw e instanceof TeamRefused
      ? e
      : new TeamRefused([
          `writing the stack files failed (${(e as Error).message.split("\n")[0]}); the files were restored`,
        ]);
  } finally {
    // The journal goes first: once it is gone the swap is done (or undone), and a run killed while
    // the temporary files are removed leaves only files git ignores.
    fs.rmSync(journal, { force: true });
    for (const t of written) fs.rmSync(t, { force: true });
  }
}
