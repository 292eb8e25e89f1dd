import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";
import { normaliseKey, ProjectError, readProject, readStackConfig, stackNameProblem } from "../../lib/project";
import { checkOutput, OutputRefused, RENDER_MARKER, replaceDirectory } from "../../tools/offline/write";

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

/** A project folder whose stacks/ holds the given stack files. */
function project(stacks: Record<string, string>): string {
  const dir = tmp("stack-names-");
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    "name: blueprint\nruntime: nodejs\nmain: index.ts\nstackConfigDir: stacks\n",
  );
  fs.mkdirSync(path.join(dir, "stacks"));
  for (const [name, text] of Object.entries(stacks))
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${name}.yaml`), text);
  return dir;
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ProjectError || e instanceof OutputRefused) return e.message;
    throw e;
  }
  throw new Error("expected a refusal");
}

describe("stack names", () => {
  it.each(["../x", "..", ".", "a/b", "a\\b", "dev\n", "", "x".repeat(101), "dév"])("refuses %j", (name) => {
    expect(stackNameProblem(name)).toMatch(
      /is not valid: use 1 to 100 letters, digits, '-', '_' or '.' \(no path separators\), as Pulumi does$/,
    );
  });

  it.each(["dev", "prod-gke", "feature_x.1", "x".repeat(100)])("accepts %j", (name) => {
    expect(stackNameProblem(name)).toBeUndefined();
  });

  it("reads nothing outside the stack folder, even when the file exists there", () => {
    const dir = project({ dev: "config: {}\n" });
    fs.writeFileSync(path.join(dir, "Pulumi.outside.yaml"), "config: {}\n");
    expect(refusal(() => readStackConfig(readProject(dir), "../Pulumi.outside"))).toMatch(/is not valid/);
    expect(refusal(() => readStackConfig(readProject(dir), "Dev"))).toMatch(
      /^stack "Dev" has no config file stacks\/Pulumi\.Dev\.yaml \(stacks: dev\)/,
    );
  });

  it("refuses a stack file that links outside the project", () => {
    const dir = project({});
    const outside = path.join(tmp("elsewhere-"), "secret.yaml");
    fs.writeFileSync(outside, "config: {}\n");
    fs.symlinkSync(outside, path.join(dir, "stacks", "Pulumi.linked.yaml"));
    expect(refusal(() => readStackConfig(readProject(dir), "linked"))).toBe(
      "stacks/Pulumi.linked.yaml is a link to a file outside the project; the render reads only the project's own files",
    );
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.own.yaml"), "config: {}\n");
    fs.symlinkSync(path.join(dir, "stacks", "Pulumi.own.yaml"), path.join(dir, "stacks", "Pulumi.alias.yaml"));
    expect(readStackConfig(readProject(dir), "alias").config).toEqual({});
  });

  it("refuses a stackConfigDir outside the project", () => {
    const dir = project({});
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: blueprint\nruntime: nodejs\nstackConfigDir: ../elsewhere\n");
    expect(refusal(() => readProject(dir))).toMatch(/stackConfigDir must be a folder inside the project/);
  });
});

describe("config keys as the Pulumi CLI reads them", () => {
  it("puts an un-namespaced key in the project's namespace and reads the legacy <ns>:config:<key> form", () => {
    expect(normaliseKey("apps", "blueprint")).toBe("blueprint:apps");
    expect(normaliseKey("aws:config:region", "blueprint")).toBe("aws:region");
    expect(normaliseKey("blueprint:apps", "blueprint")).toBe("blueprint:apps");
  });

  it("refuses a key given twice after that normalisation, with exit code 1", () => {
    const dir = project({
      dev: "config:\n  apps: {}\n  blueprint:apps: {}\n",
      legacy: "config:\n  blueprint:config:teams: {}\n  blueprint:teams: {}\n",
    });
    const err = (() => {
      try {
        readStackConfig(readProject(dir), "dev");
      } catch (e) {
        return e as ProjectError;
      }
      return undefined;
    })();
    expect(err?.message).toBe(
      'stacks/Pulumi.dev.yaml: blueprint:apps is given twice (as "apps" and "blueprint:apps"); keep one',
    );
    expect(err?.exitCode).toBe(1);
    expect(refusal(() => readStackConfig(readProject(dir), "legacy"))).toMatch(/blueprint:teams is given twice/);
  });

  it("refuses a stack file whose config is not a mapping", () => {
    const dir = project({ list: "config: [a, b]\n", scalar: "just text\n" });
    expect(refusal(() => readStackConfig(readProject(dir), "list"))).toBe(
      'stacks/Pulumi.list.yaml: "config:" must be a mapping of keys to values',
    );
    expect(refusal(() => readStackConfig(readProject(dir), "scalar"))).toBe(
      'stacks/Pulumi.scalar.yaml: must be a mapping with a "config:" section',
    );
  });
});

describe("the output folder", () => {
  const files = new Map([["ns/a.yaml", "kind: A\n"]]);

  it("writes a marker into the stack folder and replaces only a marked folder", () => {
    const out = tmp("render-out-");
    replaceDirectory(path.join(out, "dev"), files);
    expect(fs.existsSync(path.join(out, "dev", RENDER_MARKER))).toBe(true);
    fs.writeFileSync(path.join(out, "dev", "stale.yaml"), "");
    expect(() => checkOutput(out, "dev")).not.toThrow();
    replaceDirectory(path.join(out, "dev"), files);
    expect(fs.readdirSync(path.join(out, "dev")).sort()).toEqual([RENDER_MARKER, "ns"]);
  });

  it("refuses a folder it did not write, and leaves it untouched", () => {
    const out = tmp("render-out-");
    fs.mkdirSync(path.join(out, "dev"));
    fs.writeFileSync(path.join(out, "dev", "thesis.tex"), "mine");
    expect(refusal(() => checkOutput(out, "dev"))).toBe(
      `refusing to replace ${path.join(out, "dev")}: it has no ${RENDER_MARKER} marker, so the render did not write it; move it away or choose another --out`,
    );
    expect(() => replaceDirectory(path.join(out, "dev"), files)).toThrow(OutputRefused);
    expect(fs.readdirSync(path.join(out, "dev"))).toEqual(["thesis.tex"]);
  });

  it("refuses a regular file or a symbolic link where the stack folder goes", () => {
    const out = tmp("render-out-");
    fs.writeFileSync(path.join(out, "dev"), "mine");
    expect(refusal(() => checkOutput(out, "dev"))).toMatch(/dev: it is a file, not a folder the render wrote/);
    fs.symlinkSync(tmp("target-"), path.join(out, "prod"));
    expect(refusal(() => checkOutput(out, "prod"))).toMatch(/prod: it is a symbolic link/);
  });

  it("refuses a <stack>.stack.json it did not write", () => {
    const out = tmp("render-out-");
    fs.writeFileSync(path.join(out, "dev.stack.json"), "{}");
    expect(refusal(() => checkOutput(out, "dev"))).toMatch(
      /^refusing to overwrite .*dev\.stack\.json: no rendered folder .* sits beside it, so the render did not write it/,
    );
    replaceDirectory(path.join(out, "dev"), files);
    expect(() => checkOutput(out, "dev")).not.toThrow();
  });

  it.each([["/"], [os.homedir()]])("refuses to write into %s", (out) => {
    expect(refusal(() => checkOutput(out, "dev"))).toMatch(
      /^refusing to write into .*: choose a dedicated --out folder/,
    );
  });
});

describe("npm run render with hostile arguments", () => {
  const render = (...args: string[]) =>
    spawnSync(process.execPath, launch("tools/render", ...args), {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      timeout: 60_000,
    });

  it("refuses a stack name with a path, in one line, exit 2, writing nothing", () => {
    const out = tmp("render-out-");
    const r = render("../../tmp/x", "--out", out);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "render: stack name \"../../tmp/x\" is not valid: use 1 to 100 letters, digits, '-', '_' or '.' (no path separators), as Pulumi does\n",
    );
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it("refuses an output folder it did not write, in one line, exit 1, before rendering", () => {
    const out = tmp("render-out-");
    fs.mkdirSync(path.join(out, "dev"));
    fs.writeFileSync(path.join(out, "dev", "keep.txt"), "mine");
    const r = render("dev", "--out", out);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^render: refusing to replace /);
    expect(fs.readdirSync(out)).toEqual(["dev"]);
    expect(fs.readdirSync(path.join(out, "dev"))).toEqual(["keep.txt"]);
  });
});
