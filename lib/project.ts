import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/** What the offline runner needs from `Pulumi.yaml`. */
export interface ProjectFile {
  readonly dir: string;
  readonly name: string;
  /** Absolute path of the program's entry file. */
  readonly main: string;
  /** Absolute path of the folder holding `Pulumi.<stack>.yaml`. */
  readonly stackConfigDir: string;
}

/** A stack's config as Pulumi hands it to a program: `namespace:key` -> string, plus secret keys. */
export interface StackConfig {
  readonly file: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Keys whose values were `secure:` (or missing secrets) and were replaced by placeholders. */
  readonly placeholders: string[];
}

/**
 * Error in the project or stack files, reported as one line without a stack trace. Exit code 2
 * for a usage mistake (no such stack), 1 for a stack file the render refuses.
 */
export class ProjectError extends Error {
  constructor(
    message: string,
    public readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

/** Reads `Pulumi.yaml` the way the Pulumi CLI does for the fields the runner uses. */
export function readProject(dir: string): ProjectFile {
  const file = path.join(dir, "Pulumi.yaml");
  if (!fs.existsSync(file)) throw new ProjectError(`${file}: not found (run from the project folder)`);
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  if (typeof doc?.name !== "string") throw new ProjectError(`${file}: "name" is required`);
  const runtime = typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: string } | undefined)?.name;
  if (runtime !== "nodejs") throw new ProjectError(`${file}: runtime must be nodejs, got ${JSON.stringify(runtime)}`);
  const stackConfigDir = path.resolve(dir, typeof doc.stackConfigDir === "string" ? doc.stackConfigDir : ".");
  const inside = path.relative(dir, stackConfigDir);
  if (inside.startsWith("..") || path.isAbsolute(inside))
    throw new ProjectError(
      `${file}: stackConfigDir must be a folder inside the project, got ${JSON.stringify(doc.stackConfigDir)}`,
    );
  let main = path.resolve(dir, typeof doc.main === "string" ? doc.main : ".");
  if (fs.existsSync(main) && fs.statSync(main).isDirectory()) {
    const manifest = path.join(main, "package.json");
    if (!fs.existsSync(manifest)) throw new ProjectError(`${file}: main is a folder without a package.json (${main})`);
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8")) as { main?: string };
    main = path.resolve(main, pkg.main ?? "index.js");
  }
  return { dir, name: doc.name, main, stackConfigDir };
}

/** The stacks that have a `Pulumi.<stack>.yaml` in the project's stack config folder. */
export function listStacks(project: ProjectFile): string[] {
  return fs
    .readdirSync(project.stackConfigDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && stackNameProblem(s) === undefined)
    .sort();
}

/**
 * Stack names as Pulumi accepts them: "Stack names may only contain alphanumeric characters,
 * hyphens, underscores, or periods" (https://www.pulumi.com/docs/iac/concepts/stacks/), at most
 * 100 of them. `.` and `..` fit that alphabet but name folders, not stacks.
 */
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Why `stack` is not a usable stack name, or undefined when it is. */
export function stackNameProblem(stack: string): string | undefined {
  if (!STACK_NAME.test(stack) || /^\.+$/.test(stack)) {
    return `stack name ${JSON.stringify(stack)} is not valid: use 1 to 100 letters, digits, '-', '_' or '.' (no path separators), as Pulumi does`;
  }
  return undefined;
}

/**
 * Path of a stack's config file. The name is checked first, so nothing outside `stackConfigDir`
 * can be named (`../x` has a separator, `..` is refused).
 */
export function stackFilePath(project: ProjectFile, stack: string): string {
  const problem = stackNameProblem(stack);
  if (problem) throw new ProjectError(problem);
  return path.join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
}

/**
 * Reads `Pulumi.<stack>.yaml` as the Pulumi CLI passes it to a program: keys without a namespace
 * get the project's, structured values become JSON, scalars become strings, and `secure:` values
 * (which only the CLI can decrypt) become placeholders marked secret.
 */
export function readStackConfig(project: ProjectFile, stack: string): StackConfig {
  const file = stackFilePath(project, stack);
  const known = fs.existsSync(project.stackConfigDir) ? listStacks(project) : [];
  // The listing, not existsSync: on a case-insensitive disk `Prod` would otherwise read prod's file.
  if (!known.includes(stack) || !fs.statSync(file).isFile()) {
    throw new ProjectError(
      `stack "${stack}" has no config file ${path.relative(project.dir, file)} (stacks: ${known.join(", ") || "none"})`,
    );
  }
  const real = path.relative(fs.realpathSync(project.dir), fs.realpathSync(file));
  if (real.startsWith("..") || path.isAbsolute(real)) {
    throw new ProjectError(
      `${path.relative(project.dir, file)} is a link to a file outside the project; the render reads only the project's own files`,
      1,
    );
  }
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  } catch (e) {
    throw new ProjectError(
      `${path.relative(project.dir, file)}: not valid YAML: ${(e as Error).message.split("\n")[0]}`,
      1,
    );
  }
  const rel = path.relative(project.dir, file);
  if (doc !== null && (typeof doc !== "object" || Array.isArray(doc)))
    throw new ProjectError(`${rel}: must be a mapping with a "config:" section`, 1);
  const section = doc?.config ?? {};
  if (section === null || typeof section !== "object" || Array.isArray(section))
    throw new ProjectError(`${rel}: "config:" must be a mapping of keys to values`, 1);
  const config: Record<string, string> = {};
  const givenAs = new Map<string, string>();
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  for (const [rawKey, value] of Object.entries(section)) {
    const key = normaliseKey(rawKey, project.name);
    const earlier = givenAs.get(key);
    if (earlier !== undefined) {
      throw new ProjectError(`${rel}: ${key} is given twice (as "${earlier}" and "${rawKey}"); keep one`, 1);
    }
    givenAs.set(key, rawKey);
    const found: string[] = [];
    const clear = replaceSecure(value, key, found);
    if (found.length > 0) {
      secretKeys.push(key);
      placeholders.push(...found);
    }
    config[key] = typeof clear === "string" ? clear : JSON.stringify(clear);
  }
  return { file, config, secretKeys, placeholders };
}

/**
 * A config key as the Pulumi CLI and SDK read it: without a namespace it belongs to the project's,
 * and the legacy `<namespace>:config:<key>` form is `<namespace>:<key>` (cleanKey in
 * @pulumi/pulumi/runtime/config.js).
 */
export function normaliseKey(rawKey: string, projectName: string): string {
  const colon = rawKey.indexOf(":");
  if (colon < 0) return `${projectName}:${rawKey}`;
  return rawKey.startsWith("config:", colon + 1)
    ? `${rawKey.slice(0, colon)}:${rawKey.slice(colon + 1 + "config:".length)}`
    : rawKey;
}

/** The text a `secure:` value (or a secret the render must invent) is replaced with. */
export function secretPlaceholder(key: string): string {
  return `placeholder-for-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

function replaceSecure(value: unknown, key: string, found: string[]): unknown {
  if (value === null || typeof value !== "object") return value;
  if (!Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
    found.push(key);
    return secretPlaceholder(key);
  }
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${key}[${i}]`, found));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v, `${key}.${k}`, found)]));
}
