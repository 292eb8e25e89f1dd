import * as fs from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, isSeq, Pair, parse as parseYaml, parseDocument, type Document, type YAMLMap } from "yaml";
import { DNS_LABEL } from "../../config";
import { normaliseKey } from "../../lib/project";
import { rel, stackPath, teamsKey, TeamRefused, type Workspace } from "./workspace";

/**
 * Stands in for the IAM role ARNs of a group that a production EKS cluster must be told about.
 * Account 123456789012 is the documentation account: the group role's trust policy allows only
 * principals whose ARN matches (`aws:PrincipalArn`), so until it is replaced nobody can assume it.
 */
export const PRINCIPAL_PLACEHOLDER = (group: string) =>
  `arn:aws:iam::123456789012:role/REPLACE-ME/${group.replace(/[^A-Za-z0-9+=,.@_-]/g, "-")}`;

/** How edited stack files are written: as the shipped ones are (`[a, b]`, long lines kept whole). */
export const YAML_OUTPUT = { flowCollectionPadding: false, lineWidth: 0 } as const;

/** Why `name` cannot name a team (a namespace and the second half of a stack name), or undefined. */
export function nameProblem(name: string): string | undefined {
  if (!DNS_LABEL.test(name) || name.length > 63) {
    const normal = name
      .trim()
      .toLowerCase()
      .replace(/[_.\s]+/g, "-");
    const hint = DNS_LABEL.test(normal) && normal.length <= 63 ? `; did you mean "${normal}"?` : "";
    return `team name ${JSON.stringify(name)} is not valid: it is the namespace name, so a DNS label: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit${hint}`;
  }
  return undefined;
}

/** A platform stack file, read for editing (comments and key order are kept). */
export interface PlatformFile {
  readonly env: string;
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  /** The key of `config` holding the teams as written (`blueprint:teams`, or `teams` without the namespace). */
  readonly teamsKey: string | undefined;
  readonly config: YAMLMap;
}

export function readPlatformFile(ws: Workspace, env: string): PlatformFile {
  const file = ownFile(ws, stackPath(ws, `${env}.platform`));
  const text = fs.readFileSync(file, "utf8");
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new TeamRefused([`${rel(ws, file)}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`]);
  const config = doc.get("config", true);
  if (!isMap(config)) throw new TeamRefused([`${rel(ws, file)}: "config:" must be a mapping of keys to values`]);
  return { env, file, text, doc, config, teamsKey: writtenKey(ws, config, teamsKey) };
}

/** The file, when it is a regular file of the project: a link could make the tool read or replace a file elsewhere. */
export function ownFile(ws: Workspace, file: string): string {
  if (!fs.lstatSync(file).isFile())
    throw new TeamRefused([
      `${rel(ws, file)} is not a regular file (a link?): the tool edits only the project's own files`,
    ]);
  return file;
}

/** The key as written in the file for a full key (`blueprint:teams` may be written `teams`). */
export function writtenKey(ws: Workspace, config: YAMLMap, full: string): string | undefined {
  for (const item of config.items) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (normaliseKey(key, ws.project.name) === full) return key;
  }
  return undefined;
}

/**
 * The edited file's text. The Document API keeps comments and keys but respaces flow collections
 * (`{ a: 1 }` becomes `{a: 1}`); lines whose content did not change are taken from the original
 * (matched by a longest common subsequence ignoring whitespace), so the diff shows only the edit.
 * Used only when it reads back to exactly the edited data; otherwise the Document's own text is.
 */
export function renderEdited(p: PlatformFile): string {
  const edited = p.doc.toString(YAML_OUTPUT);
  const before = p.text.split("\n");
  const after = edited.split("\n");
  const squash = (l: string) => l.replace(/\s+/g, "");
  const a = before.map(squash);
  const b = after.map(squash);
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (j < b.length) {
    if (i < a.length && a[i] === b[j]) {
      lines.push(before[i++]);
      j++;
    } else if (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1]) i++;
    else lines.push(after[j++]);
  }
  const merged = lines.join("\n");
  const same = JSON.stringify(parseDocument(merged).toJS()) === JSON.stringify(p.doc.toJS());
  return same ? merged : edited;
}

