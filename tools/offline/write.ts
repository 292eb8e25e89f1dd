import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";

/**
 * The file the render puts in every folder it writes. A folder without it was not written by the
 * render, so the render never replaces it: `--out` may point anywhere, and a wrong stack name or
 * output folder cannot delete a user's files.
 */
export const RENDER_MARKER = ".rendered-by-blueprint";
const MARKER_TEXT =
  "Written by `npm run render`: the render replaces this folder, and only folders holding this file.\n";

/** An output path the render refuses to write; reported as one line, exit 1. */
export class OutputRefused extends Error {}

/** Relative file path for one Kubernetes object: `<namespace or _cluster>/<kind>-<name>.yaml`. */
export function manifestPath(obj: Record<string, unknown>): string {
  const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
  const kind = String(obj.kind ?? "Unknown").toLowerCase();
  return path.join(meta.namespace ?? "_cluster", `${kind}-${meta.name ?? "unnamed"}.yaml`);
}

/**
 * Checks, before anything is written, that the render may write `<outDir>/<stack>/` and
 * `<outDir>/<stack>.stack.json`: the output folder is not a filesystem root or the home folder,
 * the stack folder is absent or carries the marker, and the stack file is absent or sits beside a
 * marked stack folder (the two are always written together). Throws {@link OutputRefused}.
 */
export function checkOutput(outDir: string, stack: string): void {
  const out = realOrSelf(path.resolve(outDir));
  if (out === path.parse(out).root || out === realOrSelf(os.homedir())) {
    throw new OutputRefused(`refusing to write into ${out}: choose a dedicated --out folder such as rendered/`);
  }
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new OutputRefused(`--out ${out} is not a folder`);
  const dir = path.join(out, stack);
  const dirState = ownership(dir);
  if (dirState !== "absent" && dirState !== "ours")
    throw new OutputRefused(`refusing to replace ${dir}: ${dirState}; move it away or choose another --out`);
  const json = path.join(out, `${stack}.stack.json`);
  const jsonStat = fs.lstatSync(json, { throwIfNoEntry: false });
  if (jsonStat && (!jsonStat.isFile() || dirState !== "ours")) {
    const why = jsonStat.isFile()
      ? `no rendered folder ${dir} with a ${RENDER_MARKER} marker sits beside it`
      : "it is not a regular file";
    throw new OutputRefused(
      `refusing to overwrite ${json}: ${why}, so the render did not write it; move it away or choose another --out`,
    );
  }
}

/** Whether `dir` may be replaced: absent, or a real folder holding the marker; otherwise why not. */
function ownership(dir: string): "absent" | "ours" | string {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return "absent";
  if (st.isSymbolicLink()) return "it is a symbolic link";
  if (!st.isDirectory()) return "it is a file, not a folder the render wrote";
  const marker = fs.lstatSync(path.join(dir, RENDER_MARKER), { throwIfNoEntry: false });
  return marker?.isFile() ? "ours" : `it has no ${RENDER_MARKER} marker, so the render did not write it`;
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * A folder being written beside `dir`, swapped in by {@link StagedDirectory.commit}. Writers
 * (the render's worker processes too) fill {@link StagedDirectory.path}; nothing is visible at
 * `dir` until the commit, and {@link StagedDirectory.discard} leaves nothing behind.
 */
export interface StagedDirectory {
  /** The temporary folder to write into (beside `dir`, so the commit is a rename on one filesystem). */
  readonly path: string;
  /** Writes one file under the staged folder; refuses a path that leaves it. */
  write(rel: string, text: string): void;
  /** Adds the marker and swaps the staged folder in for `dir`. */
  commit(): void;
  /** Removes the staged folder. */
  discard(): void;
}

/**
 * Starts replacing `dir`: refuses a folder without the marker ({@link OutputRefused}), then
 * creates the staged folder beside it.
 */
export function stageDirectory(dir: string): StagedDirectory {
  const state = ownership(dir);
  if (state !== "absent" && state !== "ours")
    throw new OutputRefused(`refusing to replace ${dir}: ${state}; move it away or choose another --out`);
  const parent = path.dirname(path.resolve(dir));
  // The first folder this creates, if any: a discarded render leaves no empty --out folder behind.
  const created = fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(dir)}.new-`));
  return {
    path: tmp,
    write: (rel, text) => writeUnder(tmp, rel, text, dir),
    commit: () => {
      fs.writeFileSync(path.join(tmp, RENDER_MARKER), MARKER_TEXT);
      // Checked again: the folder may have changed hands while the staged one was written.
      const now = ownership(dir);
      if (now !== "absent" && now !== "ours")
        throw new OutputRefused(`refusing to replace ${dir}: ${now}; move it away or choose another --out`);
      const old = now === "ours" ? `${tmp.replace(".new-", ".old-")}` : undefined;
      if (old) fs.renameSync(dir, old);
      try {
        fs.renameSync(tmp, dir);
      } catch (e) {
        // Put the previous output back rather than leave no folder at all.
        if (old) fs.renameSync(old, dir);
        throw e;
      }
      if (old) fs.rmSync(old, { recursive: true, force: true });
    },
    discard: () => {
      fs.rmSync(tmp, { recursive: true, force: true });
      for (let d = parent; created && d.startsWith(created) && d !== path.dirname(d); d = path.dirname(d)) {
        try {
          fs.rmdirSync(d);
        } catch {
          break;
        }
      }
    },
  };
}

/** Writes `text` at `rel` under `root`; refuses a relative path that leaves `root` (named as under `shown`). */
export function writeUnder(root: string, rel: string, text: string, shown: string = root): void {
  const file = path.join(root, rel);
  if (path.relative(root, file).startsWith("..")) throw new OutputRefused(`refusing to write ${rel}: outside ${shown}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/**
 * Replaces `dir` with a folder holding exactly `files` (relative path -> text) and the render's
 * marker. The new content is written beside it and swapped in by renames, so a reader sees the old
 * or the new folder, never a mix, and no stale file survives. A folder without the marker is
 * never replaced ({@link OutputRefused}).
 */
export function replaceDirectory(dir: string, files: ReadonlyMap<string, string>): void {
  const staged = stageDirectory(dir);
  try {
    for (const [rel, text] of files) staged.write(rel, text);
    staged.commit();
  } catch (e) {
    staged.discard();
    throw e;
  }
}

/** YAML for one object, with stable formatting. */
export function toYaml(obj: unknown): string {
  return stringify(obj, { lineWidth: 0, sortMapEntries: false });
}
