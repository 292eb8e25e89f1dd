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

/** Error in the project or stack files, reported without a stack trace. */
export class ProjectError extends Error {}

/** Reads `Pulumi.yaml` the way the Pulumi CLI does for the fields the runner uses. */
export function readProject(dir: string): ProjectFile {
  const file = path.join(dir, "Pulumi.yaml");
  if (!fs.existsSync(file)) throw new ProjectError(`${file}: not found (run from the project folder)`);
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  if (typeof doc?.name !== "string") throw new ProjectError(`${file}: "name" is required`);
  const runtime = typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: string } | undefined)?.name;
  if (runtime !== "nodejs") throw new ProjectError(`${file}: runtime must be nodejs, got ${JSON.stringify(runtime)}`);
  let main = path.resolve(dir, typeof doc.main === "string" ? doc.main : ".");
  if (fs.existsSync(main) && fs.statSync(main).isDirectory()) {
    const pkg = JSON.parse(fs.readFileSync(path.join(main, "package.json"), "utf8")) as { main?: string };
    main = path.resolve(main, pkg.main ?? "index.js");
  }
  const stackConfigDir = path.resolve(dir, typeof doc.stackConfigDir === "string" ? doc.stackConfigDir : ".");
  return { dir, name: doc.name, main, stackConfigDir };
}

/** The stacks that have a `Pulumi.<stack>.yaml` in the project's stack config folder. */
export function listStacks(project: ProjectFile): string[] {
  return fs
    .readdirSync(project.stackConfigDir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Path of a stack's config file. */
export function stackFilePath(project: ProjectFile, stack: string): string {
  return path.join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
}

/**
 * Reads `Pulumi.<stack>.yaml` as the Pulumi CLI passes it to a program: keys without a namespace
 * get the project's, structured values become JSON, scalars become strings, and `secure:` values
 * (which only the CLI can decrypt) become placeholders marked secret.
 */
export function readStackConfig(project: ProjectFile, stack: string): StackConfig {
  const file = stackFilePath(project, stack);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(project.stackConfigDir) ? listStacks(project) : [];
    throw new ProjectError(`stack "${stack}" has no config file ${path.relative(project.dir, file)} (stacks: ${known.join(", ") || "none"})`);
  }
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  } catch (e) {
    throw new ProjectError(`${path.relative(project.dir, file)}: not valid YAML: ${(e as Error).message}`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  for (const [rawKey, value] of Object.entries(doc?.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
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
