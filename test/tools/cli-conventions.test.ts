import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_DIR } from "../helpers/program";
import { launch, type Entry } from "../helpers/cli";
import { parseCommandLine, UsageError, userDirectory } from "../../tools/offline/cli";

/**
 * The command lines of render, render:compiled, audit, compile and bench behave alike: `--help`
 * answers, an unknown flag and a single-valued flag given twice are refused with a message naming
 * them, and relative paths mean the folder the user ran the command in (npm's INIT_CWD).
 */

const TSX = pathToFileURL(require.resolve("tsx")).href;

/** The tools `npm run` starts through tools/launch.cjs (compiled); the others run through tsx. */
const LAUNCHED: Readonly<Record<string, Entry>> = {
  "tools/render.ts": "tools/render",
  "tools/audit.ts": "tools/audit",
};

/** Runs a tool as `npm run <script>` would start it, from `cwd`, with `env` added. */
function tool(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const entry = LAUNCHED[file];
  const argv = entry ? launch(entry, ...args) : ["--import", TSX, path.join(PROJECT_DIR, file), ...args];
  const r = spawnSync(process.execPath, argv, {
    cwd: opts.cwd ?? PROJECT_DIR,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, npm_lifecycle_event: undefined, INIT_CWD: undefined, ...opts.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe("parseCommandLine", () => {
  const options = {
    out: { type: "string" },
    lane: { type: "string", multiple: true },
    trace: { type: "boolean" },
  } as const;

  it("refuses a single-valued flag given twice, in either spelling", () => {
    expect(() => parseCommandLine(["--out", "a", "--out", "b"], options)).toThrow(
      new UsageError("--out was given more than once; give it once"),
    );
    expect(() => parseCommandLine(["--out=a", "--out", "b"], options)).toThrow(
      new UsageError("--out was given more than once; give it once"),
    );
    expect(() => parseCommandLine(["--trace", "--trace"], options)).toThrow(
      new UsageError("--trace was given more than once; give it once"),
    );
  });

  it("refuses an unknown flag, naming it", () => {
    expect(() => parseCommandLine(["--outt", "a"], options)).toThrow(/Unknown option '--outt'/);
    expect(() => parseCommandLine(["-x"], options)).toThrow(/Unknown option '-x'/);
  });

  it("accepts each flag once, a flag declared as repeatable more than once, and positionals", () => {
    expect(parseCommandLine(["dev", "--out", "a", "--trace"], options)).toEqual({
      values: { out: "a", trace: true },
      positionals: ["dev"],
    });
    expect(parseCommandLine(["--lane", "a", "--lane", "b"], options).values).toEqual({ lane: ["a", "b"] });
  });

  it("takes the user's folder from INIT_CWD only when npm started this very command", () => {
    expect(userDirectory(["render"], { INIT_CWD: "/home/u/work", npm_lifecycle_event: "render" })).toBe("/home/u/work");
    expect(
      userDirectory(["render", "render:compiled"], {
        INIT_CWD: "/home/u/work",
        npm_lifecycle_event: "render:compiled",
      }),
    ).toBe("/home/u/work");
    // An outer `npm test` leaves INIT_CWD in the environment of everything it starts.
    expect(userDirectory(["render"], { INIT_CWD: "/home/u/work", npm_lifecycle_event: "test" })).toBe(process.cwd());
    expect(userDirectory(["render"], { INIT_CWD: "/home/u/work" })).toBe(process.cwd());
    expect(userDirectory(["render"], { npm_lifecycle_event: "render" })).toBe(process.cwd());
  });
});

describe("npm run render", () => {
  it("refuses --out given twice instead of taking the last", () => {
    const r = tool("tools/render.ts", ["dev.shop", "--out", "/tmp/a", "--out", "/tmp/b"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^render: --out was given more than once; give it once\n\nUsage: npm run render/);
  });

  it("refuses an unknown flag with its usage", () => {
    const r = tool("tools/render.ts", ["dev.shop", "--ouput", "/tmp/a"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^render: Unknown option '--ouput'.*\n\nUsage: npm run render/);
  });

  it("writes a relative --out under the folder the user ran `npm run render` in", () => {
    const user = tmp("render-user-");
    const r = tool("tools/render.ts", ["dev.payments", "--out", "out"], {
      env: { INIT_CWD: user, npm_lifecycle_event: "render" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(user, "out", "dev.payments", "payments"))).toBe(true);
    expect(fs.existsSync(path.join(PROJECT_DIR, "out"))).toBe(false);
  });

  it("writes a relative --out under its working folder when an outer npm script, not npm run render, set INIT_CWD", () => {
    const user = tmp("render-user-");
    const work = tmp("render-work-");
    fs.writeFileSync(
      path.join(work, "Pulumi.yaml"),
      `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
    );
    fs.mkdirSync(path.join(work, "stacks"));
    for (const s of ["dev.platform", "dev.payments"])
      fs.copyFileSync(
        path.join(PROJECT_DIR, "stacks", `Pulumi.${s}.yaml`),
        path.join(work, "stacks", `Pulumi.${s}.yaml`),
      );
    const r = tool("tools/render.ts", ["dev.payments", "--out", "out"], {
      cwd: work,
      env: { INIT_CWD: user, npm_lifecycle_event: "test", BLUEPRINT_RENDER_CACHE: "off" },
    });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(work, "out", "dev.payments"))).toBe(true);
    expect(fs.readdirSync(user)).toEqual([]);
  });

  it("prints `none` for the kinds of a stack that registers no Kubernetes object", () => {
    const work = tmp("render-empty-");
    fs.writeFileSync(
      path.join(work, "Pulumi.yaml"),
      `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
    );
    fs.mkdirSync(path.join(work, "stacks"));
    fs.copyFileSync(
      path.join(PROJECT_DIR, "stacks", "Pulumi.dev.platform.yaml"),
      path.join(work, "stacks", "Pulumi.dev.platform.yaml"),
    );
    const shop = fs.readFileSync(path.join(PROJECT_DIR, "stacks", "Pulumi.dev.shop.yaml"), "utf8");
    // The team without apps: everything from `blueprint:apps:` to the next top-level key goes.
    const empty = shop.replace(/\n {2}blueprint:apps:\n(?: {4}.*\n| *\n)*/, "\n");
    expect(empty).not.toContain("blueprint:apps");
    fs.writeFileSync(path.join(work, "stacks", "Pulumi.dev.shop.yaml"), empty);
    const r = tool("tools/render.ts", ["dev.shop", "--out", path.join(work, "out")], {
      cwd: work,
      env: { BLUEPRINT_RENDER_CACHE: "off" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^stack dev\.shop: 0 Kubernetes objects written to .*\n {2}kinds: {6}none\n {2}namespaces: none\n {2}images: {5}none\n/,
    );
  });
});

describe("npm run audit", () => {
  it("answers --help with its usage and the stacks", () => {
    const r = tool("tools/audit.ts", ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run audit -- <stack>/);
    expect(r.stdout).toMatch(/\nStacks: .*dev\.shop/);
  });

  it("refuses an unknown flag and a flag given twice", () => {
    const u = tool("tools/audit.ts", ["dev.shop", "--write-pack-conf"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^audit: Unknown option '--write-pack-conf'.*\n\nUsage: npm run audit/);
    const t = tool("tools/audit.ts", ["dev.shop", "--write-pack-config", "--write-pack-config"]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(
      /^audit: --write-pack-config was given more than once; give it once\n\nUsage: npm run audit/,
    );
  });
});

describe("npm run compile", () => {
  it("answers --help without compiling anything", () => {
    const out = tmp("compile-help-");
    const r = tool("tools/compile.ts", [out, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run compile/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it("refuses an unknown flag and a second folder, compiling nothing", () => {
    const u = tool("tools/compile.ts", ["dist", "--bogus"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^compile: Unknown option '--bogus'.*\n\nUsage: npm run compile/);
    const two = tool("tools/compile.ts", ["dist", "other"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^compile: give one output folder, got 2 \(dist, other\)\n\nUsage: npm run compile/);
  });
});

describe("npm run bench", () => {
  it("refuses a flag given twice instead of taking the last, and an unknown flag", () => {
    const r = tool("tools/bench/bench.ts", ["--runs", "3", "--runs", "5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^bench: --runs was given more than once; give it once\n\nUsage: npm run bench/);
    const u = tool("tools/bench/bench.ts", ["--size", "10"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^bench: Unknown option '--size'.*\n\nUsage: npm run bench/);
  });

  it("reads a relative --report from the folder the user ran `npm run bench` in", () => {
    const user = tmp("bench-user-");
    const saved = {
      machine: {
        cpus: "2 x test",
        memory: "1 GiB",
        node: "v20",
        loadBefore: "0.00 0.00 0.00",
        loadAfter: "0.00 0.00 0.00",
      },
      sizes: [],
      runs: 3,
      checks: [],
      results: [],
      targets: [
        { name: "a target", goal: "<= 1.5x", measured: "1.2x", met: true },
        { name: "another", goal: "<= 0.6x", measured: "0.7x", met: false },
      ],
    };
    fs.writeFileSync(path.join(user, "saved.json"), JSON.stringify(saved));
    const r = tool("tools/bench/bench.ts", ["--report", "saved.json"], {
      env: { INIT_CWD: user, npm_lifecycle_event: "bench" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\na target +<= 1\.5x +1\.2x +met\n/);
    expect(r.stdout).toMatch(/\nanother +<= 0\.6x +0\.7x +NO(\n|$)/);
    const missing = tool("tools/bench/bench.ts", ["--report", "nowhere.json"], {
      env: { INIT_CWD: user, npm_lifecycle_event: "bench" },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`bench: --report ${path.join(user, "nowhere.json")}: no such file\n`);
  });
});
