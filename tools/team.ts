import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { isMap, isScalar, isSeq, Pair, parse as parseYaml, parseDocument, Scalar, YAMLMap, type Document, type Node as YamlNode } from "yaml";
import { ConfigError, DNS_LABEL, NAMESPACE, parsePlatform, RESERVED_TEAM_NAMES, teamSchema } from "../config";
import { listStacks, normaliseKey, ProjectError, readProject, readStackConfig, type ProjectFile } from "../lib/project";
import { fillSecretPlaceholders } from "./offline/placeholders";
import { runProgram } from "./offline/run";
import type { StackOutputs } from "./offline/mocks";
import { environments } from "./offline/render";

const USAGE = `Usage: npm run team -- add <name> [--maintainers g1,g2] [--viewers g3] [--environments dev,staging,...]
       npm run team -- remove <name>

  add     provisions a team: its entry under blueprint:teams in each environment's platform stack
          (stacks/Pulumi.<env>.platform.yaml: the schema's default guardrails and the groups given)
          and its team stack file stacks/Pulumi.<env>.<name>.yaml (no apps, no release).
          --environments  the environments to add it to (default: every environment)
  remove  removes a team that has no apps, volumes or release left: its platform entries and its
          team stack files.
Every written stack is validated as the render validates it before any file is replaced; on any
problem nothing is written. See docs/teams.md.`;

/** A command line the tool cannot act on (exit 2). */
export class TeamUsageError extends Error {}
/** A request the tool refuses for the state of the stack files (exit 1); nothing was written. */
export class TeamRefused extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

/** Where the tool works. */
export interface TeamContext {
  /** The project folder (holding Pulumi.yaml). */
  readonly projectDir: string;
  /** The program the stacks are validated with. @default the project's `main` */
  readonly program?: string;
}

/** What `add` is asked for. */
export interface AddRequest {
  readonly name: string;
  readonly maintainers?: readonly string[];
  readonly viewers?: readonly string[];
  /** @default every environment (each one with a `<env>.platform` stack) */
  readonly environments?: readonly string[];
}

/** What a command did: the files it changed, and what to review and run next. */
export interface TeamReport {
  readonly created: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Lines for the reader: what to check in the files, and the next commands. */
  readonly review: readonly string[];
}

/**
 * Stands in for the IAM role ARNs of a group that a production EKS cluster must be told about.
 * Account 123456789012 is the documentation account: the group role's trust policy allows only
 * principals whose ARN matches (`aws:PrincipalArn`), so until it is replaced nobody can assume it.
 */
const PRINCIPAL_PLACEHOLDER = (group: string) => `arn:aws:iam::123456789012:role/REPLACE-ME/${group.replace(/[^A-Za-z0-9+=,.@_-]/g, "-")}`;

/** How edited stack files are written: as the shipped ones are (`[a, b]`, long lines kept whole). */
const YAML_OUTPUT = { flowCollectionPadding: false, lineWidth: 0 } as const;

interface Workspace {
  readonly project: ProjectFile;
  readonly stacks: readonly string[];
  readonly envs: readonly string[];
}

function openWorkspace(ctx: TeamContext): Workspace {
  const project = readProject(ctx.projectDir);
  const stacks = listStacks(project);
  return { project, stacks, envs: environments(stacks) };
}

const rel = (ws: Workspace, file: string) => path.relative(ws.project.dir, file);
const stackPath = (ws: Workspace, stack: string) => path.join(ws.project.stackConfigDir, `Pulumi.${stack}.yaml`);
const teamsKey = `${NAMESPACE}:teams`;

/** Why `name` cannot name a team (a namespace and the second half of a stack name), or undefined. */
function nameProblem(name: string): string | undefined {
  if (!DNS_LABEL.test(name) || name.length > 63) {
    const normal = name.trim().toLowerCase().replace(/[_.\s]+/g, "-");
    const hint = DNS_LABEL.test(normal) && normal.length <= 63 ? `; did you mean "${normal}"?` : "";
    return `team name ${JSON.stringify(name)} is not valid: it is the namespace name, so a DNS label: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit${hint}`;
  }
  return undefined;
}

/** A platform stack file, read for editing (comments and key order are kept). */
interface PlatformFile {
  readonly env: string;
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  /** The key of `config` holding the teams as written (`blueprint:teams`, or `teams` without the namespace). */
  readonly teamsKey: string | undefined;
  readonly config: YAMLMap;
}

