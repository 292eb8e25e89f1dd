import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { readProject } from "../../lib/project";
import {
  ContractFileError,
  platformKey,
  readCachedPlatform,
  readContractFile,
  writeCachedPlatform,
} from "../../tools/offline/contract-cache";
import { platformOf, PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";

/**
 * A team stack's render reads its platform's contract from the platform's last render only while
 * that render is current: the key is the content of the platform's stack file and of every source
 * of the program, so an edit, a new source file or a new config key gives another key.
 */

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A project with a program of its own (index.ts and lib/), and a platform stack file. */
function programProject(): string {
  const dir = tmp("contract-key-");
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    "name: blueprint\nruntime: nodejs\nmain: index.ts\nstackConfigDir: stacks\n",
  );
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.mkdirSync(path.join(dir, "lib"));
  fs.writeFileSync(path.join(dir, "index.ts"), "export = {};\n");
  fs.writeFileSync(path.join(dir, "lib", "a.ts"), "export const a = 1;\n");
  fs.writeFileSync(path.join(dir, "stacks", "Pulumi.dev.platform.yaml"), "config:\n  blueprint:layer: platform\n");
  return dir;
}

const outputs = {
  outputs: { contract: { shop: { namespace: "shop" } }, kubeconfig: "k" },
  secretOutputNames: ["kubeconfig"],
};

describe("the platform's content key", () => {
  it("changes when the stack file, a source, a new source or the evaluation day changes, and only then", () => {
    const dir = programProject();
    const project = () => readProject(dir);
    const first = platformKey(project(), "dev.platform");
    expect(platformKey(project(), "dev.platform")).toBe(first);
    const keys = new Set([first]);
    const change = (edit: () => void) => {
      edit();
      const k = platformKey(project(), "dev.platform");
      expect(keys.has(k)).toBe(false);
      keys.add(k);
    };
    change(() => fs.appendFileSync(path.join(dir, "stacks", "Pulumi.dev.platform.yaml"), "  blueprint:newKey: 1\n"));
    change(() => fs.writeFileSync(path.join(dir, "lib", "a.ts"), "export const a = 2;\n"));
    change(() => fs.writeFileSync(path.join(dir, "lib", "b.ts"), "export const b = 1;\n"));
    change(() => {
      fs.mkdirSync(path.join(dir, "components"));
      fs.writeFileSync(path.join(dir, "components", "addon.ts"), "export {};\n");
    });
    change(() => fs.writeFileSync(path.join(dir, "index.ts"), "export = { changed: true };\n"));
    const day = process.env.BLUEPRINT_EVALUATION_DATE;
    try {
      change(() => (process.env.BLUEPRINT_EVALUATION_DATE = "2030-01-01"));
    } finally {
      process.env.BLUEPRINT_EVALUATION_DATE = day;
    }
    // A file that is no source of the program changes nothing.
    const before = platformKey(project(), "dev.platform");
    fs.writeFileSync(path.join(dir, "notes.md"), "# notes\n");
    fs.writeFileSync(path.join(dir, "lib", "types.d.ts"), "export {};\n");
    expect(platformKey(project(), "dev.platform")).toBe(before);
  });
});

describe("the cached platform outputs", () => {
  const withCache = <T>(body: (dir: string) => T): T => {
    const dir = tmp("contract-cache-");
    const saved = process.env.BLUEPRINT_RENDER_CACHE;
    process.env.BLUEPRINT_RENDER_CACHE = dir;
    try {
      return body(dir);
    } finally {
      if (saved === undefined) delete process.env.BLUEPRINT_RENDER_CACHE;
      else process.env.BLUEPRINT_RENDER_CACHE = saved;
    }
  };

  it("are read back under the key they were written with", () => {
    withCache(() => {
      const project = readProject(programProject());
      writeCachedPlatform(project, "dev.platform", "k1", outputs);
      expect(readCachedPlatform(project, "dev.platform", "k1")).toEqual(outputs);
    });
  });

  it("are not used under another key, for another platform, when damaged, or when the cache is off", () => {
    withCache((dir) => {
      const project = readProject(programProject());
      writeCachedPlatform(project, "dev.platform", "k1", outputs);
      expect(readCachedPlatform(project, "dev.platform", "k2")).toBeUndefined();
      expect(readCachedPlatform(project, "prod.platform", "k1")).toBeUndefined();
      fs.writeFileSync(
        path.join(dir, "dev.platform.json"),
        '{"key":"k1","platform":"dev.platform","stackOutputs":{"outputs":null}}',
      );
      expect(readCachedPlatform(project, "dev.platform", "k1")).toBeUndefined();
      fs.writeFileSync(path.join(dir, "dev.platform.json"), "{not json");
      expect(readCachedPlatform(project, "dev.platform", "k1")).toBeUndefined();
      process.env.BLUEPRINT_RENDER_CACHE = "off";
      writeCachedPlatform(project, "dev.platform", "k1", outputs);
      expect(readCachedPlatform(project, "dev.platform", "k1")).toBeUndefined();
    });
  });

  it("are written for the owner only", () => {
    withCache((dir) => {
      writeCachedPlatform(readProject(programProject()), "dev.platform", "k1", outputs);
      expect(fs.statSync(path.join(dir, "dev.platform.json")).mode & 0o077).toBe(0);
    });
  });
});

