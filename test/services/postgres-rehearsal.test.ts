import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ENSURE_USERS_SH, ENSURE_USERS_SQL, PG_HBA_CONF } from "../../lib/service-scripts";
import { postgresBin } from "../helpers/postgres";

/**
 * The in-cluster Postgres's user script and client authentication, and the dump-and-restore of
 * docs/backups.md, against a real PostgreSQL server from Debian's `postgresql` package (`.ci/run`
 * installs it). Under CI=true a missing server fails this file; elsewhere it is skipped.
 */

const BIN = postgresBin();

const isRoot = process.getuid?.() === 0;
/** Runs a server-side command as the `postgres` OS user (the server refuses to run as root; peer authentication maps the OS user). */
function asPostgres(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  if (!isRoot) return execFileSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  // The variables go to the command through env(1): runuser itself is looked up on the caller's PATH.
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return execFileSync("runuser", ["-u", "postgres", "--", "env", ...vars, cmd, ...args], { encoding: "utf8" });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const describeIfServer = BIN || process.env.CI === "true" ? describe : describe.skip;

describeIfServer("the in-cluster Postgres scripts against a real server", () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  const socket = () => path.join(dir, "run");

  /** Runs ensure-users.sh as the pod's postStart hook does: as the superuser over the local socket. */
  function ensureUsers(passA: string, passB: string): void {
    asPostgres("/bin/sh", [path.join(dir, "scripts", "ensure-users.sh")], {
      PATH: `${BIN}:/usr/bin:/bin`,
      PGHOST: socket(),
      PGPORT: String(port),
      PGUSER: "postgres",
      SERVICE_DATABASE: "db",
      SERVICE_OWNER: "db_owner",
      SERVICE_USER_A: "db_a",
      SERVICE_PASSWORD_A: passA,
      SERVICE_USER_B: "db_b",
      SERVICE_PASSWORD_B: passB,
    });
  }

  /** A query over TCP with a password, as a bound app connects. */
  function query(user: string, password: string, sql: string, database = "db"): string {
    return execFileSync(
      path.join(BIN!, "psql"),
      [
        "-X",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        user,
        "-d",
        database,
        "-c",
        sql,
      ],
      {
        env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    ).trim();
  }

  function canLogIn(user: string, password: string): boolean {
    try {
      return query(user, password, "SELECT 1") === "1";
    } catch {
      return false;
    }
  }

  beforeAll(async () => {
    if (!BIN)
      throw new Error(
        "PostgreSQL server binaries are missing (/usr/lib/postgresql/<version>/bin): install Debian's postgresql package, as .ci/run does",
      );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pg-rehearsal-"));
    fs.mkdirSync(path.join(dir, "run"));
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.writeFileSync(path.join(dir, "scripts", "ensure-users.sh"), ENSURE_USERS_SH);
    fs.writeFileSync(path.join(dir, "scripts", "ensure-users.sql"), ENSURE_USERS_SQL);
    fs.writeFileSync(path.join(dir, "scripts", "pg_hba.conf"), PG_HBA_CONF);
    fs.chmodSync(dir, 0o755);
    if (isRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
    asPostgres(path.join(BIN, "initdb"), [
      "-D",
      path.join(dir, "data", "pgdata"),
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
    ]);
    port = await freePort();
    const args = [
      "-D",
      path.join(dir, "data", "pgdata"),
      "-c",
      `hba_file=${path.join(dir, "scripts", "pg_hba.conf")}`,
      "-c",
      "password_encryption=scram-sha-256",
      "-c",
      `port=${port}`,
      "-c",
      `unix_socket_directories=${socket()}`,
      "-c",
      "listen_addresses=127.0.0.1",
    ];
    server = isRoot
      ? spawn("runuser", ["-u", "postgres", "--", path.join(BIN, "postgres"), ...args], { stdio: "ignore" })
      : spawn(path.join(BIN, "postgres"), args, { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync(path.join(BIN, "pg_isready"), ["-q", "-h", socket(), "-p", String(port)]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error("postgres did not start");
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      asPostgres(path.join(BIN!, "pg_ctl"), ["stop", "-D", path.join(dir, "data", "pgdata"), "-m", "fast", "-w"]);
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates the database, its owner and the first user; the second user cannot log in before a rotation", () => {
    ensureUsers("first-password", "");
    expect(canLogIn("db_a", "first-password")).toBe(true);
    expect(canLogIn("db_b", "")).toBe(false);
    expect(canLogIn("db_a", "wrong")).toBe(false);
    // What the app creates belongs to the owner role, so the other user can use it after a rotation.
    query("db_a", "first-password", "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL)");
    expect(query("db_a", "first-password", "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'")).toBe(
      "db_owner",
    );
  });

  it("refuses the superuser over the network, with or without a password", () => {
    expect(canLogIn("postgres", "")).toBe(false);
    expect(canLogIn("postgres", "first-password")).toBe(false);
  });

  it("rotates: the new user works before the old password is revoked, and the next rotation revokes it", () => {
    ensureUsers("first-password", "second-password");
    expect(canLogIn("db_a", "first-password")).toBe(true);
    expect(canLogIn("db_b", "second-password")).toBe(true);
    query("db_b", "second-password", "INSERT INTO orders VALUES (1, 10.5)");
    ensureUsers("third-password", "second-password");
    expect(canLogIn("db_a", "first-password")).toBe(false);
    expect(canLogIn("db_a", "third-password")).toBe(true);
    expect(query("db_a", "third-password", "SELECT count(*) FROM orders")).toBe("1");
  });

  it("is safe to run again with the same passwords, and keeps names with quotes out of SQL", () => {
    ensureUsers("third-password", "second-password");
    ensureUsers("third-password", "pa'ss\"word;--");
    expect(canLogIn("db_b", "pa'ss\"word;--")).toBe(true);
  });

  it("restores a dump into a new database, judged by its rows and a checksum, not by an exit status", () => {
    const pass = "third-password";
    query("db_a", pass, "INSERT INTO orders SELECT g, g * 1.25 FROM generate_series(2, 500) AS g");
    const checksum = "SELECT count(*) || ':' || md5(string_agg(id || '=' || total, ',' ORDER BY id)) FROM orders";
    const before = query("db_a", pass, checksum);
    const dump = path.join(dir, "db.dump");
    execFileSync(
      path.join(BIN!, "pg_dump"),
      ["-h", "127.0.0.1", "-p", String(port), "-U", "db_a", "-d", "db", "-Fc", "-f", dump],
      { env: { ...process.env, PGPASSWORD: pass } },
    );
    // docs/backups.md: restore into a new database owned by the same role, then compare.
    asPostgres(path.join(BIN!, "psql"), [
      "-X",
      "-q",
      "-h",
      socket(),
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      "CREATE DATABASE db_restored OWNER db_owner",
    ]);
    execFileSync(
      path.join(BIN!, "pg_restore"),
      ["-h", "127.0.0.1", "-p", String(port), "-U", "db_a", "-d", "db_restored", "--no-owner", "--role=db_owner", dump],
      { env: { ...process.env, PGPASSWORD: pass } },
    );
    const after = query("db_a", pass, checksum, "db_restored");
    expect(after).toBe(before);
    expect(before.startsWith("500:")).toBe(true);
    // A restore that lost rows is caught by the same comparison.
    query("db_a", pass, "DELETE FROM orders WHERE id = 7", "db_restored");
    expect(query("db_a", pass, checksum, "db_restored")).not.toBe(before);
  });
});
