import * as fs from "node:fs";
import { writeFileAtomic } from "../lib/files";

/** What identifies one version of a file without reading it: as git's index does, inode, size, mtime and ctime. */
export type FileIdentity = readonly [ino: number, size: number, mtimeMs: number, ctimeMs: number];

export function fileIdentity(file: string): FileIdentity {
  const st = fs.statSync(file);
  return [st.ino, st.size, st.mtimeMs, st.ctimeMs];
}

/** The largest read cache read: far more than 1,000 records of one lane need. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const CACHE_VERSION = 1;

/**
 * What reading files found, so that `status` need not read, parse and check every record and stack
 * file of every lane each time: an entry counts only for a file whose inode, size, mtime and ctime
 * are those it had when it was read (a write changes ctime, which no user can set back). It lives in
 * `stacks/history/.cache/`, is never committed, is rebuilt when unreadable or out of date, and is an
 * optimisation of this machine's reports only: promote, approve, verify and rollback always read the
 * files themselves.
 */
export class ReadCache<T> {
  private changed = false;
  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, { id: FileIdentity; value: T }>,
  ) {}

  /** The cache in `file`; entries whose value does not pass `valid` are dropped. */
  static load<T>(file: string, valid: (value: unknown) => value is T): ReadCache<T> {
    const entries = new Map<string, { id: FileIdentity; value: T }>();
    try {
      if (fs.statSync(file).size <= MAX_CACHE_BYTES) {
        const json = JSON.parse(fs.readFileSync(file, "utf8")) as { version?: unknown; entries?: unknown };
        if (json.version === CACHE_VERSION && json.entries !== null && typeof json.entries === "object") {
          for (const [key, e] of Object.entries(json.entries as Record<string, unknown>)) {
            const v = e as { id?: unknown; value?: unknown };
            if (
              Array.isArray(v.id) &&
              v.id.length === 4 &&
              v.id.every((n) => typeof n === "number") &&
              valid(v.value)
            ) {
              entries.set(key, { id: v.id as unknown as FileIdentity, value: v.value });
            }
          }
        }
      }
    } catch {
      // No cache yet, or one that cannot be used: every file is read.
    }
    return new ReadCache(file, entries);
  }

  /** What was found in the file at `key` when it had the identity `id`. */
  get(key: string, id: FileIdentity): T | undefined {
    const e = this.entries.get(key);
    return e && e.id.every((n, i) => n === id[i]) ? e.value : undefined;
  }

  set(key: string, id: FileIdentity, value: T): void {
    this.entries.set(key, { id, value });
    this.changed = true;
  }

  /** Writes the cache when something was added; a read-only checkout only makes the next report slower. */
  save(): void {
    if (!this.changed) return;
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.entries) }));
    } catch {
      // Nothing to do: the report is the same without the cache.
    }
  }
}