describe("--contract FILE", () => {
  const file = (text: string) => {
    const f = path.join(tmp("contract-file-"), "outputs.json");
    fs.writeFileSync(f, text);
    return f;
  };

  it("reads the outputs of pulumi stack output --json --show-secrets, every one as secret", () => {
    expect(readContractFile(file(JSON.stringify({ contract: { shop: {} }, kubeconfig: "k" })))).toEqual({
      outputs: { contract: { shop: {} }, kubeconfig: "k" },
      secretOutputNames: ["contract", "kubeconfig"],
    });
  });

  it.each([
    ["{not json", /: not JSON; write it with: pulumi stack output --json --show-secrets -s <platform stack>/],
    ["[1]", /: expected the JSON object of a stack's outputs/],
    ['{"kubeconfig":"k"}', /: has no "contract" output; is it a platform stack's outputs/],
    ['{"contract":"[secret]"}', /: its "contract" output is hidden as \[secret\]; write it with --show-secrets/],
  ])("refuses %s with what to do", (text, message) => {
    const f = file(text);
    expect(() => readContractFile(f)).toThrow(ContractFileError);
    expect(() => readContractFile(f)).toThrow(
      new RegExp(`^--contract ${f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}${message.source}`),
    );
  });

  it("refuses a file that is not there, naming it", () => {
    expect(() => readContractFile("/nonexistent/outputs.json")).toThrow(
      "--contract /nonexistent/outputs.json: cannot be read (ENOENT)",
    );
  });
});

describe("npm run render -- <team stack>", () => {
  const render = (cwd: string, args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, launch("tools/render", ...args), {
      cwd,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, ...env },
    });
  /** A project running the real program with the shipped dev platform and payments team. */
  const devProject = () => {
    const dir = tmp("contract-render-");
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      `name: blueprint\nruntime: nodejs\nmain: ${path.join(PROJECT_DIR, "index.ts")}\nstackConfigDir: stacks\n`,
    );
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const s of ["dev.platform", "dev.payments"])
      fs.copyFileSync(
        path.join(PROJECT_DIR, "stacks", `Pulumi.${s}.yaml`),
        path.join(dir, "stacks", `Pulumi.${s}.yaml`),
      );
    return dir;
  };

  it("renders the platform when its contract is not current, reuses it while it is, and says which", () => {
    const dir = devProject();
    const env = { BLUEPRINT_RENDER_CACHE: path.join(dir, "cache") };
    const out = path.join(dir, "out");
    const first = render(dir, ["dev.payments", "--out", out], env);
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("\n  contract:   from dev.platform, rendered now\n");
    const second = render(dir, ["dev.payments", "--out", out], env);
    expect(second.stdout).toContain(
      "\n  contract:   from the last render of dev.platform (its stack file and the program's sources are unchanged; --fresh renders it again)\n",
    );
    expect(second.stdout.replace(/\n {2}contract:.*\n/, "\n")).toBe(first.stdout.replace(/\n {2}contract:.*\n/, "\n"));
    const fresh = render(dir, ["dev.payments", "--out", out, "--fresh"], env);
    expect(fresh.stdout).toContain("\n  contract:   from dev.platform, rendered now\n");
    // An edit of the platform's stack file makes its last render stale.
    fs.appendFileSync(path.join(dir, "stacks", "Pulumi.dev.platform.yaml"), "# edited\n");
    const edited = render(dir, ["dev.payments", "--out", out], env);
    expect(edited.stdout).toContain("\n  contract:   from dev.platform, rendered now\n");
  });

  it("takes the contract from --contract, resolved from the user's folder, and says so", async () => {
    const dir = devProject();
    const platform = (await platformOf("dev.payments"))["dev.platform"];
    fs.writeFileSync(path.join(dir, "dev-platform-outputs.json"), JSON.stringify(platform.outputs));
    const r = render(dir, ["dev.payments", "--out", path.join(dir, "out"), "--contract", "dev-platform-outputs.json"], {
      BLUEPRINT_RENDER_CACHE: "off",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `\n  contract:   from the outputs in ${path.join(dir, "dev-platform-outputs.json")} (--contract)\n`,
    );
    const bad = render(dir, ["dev.payments", "--out", path.join(dir, "out"), "--contract", "missing.json"], {
      BLUEPRINT_RENDER_CACHE: "off",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`render: --contract ${path.join(dir, "missing.json")}: cannot be read (ENOENT)\n`);
    const env = render(dir, ["dev", "--out", path.join(dir, "out"), "--contract", "dev-platform-outputs.json"], {
      BLUEPRINT_RENDER_CACHE: "off",
    });
    expect(env.status).toBe(2);
    expect(env.stderr).toBe(
      "render: --contract applies to one team stack; an environment renders its own platform (give a stack such as dev.<team>)\n",
    );
  });
});

describe("npm run render (the launcher)", () => {
  it("runs the render compiled from the current sources, with the same output as the sources through tsx", () => {
    const out = tmp("launch-");
    const env = { ...process.env, BLUEPRINT_RENDER_CACHE: "off", npm_lifecycle_event: undefined, INIT_CWD: undefined };
    const launched = spawnSync(process.execPath, launch("tools/render", "dev.payments", "--out", path.join(out, "a")), {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      timeout: 180_000,
      env,
    });
    expect(launched.stderr).toBe("");
    expect(launched.status).toBe(0);
    const tree = path.join(PROJECT_DIR, "node_modules", ".cache", "blueprint", "dist");
    expect(JSON.parse(fs.readFileSync(path.join(tree, "compiled.json"), "utf8")).source).toBe(PROJECT_DIR);
    const tsx = spawnSync(
      process.execPath,
      [
        "--import",
        pathToFileURL(require.resolve("tsx")).href,
        path.join(PROJECT_DIR, "tools/render.ts"),
        "dev.payments",
        "--out",
        path.join(out, "b"),
      ],
      { cwd: PROJECT_DIR, encoding: "utf8", timeout: 180_000, env },
    );
    expect(launched.stdout.replaceAll(`${out}/a`, "X")).toBe(tsx.stdout.replaceAll(`${out}/b`, "X"));
  });
});
