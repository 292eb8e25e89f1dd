import * as fs from "node:fs";
import { isMap, isScalar, parseDocument, stringify, type Document } from "yaml";
import { releaseSchema, type ReleaseConfig } from "../config/release";
import { normaliseKey } from "../lib/project";
import { writeFileAtomic } from "../lib/files";
import { Refusal } from "./errors";
import { canonicalJson } from "./release";

/** The stack config key promotion owns. Nothing else in a stack file is touched. */
export const POINTER_KEY = "blueprint:release";
/** The program's config namespace; a key written without one in the project's stack files is read in it. */
const NAMESPACE = POINTER_KEY.slice(0, POINTER_KEY.indexOf(":"));

/** What a stage's stack file says about its release and apps. */
export interface StackPointer {
  readonly file: string;
  /** `blueprint:release`, or undefined when the file has none. */
  readonly pointer: ReleaseConfig | undefined;
  /** Image name used by each app (`blueprint:apps.<app>.image`). */
  readonly appImages: Readonly<Record<string, string>>;
  /** `blueprint:cluster` as written (cloud, name, region, project, context). */
  readonly cluster: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The cluster a stack deploys to, as the program's `cluster` output names it:
 * `<cloud>/<region | project/region | context>/<name>` (name defaults to `<project>-<stack>`).
 * `verify` compares the outputs' identity with this one, computed from the stage's stack file.
 */
export function clusterIdentity(
  cluster: Readonly<Record<string, unknown>> | undefined,
  project: string,
  stack: string,
): string | undefined {
  if (!cluster || typeof cluster.cloud !== "string") return undefined;
  const sub = (k: string) =>
    cluster[k] !== null && typeof cluster[k] === "object" ? (cluster[k] as Record<string, unknown>) : {};
  const location =
    cluster.cloud === "aws"
      ? sub("aws").region
      : cluster.cloud === "gcp"
        ? `${String(sub("gcp").project)}/${String(sub("gcp").region)}`
        : (sub("existing").context ?? "blueprint:kubeconfig");
  return `${cluster.cloud}/${String(location)}/${typeof cluster.name === "string" ? cluster.name : `${project}-${stack}`}`;
}

function load(file: string, stage: string): Document.Parsed {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new Refusal(stage, "stack", `stack file ${file} does not exist`);
  }
  if (!st.isFile())
    throw new Refusal(
      stage,
      "stack",
      `stack file ${file} is ${st.isDirectory() ? "a folder" : "not a regular file"}; it must be the YAML file Pulumi reads`,
    );
  const doc = parseDocument(fs.readFileSync(file, "utf8"));
  if (doc.errors.length > 0) throw new Refusal(stage, "stack", `${file} is not valid YAML: ${doc.errors[0].message}`);
  return doc;
}

/** The key under `config` holding the pointer: `blueprint:release`, or the project-less `release`. */
function keyIn(doc: Document.Parsed): string {
  return doc.hasIn(["config", "release"]) && !doc.hasIn(["config", POINTER_KEY]) ? "release" : POINTER_KEY;
}

/**
 * Reads a stage's pointer and the image names its apps use. With `lane`, the file must be that
 * team's stack: a file that says it is another team's, or the platform's, is refused, so a copied or
 * mis-named file never takes a lane's pointer.
 */