/** Team names of a platform file's `blueprint:teams`. */
export function teamNames(ws: Workspace, p: PlatformFile): string[] {
  if (p.teamsKey === undefined) return [];
  const teams = p.config.get(p.teamsKey, true);
  if (teams === null || teams === undefined || (isScalar(teams) && teams.value === null)) return [];
  if (!isMap(teams)) throw new TeamRefused([`${rel(ws, p.file)}: ${teamsKey} must be a map of team names to teams`]);
  return teams.items.map((i) => (isScalar(i.key) ? String(i.key.value) : String(i.key)));
}

/** Every team the project knows: entries of any platform stack and team stack files. */
export function knownTeams(ws: Workspace, platforms: readonly PlatformFile[]): Set<string> {
  const teams = new Set(platforms.flatMap((p) => teamNames(ws, p)));
  for (const s of ws.stacks) {
    const dot = s.indexOf(".");
    if (dot > 0 && s.slice(dot + 1) !== "platform") teams.add(s.slice(dot + 1));
  }
  return teams;
}

/** The plain value of a full key of a stack file's `config` (with or without the project namespace). */
export function configValue(ws: Workspace, config: Record<string, unknown>, full: string): unknown {
  for (const [k, v] of Object.entries(config)) if (normaliseKey(k, ws.project.name) === full) return v;
  return undefined;
}

export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Writes collections of scalars in flow style (`[a, b]`, `{ cpu: 1 }`), as the shipped stack files do. */
export function compact(node: unknown): void {
  if (!isMap(node) && !isSeq(node)) return;
  const items = node.items as unknown[];
  const values = items.map((i) => (i instanceof Pair ? i.value : i));
  if (values.every((v) => isScalar(v))) node.flow = true;
  else for (const v of values) compact(v);
}

/** The text of a new team stack: the layer's keys, an empty release pointer and a commented example app. */
export function teamStackText(env: string, name: string, production: boolean): string {
  return `# ${env}, team ${name}: its apps, volumes and release pointer. Its namespace, guardrails and groups
# are blueprint:teams.${name} of stacks/Pulumi.${env}.platform.yaml, read here through that stack's contract.
config:
  pulumi:disable-default-providers: ["*"]
  blueprint:layer: team
  blueprint:team: ${name}
  blueprint:production: ${production}
  # Written by promotion only (\`npm run promote -- --lane ${name} ...\`): the images the apps run.
  blueprint:release:
    images: {}
  # The team's apps, each naming an image of blueprint:release (see docs/teams.md), e.g.:
  # blueprint:apps:
  #   web:
  #     image: web
  #     port: 8080
  #     resources:
  #       requests: { cpu: 100m, memory: 128Mi }
  #       limits: { cpu: 500m, memory: 256Mi }
  #     probes:
  #       readiness: { path: /readyz }
  #       liveness: { path: /healthz }
`;
}

/** The first promotion stage (no `from:`) of stacks/stages.yaml and its environment, if stages.yaml reads. */
export function entryStage(ws: Workspace): { name: string; environment: string } | undefined {
  const file = path.join(ws.project.stackConfigDir, "stages.yaml");
  if (!fs.existsSync(file)) return undefined;
  const stages = asRecord(asRecord(parseYamlQuiet(fs.readFileSync(file, "utf8")))?.stages) ?? {};
  const entry = Object.entries(stages).find(([, st]) => {
    const from = asRecord(st)?.from;
    return from === undefined || (Array.isArray(from) && from.length === 0);
  });
  if (!entry) return undefined;
  const stack = asRecord(entry[1])?.stack;
  return { name: entry[0], environment: typeof stack === "string" ? stack : entry[0] };
}

/** The environments of the promotion stages (`stack:` of each stage, default its name), if stages.yaml reads. */
export function laneEnvironments(ws: Workspace): string[] {
  const file = path.join(ws.project.stackConfigDir, "stages.yaml");
  if (!fs.existsSync(file)) return [];
  try {
    const stages = asRecord(asRecord(parseYaml(fs.readFileSync(file, "utf8")))?.stages) ?? {};
    return [
      ...new Set(
        Object.entries(stages).map(([n, s]) => {
          const st = asRecord(s)?.stack;
          return typeof st === "string" ? st : n;
        }),
      ),
    ];
  } catch {
    return [];
  }
}

export function parseYamlQuiet(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}
