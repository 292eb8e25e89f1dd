import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stackFilePath, type ProjectFile } from "../../lib/project";
import { sourceFiles } from "./compiled";
import type { StackOutputs } from "./mocks";

/**
 * The folders and files whose content decides what a program run produces: the program and the
 * offline runner (its mocks compute auto-names and cloud outputs). Relative to the program's folder.
 */
export const PROGRAM_ROOTS = [
  "index.ts",
  "layers",
  "lib",
  "components",
  "config",
  "tools/offline",
  "package-lock.json",
] as const;

/** Where the render keeps platform outputs between runs, unless `BLUEPRINT_RENDER_CACHE` names another folder. */
export function cacheDir(project: ProjectFile): string {
  const env = process.env.BLUEPRINT_RENDER_CACHE;
  if (env) return path.resolve(env);
  // node_modules/.cache is where tools keep derived, disposable files: never committed, removed with node_modules.
  return path.join(project.dir, "node_modules", ".cache", "blueprint-render");
}

/** Whether the cache is switched off (`BLUEPRINT_RENDER_CACHE=off`). */
export function cacheDisabled(): boolean {
  return process.env.BLUEPRINT_RENDER_CACHE === "off";
}

/**
 * The content key of a platform stack's outputs: the SHA-256 of its stack file, of the project
 * file, of every source of the program (the folder of the project's `main`: {@link PROGRAM_ROOTS},
 * and `main` itself), of the lockfile (SDK versions) and of the day the program judges version
 * support by. Any change to any of them gives another key, so a new source or config key can never
 * be answered by an old render; modification times play no part (a checkout changes them, an edit
 * within a second may not).
 */
export function platformKey(project: ProjectFile, platformStack: string): string {
  const h = createHash("sha256");
  const add = (label: string, file: string) => {
    h.update(`${label}\0`);
    h.update(fs.existsSync(file) ? fs.readFileSync(file) : "<absent>");
    h.update("\0");
  };
  add("stack", stackFilePath(project, platformStack));
  add("project", path.join(project.dir, "Pulumi.yaml"));
  const programDir = path.dirname(path.resolve(project.main));
  add("main", path.resolve(project.main));
  for (const rel of sourceFiles(
    programDir,
    PROGRAM_ROOTS.filter((r) => !r.endsWith(".json")),
  ))
    add(rel, path.join(programDir, rel));
  add("lock", path.join(programDir, "package-lock.json"));
  h.update(`day\0${process.env.BLUEPRINT_EVALUATION_DATE || new Date().toISOString().slice(0, 10)}`);
  return h.digest("hex");
}

/** One cached platform render: its key and its outputs as a StackReference reads them. */
interface CacheEntry {
  readonly key: string;
  readonly platform: string;
  readonly stackOutputs: StackOutputs;
}

function entryFile(project: ProjectFile, platformStack: string): string {
  return path.join(cacheDir(project), `${platformStack}.json`);
}

/** The outputs of the last render of `platformStack` when its key is still `key`; otherwise undefined. */
export function readCachedPlatform(project: ProjectFile, platformStack: string, key: string): StackOutputs | undefined {
  if (cacheDisabled()) return undefined;
  let entry: CacheEntry;
  try {
    entry = JSON.parse(fs.readFileSync(entryFile(project, platformStack), "utf8")) as CacheEntry;
  } catch {
    return undefined;
  }
  if (entry?.key !== key || entry.platform !== platformStack) return undefined;
  const so = entry.stackOutputs;
  if (!so || typeof so.outputs !== "object" || so.outputs === null || !Array.isArray(so.secretOutputNames))
    return undefined;
  return so;
}

/**
 * Keeps a platform render's outputs for later team renders. Written owner-only and atomically
 * (a reader sees the old entry or the new one). The outputs are the offline render's: secrets in
 * it are the render's placeholders, never a deployed stack's values.
 */
export function writeCachedPlatform(
  project: ProjectFile,
  platformStack: string,
  key: string,
  stackOutputs: StackOutputs,
): void {
  if (cacheDisabled()) return;
  const file = entryFile(project, platformStack);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ key, platform: platformStack, stackOutputs } satisfies CacheEntry), {
      mode: 0o600,
    });
    fs.renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next team render a platform render.
  }
}

/**
 * Platform outputs from a file written by `pulumi stack output --json --show-secrets` of a
 * deployed platform stack (a JSON object of outputs). That format does not say which outputs were
 * secret, so all are treated as secret: the team stack reads them the same way either way.
 */
export function readContractFile(file: string): StackOutputs {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ContractFileError(
      `--contract ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ContractFileError(
      `--contract ${file}: not JSON; write it with: pulumi stack output --json --show-secrets -s <platform stack> > ${path.basename(file)}`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ContractFileError(
      `--contract ${file}: expected the JSON object of a stack's outputs (pulumi stack output --json --show-secrets)`,
    );
  }
  const outputs = parsed as Record<string, unknown>;
  if (!Object.hasOwn(outputs, "contract")) {
    throw new ContractFileError(
      `--contract ${file}: has no "contract" output; is it a platform stack's outputs (pulumi stack output --json --show-secrets)?`,
    );
  }
  if (outputs.contract === "[secret]") {
    throw new ContractFileError(
      `--contract ${file}: its "contract" output is hidden as [secret]; write it with --show-secrets`,
    );
  }
  return { outputs, secretOutputNames: Object.keys(outputs) };
}

/** A `--contract` file the render cannot use; reported as one line, exit 2. */
export class ContractFileError extends Error {}
