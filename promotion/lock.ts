import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Refusal } from "./errors";

/**
 * One promotion at a time per stage on this machine: a lock file created with O_EXCL (`wx`).
 * Concurrent runs on other machines (CI) are caught by the pointer compare-and-swap instead.
 * Returns the function that releases the lock.
 */
export function lockStage(dir: string, stage: string, now: Date, actor: string, command: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stage}.lock`);
  const holder = { pid: process.pid, host: os.hostname(), by: actor, since: now.toISOString(), command };
  let fd: number;
  try {
    fd = fs.openSync(file, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    throw new Refusal(stage, "lock", `another promotion of this stage is running: ${describeHolder(file)}. Wait for it to finish; if no such process exists any more, delete ${file}`);
  }
  try {
    fs.writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return () => fs.rmSync(file, { force: true });
}

function describeHolder(file: string): string {
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as { pid: number; host: string; by: string; since: string; command: string };
    const alive = h.host === os.hostname() ? (isAlive(h.pid) ? "running" : "no longer running: the lock is stale") : `on host ${h.host}`;
    return `${file} is held by "${h.command}" (pid ${h.pid}, ${alive}) of ${h.by} since ${h.since}`;
  } catch {
    return `${file} exists`;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