export function readPointer(file: string, stage: string, lane?: string): StackPointer {
  const doc = load(file, stage);
  const config = (doc.toJS() as { config?: Record<string, unknown> } | null)?.config;
  // Keys as the program reads them: `team:` in the project's own stack file is `blueprint:team`.
  const get = (key: string): unknown => {
    let found: unknown;
    for (const [k, v] of Object.entries(config ?? {}))
      if (normaliseKey(k, NAMESPACE) === `${NAMESPACE}:${key}`) found = v;
    return found;
  };
  if (lane !== undefined) {
    const layer = get("layer");
    const team = get("team");
    if ((layer !== undefined && layer !== "team") || (team !== undefined && team !== lane)) {
      throw new Refusal(
        stage,
        "stack",
        `${file} says blueprint:layer ${JSON.stringify(layer ?? null)}, blueprint:team ${JSON.stringify(team ?? null)}; the stack file of lane ${lane} must be a team stack of team ${lane}`,
      );
    }
  }
  const raw = doc.getIn(["config", keyIn(doc)]) as unknown;
  const value = isMap(raw) || isScalar(raw) ? (raw as { toJSON(): unknown }).toJSON() : raw;
  let pointer: ReleaseConfig | undefined;
  if (value !== undefined && value !== null) {
    const parsed = releaseSchema.safeParse(value);
    if (!parsed.success)
      throw new Refusal(
        stage,
        "stack",
        `${file}: ${POINTER_KEY} ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      );
    pointer = parsed.data;
  }
  const apps = get("apps") as Record<string, { image?: unknown }> | undefined;
  const appImages = Object.fromEntries(
    Object.entries(apps !== null && typeof apps === "object" ? apps : {})
      .filter(([, a]) => typeof a?.image === "string")
      .map(([n, a]) => [n, a.image as string]),
  );
  const cluster = get("cluster");
  return {
    file,
    pointer,
    appImages,
    cluster: cluster !== null && typeof cluster === "object" ? (cluster as Record<string, unknown>) : undefined,
  };
}

/** Whether two pointers are the same release with the same images. */
export function samePointer(a: ReleaseConfig | undefined, b: ReleaseConfig | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/**
 * Replaces a stage's pointer, if and only if it is still `expected` (compare-and-swap against
 * concurrent writers). The file is re-read right before writing and only the lines of the pointer
 * key are replaced, so every other key keeps its exact text, comments and layout; the result is
 * checked to read back with only that key changed. The new text replaces the old by an atomic
 * rename, so a crash leaves the old or the new file, never a broken one.
 */
export function writePointer(
  file: string,
  stage: string,
  expected: ReleaseConfig | undefined,
  next: ReleaseConfig,
  lane?: string,
): void {
  const text = fs.readFileSync(file, "utf8");
  const doc = load(file, stage);
  const key = keyIn(doc);
  const current = readPointer(file, stage, lane).pointer;
  if (!samePointer(current, expected)) {
    throw new Refusal(
      stage,
      "concurrent",
      `${file}: ${POINTER_KEY} changed while this command ran (expected release ${expected?.id ?? "none"}, found ${current?.id ?? "none"}); nothing was written. Re-run the command against the new state`,
    );
  }
  const value = { ...(next.id !== undefined ? { id: next.id } : {}), images: next.images };
  const updated = spliceKey(text, doc, key, value) ?? appendKey(doc, key, value);
  const before = doc.toJS() as { config?: Record<string, unknown> };
  const after = parseDocument(updated).toJS() as { config?: Record<string, unknown> };
  const others = (c: Record<string, unknown> | undefined) =>
    canonicalJson(Object.fromEntries(Object.entries(c ?? {}).filter(([k]) => k !== key)));
  const check = releaseSchema.safeParse(after.config?.[key]);
  if (!check.success || !samePointer(check.data, next) || others(before.config) !== others(after.config)) {
    throw new Error(`${file}: the rewritten ${POINTER_KEY} does not read back as written; nothing was written`);
  }
  writeFileAtomic(file, updated);
}

/**
 * Replaces the lines of `config.<key>` (the key line and every following line indented deeper) with
 * the value in block style. Returns undefined when the key is not in the file.
 */
function spliceKey(text: string, doc: Document.Parsed, key: string, value: object): string | undefined {
  const config = doc.get("config", true);
  if (!isMap(config)) return undefined;
  const pair = config.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
  const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
  if (!range) return undefined;
  const [offset, keyEnd] = range;
  const lines = text.split("\n");
  const line = text.slice(0, offset).split("\n").length - 1;
  const indent = lines[line].length - lines[line].trimStart().length;
  const keyText = `${text.slice(offset, keyEnd)}:`;
  let end = line + 1;
  let lastContent = line;
  for (; end < lines.length; end++) {
    const l = lines[end];
    if (l.trim() === "") continue;
    if (l.length - l.trimStart().length <= indent) break;
    lastContent = end;
  }
  const pad = " ".repeat(indent);
  const body = stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split("\n")
    .map((l) => `${pad}  ${l}`);
  lines.splice(line, lastContent - line + 1, `${pad}${keyText}`, ...body);
  return lines.join("\n");
}

/** Fallback when the file has no pointer yet: adds the key through the YAML document. */
function appendKey(doc: Document.Parsed, key: string, value: object): string {
  doc.setIn(["config", key], doc.createNode(value));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
