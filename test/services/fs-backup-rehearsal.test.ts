import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { postgresBin } from "../helpers/postgres";

/**
 * What Velero's file-system backup does to the in-cluster Postgres, rehearsed against a real
 * server from Debian's `postgresql` package: kopia copies the files of the live volume, without a
 * checkpoint, and the restored server must recover from its write-ahead log. docs/backups.md judges
 * such a restore by its data (velero#6693); this shows the check telling a good copy from a bad
 * one. Under CI=true a missing server fails this file; elsewhere it is skipped.
 */

const BIN = postgresBin();

const isRoot = process.getuid?.() === 0;

/** Runs a command as the `postgres` OS user when this is root (the server refuses to run as root). */
function asPostgres(cmd: string, args: string[]): string {
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The check of docs/backups.md: rows and a checksum of the table, in a stable order. */
const CHECK = "SELECT count(*) || ':' || md5(string_agg(id || '=' || total, ',' ORDER BY id)) FROM orders";

const describeIfServer = BIN || process.env.CI === "true" ? describe : describe.skip;

describeIfServer("a file-system copy of a running Postgres, restored and judged by its data", () => {
  let dir: string;
  const running: string[] = [];
  const data = (name: string) => path.join(dir, name, "pgdata");
  const socket = (name: string) => path.join(dir, name, "run");

  /** Starts a server on `name`'s data directory, on its own socket only; false when it does not come up. */
  function start(name: string): boolean {
    try {
      asPostgres(path.join(BIN!, "pg_ctl"), [
        "start",
        "-w",
        "-t",
        "30",
        "-D",
        data(name),
        "-l",
        path.join(dir, name, "log"),
        "-o",
        `-c listen_addresses='' -c unix_socket_directories=${socket(name)}`,
      ]);
      running.push(name);
      return true;
    } catch {
      return false;
    }
  }

  function stop(name: string): void {
    asPostgres(path.join(BIN!, "pg_ctl"), ["stop", "-w", "-m", "fast", "-D", data(name)]);
    running.splice(running.indexOf(name), 1);
  }

  function sql(name: string, text: string): string {
    return asPostgres(path.join(BIN!, "psql"), [
      "-X",
      "-At",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      socket(name),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      text,
    ]).trim();
  }

  /** The volume's files copied while the server runs, as the node-agent's kopia reads them. */
  function copyVolume(from: string, to: string): void {
    // The volume holds the data directory; the socket directory is an emptyDir of the pod's own.
    asPostgres("mkdir", ["-p", socket(to)]);
    asPostgres("cp", ["-a", data(from), data(to)]);
    // The copy carries the running server's lock file, as a restored volume does; the restored
    // pod's server is a new process in a new container and starts over it (stale pid).
    fs.rmSync(path.join(data(to), "postmaster.pid"), { force: true });
  }

  beforeAll(() => {
    if (!BIN)
      throw new Error(
        "PostgreSQL server binaries are missing (/usr/lib/postgresql/<version>/bin): install Debian's postgresql package, as .ci/run does",
      );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fs-backup-rehearsal-"));
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, "source", "run"), { recursive: true });
    if (isRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
    asPostgres(path.join(BIN, "initdb"), ["-D", data("source"), "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
    expect(start("source")).toBe(true);
  }, 60_000);

  afterAll(() => {
    for (const name of [...running]) stop(name);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("recovers the copy from its write-ahead log to the data of the moment of the backup, which the check confirms", () => {
    sql("source", "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)");
    sql("source", "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g");
    const atBackup = sql("source", CHECK);
    expect(atBackup).toMatch(/^500:[0-9a-f]{32}$/);

    copyVolume("source", "restored");
    // The source moves on after the backup: the restore must show the backup's moment, not now.
    sql("source", "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(501, 600) g");
    expect(sql("source", CHECK)).toMatch(/^600:/);

    expect(start("restored")).toBe(true);
    expect(sql("restored", CHECK)).toBe(atBackup);
    // The server knew it was not shut down cleanly and replayed its log.
    expect(fs.readFileSync(path.join(dir, "restored", "log"), "utf8")).toMatch(
      /database system was not properly shut down|redo starts/,
    );
    stop("restored");
  });

  it("refuses a copy without its write-ahead log: a volume that merely exists is no restore", () => {
    copyVolume("source", "no-wal");
    for (const f of fs.readdirSync(path.join(data("no-wal"), "pg_wal")))
      if (/^[0-9A-F]{24}$/.test(f)) fs.rmSync(path.join(data("no-wal"), "pg_wal", f));
    expect(start("no-wal")).toBe(false);
    expect(fs.readFileSync(path.join(dir, "no-wal", "log"), "utf8")).toMatch(/checkpoint record/);
  });
});
