import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Refusal } from "./errors";

/** Who holds a stage's lock. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly by: string;
  readonly since: string;
  readonly command: string;
}

/** A held lock: release it when done; `tookOver` says whose stale lock was cleared to get it. */
export interface StageLock {
  release(): void;
  readonly tookOver?: string;
}

/**
 * One command at a time per stage on this machine: a lock file created with O_EXCL (`wx`).
 * Concurrent runs on other machines (CI) are caught by the pointer compare-and-swap and by the
 * history's hash chain (two records after the same one are a fork) instead. A lock left by a
 * process of this host that no longer exists (killed, crashed) is taken over, and the takeover is
 * reported; a lock of another host is never guessed about.
 */
export function lockStage(
  dir: string,
  lane: string,
  stage: string,
  now: Date,
  actor: string,
  command: string,
): StageLock {
  fs.mkdirSync(dir, { recursive: true });
  // One lock per lane and stage: lanes never wait for each other.
  const file = path.join(dir, `${lane}.${stage}.lock`);
  const holder: Holder = { pid: process.pid, host: os.hostname(), by: actor, since: now.toISOString(), command };
  const text = `${JSON.stringify(holder)}\n`;
  let tookOver: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(file, text)) return { release: () => releaseIfOurs(file, text), tookOver };
    const seen = readHolder(file);
    if (seen === "gone") continue;
    const stale = seen.holder && isStale(seen.holder) ? seen.holder : undefined;
    if (stale && attempt === 0 && takeOver(file, seen.text)) {
      tookOver = `took over the lock of lane ${lane}, stage ${stage} from "${stale.command}" of ${stale.by} (pid ${stale.pid}, since ${stale.since}): that process no longer runs on this host`;
      continue;
    }
    throw new Refusal(
      stage,
      "lock",
      `another command is changing this stage: ${describe(file, seen)}. Wait for it to finish`,
    );
  }
  throw new Refusal(
    stage,
    "lock",
    `another command is changing this stage: ${describe(file, readHolder(file))}. Wait for it to finish`,
  );
}

function tryCreate(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function readHolder(file: string): { holder: Holder | undefined; text: string } | "gone" {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return { holder: undefined, text: "" };
  }
  try {
    const h = JSON.parse(text) as Holder;
    return { holder: typeof h?.pid === "number" && typeof h.host === "string" ? h : undefined, text };
  } catch {
    return { holder: undefined, text };
  }
}

function isStale(h: Holder): boolean {
  return h.host === os.hostname() && h.pid !== process.pid && !isAlive(h.pid);
}

/**
 * Moves the stale lock aside, then checks that what was moved is the stale lock that was read: if
 * another process took it over in between, its live lock is put back and this one gives up.
 */
function takeOver(file: string, staleText: string): boolean {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false;
  }
  const moved = fs.readFileSync(aside, "utf8");
  if (moved !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // Another lock was created meanwhile; the moved one's holder will find it gone when releasing.
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/** Removes the lock only while it is still ours (a takeover may have replaced it). */
function releaseIfOurs(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, "utf8") === text) fs.rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}

function describe(file: string, seen: ReturnType<typeof readHolder>): string {
  if (seen === "gone") return `${file} was just released; run the command again`;
  if (!seen.holder)
    return `${file} exists but does not say who holds it (not written by these commands, or its writer died at once); if no command is running, delete it`;
  const h = seen.holder;
  const where = h.host === os.hostname() ? "running" : `on host ${h.host}; if that run is over, delete ${file}`;
  return `${file} is held by "${h.command}" (pid ${h.pid}, ${where}) of ${h.by} since ${h.since}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