function readPlatformFile(ws: Workspace, env: string): PlatformFile {
  const file = ownFile(ws, stackPath(ws, `${env}.platform`));
  const text = fs.readFileSync(file, "utf8");
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new TeamRefused([`${rel(ws, file)}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`]);
  const config = doc.get("config", true);
  if (!isMap(config)) throw new TeamRefused([`${rel(ws, file)}: "config:" must be a mapping of keys to values`]);
  return { env, file, text, doc, config, teamsKey: writtenKey(ws, config, teamsKey) };
}

/** The file, when it is a regular file of the project: a link could make the tool read or replace a file elsewhere. */
function ownFile(ws: Workspace, file: string): string {
  if (!fs.lstatSync(file).isFile()) throw new TeamRefused([`${rel(ws, file)} is not a regular file (a link?): the tool edits only the project's own files`]);
  return file;
}

/** The key as written in the file for a full key (`blueprint:teams` may be written `teams`). */
function writtenKey(ws: Workspace, config: YAMLMap, full: string): string | undefined {
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
function render(p: PlatformFile): string {
  const edited = p.doc.toString(YAML_OUTPUT);
  const before = p.text.split("\n");
  const after = edited.split("\n");
  const squash = (l: string) => l.replace(/\s+/g, "");
  const a = before.map(squash);
  const b = after.map(squash);
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (j < b.length) {
    if (i < a.length && a[i] === b[j]) { lines.push(before[i++]); j++; }
    else if (i < a.length && lcs[i + 1][j] >= lcs[i][j + 1]) i++;
    else lines.push(after[j++]);
  }
  const merged = lines.join("\n");
  const same = JSON.stringify(parseDocument(merged).toJS()) === JSON.stringify(p.doc.toJS());
  return same ? merged : edited;
}

/** Team names of a platform file's `blueprint:teams`. */
function teamNames(ws: Workspace, p: PlatformFile): string[] {
  if (p.teamsKey === undefined) return [];
  const teams = p.config.get(p.teamsKey, true);
  if (teams === null || teams === undefined || (isScalar(teams) && teams.value === null)) return [];
  if (!isMap(teams)) throw new TeamRefused([`${rel(ws, p.file)}: ${teamsKey} must be a map of team names to teams`]);
  return teams.items.map((i) => (isScalar(i.key) ? String(i.key.value) : String(i.key)));
}

/** Every team the project knows: entries of any platform stack and team stack files. */
function knownTeams(ws: Workspace, platforms: readonly PlatformFile[]): Set<string> {
  const teams = new Set(platforms.flatMap((p) => teamNames(ws, p)));
  for (const s of ws.stacks) {
    const dot = s.indexOf(".");
    if (dot > 0 && s.slice(dot + 1) !== "platform") teams.add(s.slice(dot + 1));
  }
  return teams;
}

/** The plain value of a full key of a stack file's `config` (with or without the project namespace). */
function configValue(ws: Workspace, config: Record<string, unknown>, full: string): unknown {
  for (const [k, v] of Object.entries(config)) if (normaliseKey(k, ws.project.name) === full) return v;
  return undefined;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Writes collections of scalars in flow style (`[a, b]`, `{ cpu: 1 }`), as the shipped stack files do. */
function compact(node: unknown): void {
  if (!isMap(node) && !isSeq(node)) return;
  const items = node.items as unknown[];
  const values = items.map((i) => (i instanceof Pair ? i.value : i));
  if (values.every((v) => isScalar(v))) node.flow = true;
  else for (const v of values) compact(v);
}

function splitList(text: string | undefined, option: string): string[] {
  if (text === undefined) return [];
  const list = [...new Set(text.split(",").map((g) => g.trim()).filter((g) => g.length > 0))];
  if (list.length === 0) throw new TeamUsageError(`--${option} names no group: give a comma-separated list such as --${option} team-a,team-b`);
  return list;
}

/** The text of a new team stack: the layer's keys, an empty release pointer and a commented example app. */
function teamStackText(env: string, name: string, production: boolean): string {
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
`;
}

/** Provisions a team in the platform stacks and creates its team stacks; validates, then writes all or nothing. */
export async function addTeam(ctx: TeamContext, req: AddRequest): Promise<TeamReport> {
  const ws = openWorkspace(ctx);
  const bad = nameProblem(req.name);
  if (bad) throw new TeamUsageError(bad);
  const name = req.name;
  if (RESERVED_TEAM_NAMES.has(name)) throw new TeamRefused([`"${name}" cannot be a team name: the stack <env>.${name} is the platform's own`]);
  if (ws.envs.length === 0) throw new TeamRefused([`${path.relative(ws.project.dir, ws.project.stackConfigDir) || "."}: no platform stack (Pulumi.<env>.platform.yaml): a team is added to an environment's platform`]);
  const envs = req.environments ?? ws.envs;
  const unknown = envs.filter((e) => !ws.envs.includes(e));
  if (unknown.length > 0) throw new TeamUsageError(`--environments names ${unknown.map((e) => `"${e}"`).join(", ")}, which ${unknown.length > 1 ? "are not environments" : "is not an environment"} (environments: ${ws.envs.join(", ")})`);
  if (envs.length === 0) throw new TeamUsageError("--environments names no environment");

  const platforms = ws.envs.map((env) => readPlatformFile(ws, env));
  const known = knownTeams(ws, platforms);
  if (known.has(name)) {
    // A team may be added to more environments later; never twice to one.
    const here = (env: string) => [
      ...platforms.filter((p) => p.env === env && teamNames(ws, p).includes(name)).map((p) => `${rel(ws, p.file)} (${teamsKey}.${name})`),
      ...ws.stacks.filter((s) => s === `${env}.${name}`).map((s) => rel(ws, stackPath(ws, s))),
    ];
    const where = envs.flatMap(here);
    if (where.length > 0) {
      const elsewhere = ws.envs.filter((e) => here(e).length === 0);
      throw new TeamRefused([`team "${name}" already exists: ${where.join(", ")}; choose another name, or edit those files${elsewhere.length > 0 ? ` (to add it to the other environments: --environments ${elsewhere.join(",")})` : ""}`]);
    }
  }
  // Names that differ only by '-' make namespaces, roles and lanes a reader cannot tell apart.
  const squash = (n: string) => n.replace(/-/g, "");
  const twin = [...known].find((t) => t !== name && squash(t) === squash(name));
  if (twin !== undefined) throw new TeamRefused([`team "${name}" would be confused with the existing team "${twin}" (the names differ only by '-'); choose a distinct name`]);

  const maintainers = req.maintainers ?? [];
  const viewers = req.viewers ?? [];
  const defaults = JSON.parse(JSON.stringify(teamSchema.parse({}))) as Record<string, unknown>;
  const changes = new Map<string, string | null>();
  const originals = new Map<string, string | undefined>();
  const review: string[] = [];
  const placeholders: string[] = [];

  for (const p of platforms.filter((x) => envs.includes(x.env))) {
    const plain = asRecord(asRecord(p.doc.toJS())?.config) ?? {};
    const production = configValue(ws, plain, `${NAMESPACE}:production`) === true;
    const cluster = asRecord(configValue(ws, plain, `${NAMESPACE}:cluster`));
    const key = p.teamsKey ?? teamsKey;
    const found: unknown = p.config.get(key, true);
    const teams = isMap(found) ? found : new YAMLMap();
    if (teams !== found) p.config.set(key, teams);
    const entry = p.doc.createNode({ groups: { maintainers, viewers }, podSecurity: defaults.podSecurity, quota: defaults.quota, limits: defaults.limits }) as YAMLMap;
    compact(entry.get("groups", true));
    for (const k of ["default", "defaultRequest", "max", "maxLimitRequestRatio"]) compact((entry.get("limits", true) as unknown as YAMLMap).get(k, true));
    const teamKey = new Scalar(name);
    teamKey.commentBefore = ` Added by \`npm run team -- add\`: the schema's default quota and limits; size them to the team's apps.\n Hosts it may serve (hosts: [...]) and cloud identities it may bind (identities: {...}): see docs/teams.md.`;
    teams.add(new Pair(teamKey, entry));

    // A production EKS cluster needs to know who may act as each team group (config rule on aws.groupPrincipals).
    const aws = cluster?.cloud === "aws" ? asRecord(cluster.aws) ?? {} : undefined;
    if (production && aws) {
      const mapped = new Set([...Object.keys(asRecord(aws.groupRoles) ?? {}), ...Object.keys(asRecord(aws.groupPrincipals) ?? {})]);
      const clusterKey = writtenKey(ws, p.config, `${NAMESPACE}:cluster`) ?? `${NAMESPACE}:cluster`;
      for (const group of [...new Set([...maintainers, ...viewers])].filter((g) => !mapped.has(g))) {
        const at = ["config", clusterKey, "aws", "groupPrincipals"];
        if (!isMap(p.doc.getIn(at, true))) p.doc.setIn(at, new YAMLMap());
        const principals = p.doc.getIn(at, true) as YAMLMap;
        const groupKey = new Scalar(group);
        groupKey.commentBefore = ` REPLACE: who may act as "${group}" (IAM role ARNs, e.g. its IAM Identity Center permission-set role). This placeholder trusts no one.`;
        const list = p.doc.createNode([PRINCIPAL_PLACEHOLDER(group)]) as YamlNode & { flow?: boolean };
        list.flow = true;
        principals.add(new Pair(groupKey, list));
        placeholders.push(`${rel(ws, p.file)}: ${NAMESPACE}:cluster.aws.groupPrincipals.${group} is a placeholder (trusts no one): replace it with the role ARNs of the people in "${group}" before \`pulumi up -s ${p.env}.platform\``);
      }
    }
    changes.set(p.file, render(p));
    originals.set(p.file, p.text);
    const teamFile = stackPath(ws, `${p.env}.${name}`);
    changes.set(teamFile, teamStackText(p.env, name, production));
    originals.set(teamFile, undefined);
  }

  await validate(ctx, ws, changes, envs.map((env) => `${env}.${name}`));
  swapFiles(changes, originals, ws);

  const created = [...changes.keys()].filter((f) => originals.get(f) === undefined).map((f) => rel(ws, f));
  const changed = [...changes.keys()].filter((f) => originals.get(f) !== undefined).map((f) => rel(ws, f));
  review.push(
    ...placeholders,
    `${changed.join(", ")}: ${teamsKey}.${name} has the default quota and limits${maintainers.length + viewers.length === 0 ? " and no groups (only the platform's admins can act in the namespace; give --maintainers/--viewers or edit groups)" : ""}: check them`,
    "Next:",
    `  1. add the team's apps under ${NAMESPACE}:apps of ${created.join(", ")} (docs/teams.md), and check: npm run render -- ${envs[0]}`,
    `  2. commit the files above`,
    ...envs.map((env, i) => `  ${i + 3}. pulumi up -s ${env}.platform   (namespace "${name}", its guardrails and contract), then: pulumi stack init ${env}.${name} && pulumi up -s ${env}.${name}`),
  );
  const lanes = laneEnvironments(ws).filter((e) => !envs.includes(e) && !ws.stacks.includes(`${e}.${name}`));
  if (lanes.length > 0) review.push(`Promotion: lane "${name}" needs a team stack in every stage's environment of stacks/stages.yaml; missing: ${lanes.join(", ")} (run add again for those when the team is ready for them)`);
  return { created, changed, removed: [], review };
}

/** The environments of the promotion stages (`stack:` of each stage, default its name), if stages.yaml reads. */
function laneEnvironments(ws: Workspace): string[] {
  const file = path.join(ws.project.stackConfigDir, "stages.yaml");
  if (!fs.existsSync(file)) return [];
  try {
    const stages = asRecord(asRecord(parseYaml(fs.readFileSync(file, "utf8")))?.stages) ?? {};
    return [...new Set(Object.entries(stages).map(([n, s]) => { const st = asRecord(s)?.stack; return typeof st === "string" ? st : n; }))];
  } catch {
    return [];
  }
}

/** Removes a team that has nothing left: no apps, volumes or release in any environment. */
export async function removeTeam(ctx: TeamContext, name: string): Promise<TeamReport> {
  const ws = openWorkspace(ctx);
  const bad = nameProblem(name);
  if (bad) throw new TeamUsageError(bad);
  if (RESERVED_TEAM_NAMES.has(name)) throw new TeamRefused([`"${name}" is not a team: the stack <env>.${name} is the platform's own`]);
  const platforms = ws.envs.map((env) => readPlatformFile(ws, env));
  const withEntry = platforms.filter((p) => teamNames(ws, p).includes(name));
  const teamStacks = ws.stacks.filter((s) => s.slice(s.indexOf(".") + 1) === name);
  if (withEntry.length === 0 && teamStacks.length === 0) {
    throw new TeamRefused([`there is no team "${name}" (teams: ${[...knownTeams(ws, platforms)].sort().join(", ") || "none"})`]);
  }

  const blockers: string[] = [];
  for (const stack of teamStacks) {
    const file = rel(ws, stackPath(ws, stack));
    let config: Record<string, unknown>;
    try {
      config = asRecord(asRecord(parseYaml(fs.readFileSync(ownFile(ws, stackPath(ws, stack)), "utf8")))?.config) ?? {};
    } catch (e) {
      blockers.push(`${file}: not valid YAML (${(e as Error).message.split("\n")[0]}): cannot tell whether the team still has apps; repair it first`);
      continue;
    }
    for (const what of ["apps", "volumes"] as const) {
      const value = configValue(ws, config, `${NAMESPACE}:${what}`);
      if (value === undefined || value === null) continue;
      const entries = asRecord(value);
      if (!entries) blockers.push(`${file}: ${NAMESPACE}:${what} is not a map: cannot tell whether the team still has ${what}; repair it first`);
      else if (Object.keys(entries).length > 0) {
        blockers.push(`${file}: ${NAMESPACE}:${what} still has ${Object.keys(entries).join(", ")}: remove ${what === "apps" ? "the apps" : "the volumes (and their data)"} and \`pulumi up -s ${stack}\` first`);
      }
    }
    const release = asRecord(configValue(ws, config, `${NAMESPACE}:release`));
    if (release?.id !== undefined) blockers.push(`${file}: ${NAMESPACE}:release.id is ${JSON.stringify(release.id)}: the team has a release; a team with releases is kept`);
    else if (Object.keys(asRecord(release?.images) ?? {}).length > 0) blockers.push(`${file}: ${NAMESPACE}:release.images is not empty: the team has a release pointer; a team with releases is kept`);
  }
  for (const dir of ["releases", "history"]) {
    const where = path.join(ws.project.stackConfigDir, dir, name);
    if (fs.existsSync(where)) blockers.push(`${rel(ws, where)}/: the team has ${dir === "releases" ? "release files" : "promotion history"}, its audit trail: a team with releases is kept`);
  }
  const stagesFile = path.join(ws.project.stackConfigDir, "stages.yaml");
  if (fs.existsSync(stagesFile)) {
    const lanes = asRecord(asRecord(parseYamlQuiet(fs.readFileSync(stagesFile, "utf8")))?.lanes);
    if (lanes && Object.hasOwn(lanes, name)) blockers.push(`${rel(ws, stagesFile)}: lanes.${name} overrides stages for this team: remove that entry first`);
  }
  if (blockers.length > 0) throw new TeamRefused(blockers);

  const changes = new Map<string, string | null>();
  const originals = new Map<string, string | undefined>();
  const review: string[] = [];
  for (const p of withEntry) {
    const plain = asRecord(asRecord(p.doc.toJS())?.config) ?? {};
    const teams = asRecord(configValue(ws, plain, teamsKey)) ?? {};
    const groupsOf = (t: unknown) => { const g = asRecord(asRecord(t)?.groups) ?? {}; return [...(Array.isArray(g.maintainers) ? g.maintainers : []), ...(Array.isArray(g.viewers) ? g.viewers : [])].map(String); };
    const stillUsed = new Set(Object.entries(teams).filter(([t]) => t !== name).flatMap(([, t]) => groupsOf(t)));
    (p.config.get(p.teamsKey, true) as unknown as YAMLMap).delete(name);
    // The cluster refuses group mappings no team uses, so the team's own go with it.
    const clusterKey = writtenKey(ws, p.config, `${NAMESPACE}:cluster`);
    const orphans = groupsOf(teams[name]).filter((g) => !stillUsed.has(g));
    for (const map of ["groupRoles", "groupPrincipals"]) {
      const at = ["config", clusterKey ?? `${NAMESPACE}:cluster`, "aws", map];
      const node = clusterKey ? p.doc.getIn(at, true) : undefined;
      if (!isMap(node)) continue;
      for (const g of orphans) if (node.has(g)) {
        node.delete(g);
        review.push(`${rel(ws, p.file)}: removed ${NAMESPACE}:cluster.aws.${map}.${g} (no other team uses the group)`);
      }
    }
    changes.set(p.file, render(p));
    originals.set(p.file, p.text);
  }
  for (const stack of teamStacks) {
    changes.set(stackPath(ws, stack), null);
    originals.set(stackPath(ws, stack), fs.readFileSync(stackPath(ws, stack), "utf8"));
  }

  await validate(ctx, ws, changes, []);
  swapFiles(changes, originals, ws);

  const envsOf = withEntry.map((p) => p.env);
  review.push(
    "Next:",
    ...teamStacks.map((s) => `  if stack ${s} exists in your backend: pulumi destroy -s ${s} && pulumi stack rm ${s}   (it has no apps, so nothing but the stack goes)`),
    ...withEntry.map((p) => {
      const production = configValue(ws, asRecord(asRecord(parseYaml(p.text))?.config) ?? {}, `${NAMESPACE}:production`) === true;
      return production
        ? `  pulumi up -s ${p.env}.platform: the namespace "${name}" is protected in production (protect and retainOnDelete), so the update stops with "resource is protected" until you run \`pulumi state unprotect\` on it (https://www.pulumi.com/docs/iac/concepts/options/protect/); even then the namespace is only dropped from the state and stays in the cluster with whatever is in it (retainOnDelete): delete it with kubectl once you are sure`
        : `  pulumi up -s ${p.env}.platform: deletes the namespace "${name}" and everything left in it, its quota, limits, RBAC and contract entry`;
    }),
    `  commit the files above${envsOf.length ? "" : " (the team had no platform entry)"}`,
  );
  return {
    created: [],
    changed: withEntry.map((p) => rel(ws, p.file)),
    removed: teamStacks.map((s) => rel(ws, stackPath(ws, s))),
    review,
  };
}

function parseYamlQuiet(text: string): unknown {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
}

/**
 * Validates the stacks as they would be after `changes`, the way the render does: each changed
 * platform stack's config is read and parsed, then the program runs under mocks for it, and each
 * new team stack runs against that platform's outputs (its contract). The files are staged in a
 * temporary copy of the project; nothing in the project is touched. Throws {@link TeamRefused}
 * with every problem.
 */
async function validate(ctx: TeamContext, ws: Workspace, changes: ReadonlyMap<string, string | null>, teamStacks: readonly string[]): Promise<void> {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-team-"));
  try {
    const stackDir = path.join(staging, path.relative(ws.project.dir, ws.project.stackConfigDir));
    fs.mkdirSync(stackDir, { recursive: true });
    fs.copyFileSync(path.join(ws.project.dir, "Pulumi.yaml"), path.join(staging, "Pulumi.yaml"));
    for (const s of ws.stacks) fs.copyFileSync(stackPath(ws, s), path.join(stackDir, `Pulumi.${s}.yaml`));
    for (const [file, text] of changes) {
      const to = path.join(stackDir, path.basename(file));
      if (text === null) fs.rmSync(to, { force: true });
      else fs.writeFileSync(to, text);
    }
    const project = readProject(staging);
    const platformStacks = [...changes].filter(([f, t]) => t !== null && f.endsWith(".platform.yaml")).map(([f]) => path.basename(f).slice("Pulumi.".length, -".yaml".length));
    const problems: string[] = [];
    const read = (stack: string) => {
      const cfg = readStackConfig(project, stack);
      fillSecretPlaceholders(cfg, NAMESPACE);
      return cfg;
    };
    const failed = (stack: string, e: unknown) => {
      if (e instanceof ConfigError) problems.push(...e.message.split("\n").slice(1));
      else if (e instanceof ProjectError) problems.push(e.message);
      else problems.push(`the program failed for stack "${stack}": ${(e as Error).message.split("\n")[0]}`);
    };
    // The config rules first, for every platform at once: the program runs cost seconds each.
    for (const stack of platformStacks) {
      try {
        const cfg = read(stack);
        parsePlatform(cfg.config, stack, project.name, new Set(cfg.secretKeys));
      } catch (e) {
        failed(stack, e);
      }
    }
    if (problems.length > 0) throw new TeamRefused(problems);
    const main = ctx.program ?? readProject(ws.project.dir).main;
    for (const stack of platformStacks) {
      let outputs: StackOutputs;
      try {
        outputs = (await runProgram({ projectDir: staging, stack, config: read(stack), main })).stackOutputs;
      } catch (e) {
        failed(stack, e);
        continue;
      }
      const env = stack.slice(0, -".platform".length);
      for (const team of teamStacks.filter((t) => t.startsWith(`${env}.`))) {
        try {
          await runProgram({ projectDir: staging, stack: team, config: read(team), main, stacks: { [stack]: outputs } });
        } catch (e) {
          failed(team, e);
        }
      }
    }
    if (problems.length > 0) throw new TeamRefused(problems);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Replaces, creates and deletes the files of `changes` (null: delete) all together or not at all.
 * Each file's new text is written beside it first; a file changed since it was read (`originals`)
 * stops the swap before anything is replaced; if any step fails, the files already swapped are put back.
 */
function swapFiles(changes: ReadonlyMap<string, string | null>, originals: ReadonlyMap<string, string | undefined>, ws: Workspace): void {
  const tag = `${process.pid}.${Date.now()}`;
  const temp = (file: string, what: string) => path.join(path.dirname(file), `.${path.basename(file)}.${tag}.${what}`);
  const written: string[] = [];
  const undo: (() => void)[] = [];
  try {
    for (const [file, text] of changes) {
      const before = originals.get(file);
      const now = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      if (now !== before) throw new TeamRefused([`${rel(ws, file)} changed while this command ran; nothing was written. Run it again`]);
      if (text !== null) {
        fs.writeFileSync(temp(file, "new"), text, { flag: "wx" });
        written.push(temp(file, "new"));
      }
    }
    for (const [file, text] of changes) {
      const exists = originals.get(file) !== undefined;
      if (exists) {
        // A hard link keeps the old text under another name until every file is swapped.
        fs.linkSync(file, temp(file, "old"));
        written.push(temp(file, "old"));
      }
      if (text === null) {
        fs.unlinkSync(file);
        undo.push(() => fs.linkSync(temp(file, "old"), file));
      } else if (exists) {
        fs.renameSync(temp(file, "new"), file);
        undo.push(() => fs.renameSync(temp(file, "old"), file));
      } else {
        // link, not rename: a file that appeared meanwhile is not overwritten (EEXIST).
        fs.linkSync(temp(file, "new"), file);
        undo.push(() => fs.unlinkSync(file));
      }
    }
  } catch (e) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // Best effort: the remaining steps still restore what they can.
      }
    }
    throw e instanceof TeamRefused ? e : new TeamRefused([`writing the stack files failed (${(e as Error).message.split("\n")[0]}); the files were restored`]);
  } finally {
    for (const t of written) fs.rmSync(t, { force: true });
  }
}

/** Runs the command; returns the exit code. */
export async function main(argv: string[], ctx: TeamContext = { projectDir: process.cwd() }, out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: { maintainers: { type: "string" }, viewers: { type: "string" }, environments: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    err(`team: ${(e as Error).message} (usage: npm run team -- --help)`);
    return 2;
  }
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  const [command, name, ...rest] = args.positionals;
  try {
    if ((command !== "add" && command !== "remove") || name === undefined || rest.length > 0) {
      throw new TeamUsageError(command === "add" || command === "remove" ? `${command} takes exactly one team name` : `give a command: add or remove${command ? ` (got "${command}")` : ""}`);
    }
    let report: TeamReport;
    if (command === "add") {
      report = await addTeam(ctx, {
        name,
        maintainers: splitList(args.values.maintainers, "maintainers"),
        viewers: splitList(args.values.viewers, "viewers"),
        environments: args.values.environments === undefined ? undefined : splitList(args.values.environments, "environments"),
      });
    } else {
      if (args.values.maintainers !== undefined || args.values.viewers !== undefined || args.values.environments !== undefined) throw new TeamUsageError("remove takes only the team name: it removes the team from every environment");
      report = await removeTeam(ctx, name);
    }
    out(`team: ${command === "add" ? "added" : "removed"} team "${name}"`);
    for (const [label, files] of [["created", report.created], ["changed", report.changed], ["removed", report.removed]] as const) {
      for (const f of files) out(`  ${label.padEnd(8)}${f}`);
    }
    out("Review:");
    for (const line of report.review) out(line.startsWith("  ") || line === "Next:" || line.startsWith("Promotion:") ? line : `  ${line}`);
    return 0;
  } catch (e) {
    if (e instanceof TeamUsageError) {
      err(`team: ${e.message} (usage: npm run team -- --help)`);
      return 2;
    }
    if (e instanceof TeamRefused) {
      for (const p of e.problems) err(`team: ${p}`);
      err("team: refused; nothing was written");
      return 1;
    }
    if (e instanceof ProjectError) {
      err(`team: ${e.message}`);
      return e.exitCode;
    }
    err(`team: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
    console.error(`team: ${e.message.split("\n")[0]}`);
    process.exit(1);
  });
}
