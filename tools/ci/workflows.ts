import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseShell, templateParts, type ShellCommand, type Word } from "./shell";

/**
 * Checks of the GitHub Actions workflows (.github/workflows/) and the local actions they use
 * (.github/actions/) that actionlint does not make: what they call exists in this project, what
 * deploys prod waits for an environment, and credentials are short-lived. Each check is a pure
 * function of the parsed files and returns its problems as sentences naming the file and the job.
 */

/** A workflow or local action file, parsed. */
export interface ActionsFile {
  /** Path relative to the repository, e.g. `.github/workflows/lane.yml`. */
  readonly file: string;
  readonly text: string;
  readonly doc: Record<string, unknown>;
}

/** What the checks compare the files with: the project's scripts, stacks, lanes and stages. */
export interface ProjectFacts {
  readonly scripts: ReadonlySet<string>;
  /** Every stack with a `stacks/Pulumi.<stack>.yaml`. */
  readonly stacks: ReadonlySet<string>;
  readonly lanes: ReadonlySet<string>;
  /** Stage name -> its environment (stacks/stages.yaml). */
  readonly stages: ReadonlyMap<string, string>;
  /** docs/ci.md, where every variable a workflow reads must be explained. */
  readonly ciDoc: string;
  /** The scripts of `.github/scripts/` (path from the repository -> text), read where a step runs one. */
  readonly shellScripts: ReadonlyMap<string, string>;
}

type Job = Record<string, unknown> & { steps?: Record<string, unknown>[] };

/** Reads every `.yml`/`.yaml` under `.github/workflows/` and `.github/actions/` of `root`. */
export function readActionsFiles(root: string): ActionsFile[] {
  const out: ActionsFile[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name))
        out.push(parseActionsFile(path.relative(root, p).replace(/\\/g, "/"), fs.readFileSync(p, "utf8")));
    }
  };
  walk(path.join(root, ".github", "workflows"));
  walk(path.join(root, ".github", "actions"));
  return out;
}

/** The scripts of `.github/scripts/` under `root`, by their path from it (what steps may run). */
export function readShellScripts(root: string): Map<string, string> {
  const dir = path.join(root, ".github", "scripts");
  const out = new Map<string, string>();
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
    if (e.isFile()) out.set(`.github/scripts/${e.name}`, fs.readFileSync(path.join(dir, e.name), "utf8"));
  return out;
}

export function parseActionsFile(file: string, text: string): ActionsFile {
  const doc = parseYaml(text) as unknown;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${file}: not a YAML mapping`);
  return { file, text, doc: doc as Record<string, unknown> };
}

const isWorkflow = (f: ActionsFile) => f.file.startsWith(".github/workflows/");
const jobsOf = (f: ActionsFile): [string, Job][] => Object.entries((f.doc.jobs ?? {}) as Record<string, Job>);
/** Steps of a workflow job, or of a composite action (`runs.steps`). */
const stepsOf = (job: Job): Record<string, unknown>[] => (Array.isArray(job.steps) ? job.steps : []);
const actionSteps = (f: ActionsFile): Record<string, unknown>[] =>
  (f.doc.runs as { steps?: Record<string, unknown>[] } | undefined)?.steps ?? [];
const allSteps = (f: ActionsFile) => (isWorkflow(f) ? jobsOf(f).flatMap(([, j]) => stepsOf(j)) : actionSteps(f));
const runText = (steps: readonly Record<string, unknown>[]) =>
  steps.map((s) => (typeof s.run === "string" ? s.run : "")).join("\n");

/** `npm run [-s|--silent] <script>`: every script a workflow or action calls is in package.json. */
export function checkNpmScripts(files: readonly ActionsFile[], facts: Pick<ProjectFacts, "scripts">): string[] {
  const problems: string[] = [];
  for (const f of files) {
    for (const m of runText(allSteps(f)).matchAll(/\bnpm run(?:\s+(?:-s|--silent))?\s+([A-Za-z0-9:_-]+)/g)) {
      if (!facts.scripts.has(m[1]))
        problems.push(
          `${f.file}: runs "npm run ${m[1]}", which package.json does not define (scripts: ${[...facts.scripts].sort().join(", ")})`,
        );
    }
  }
  return problems;
}

/** A literal stack name after `-s`/`--stack` or in a policy pack config path (expressions are skipped). */
const STACK_REFS = [
  /(?:^|\s)(?:-s|--stack)\s+"?(?:\$\{STACK_PREFIX:-\})?([a-z0-9][a-z0-9.-]*\.[a-z0-9-]+)"?(?=\s|$)/gm,
  /policy\/config\/([a-z0-9][a-z0-9.-]*\.[a-z0-9-]+)\.json/g,
];

/**
 * Stacks, lanes and stages the files name exist: a literal stack has its `stacks/Pulumi.<stack>.yaml`
 * (and, with the policy pack, its `policy/config/<stack>.json` is checked by the same name); a
 * lane passed to the lane workflow is a lane; a stage given to deploy-stage is a stage whose
 * environment is the one given; and every lane has a team stack for every stage the lane workflow deploys.
 */
export function checkNames(
  files: readonly ActionsFile[],
  facts: Pick<ProjectFacts, "stacks" | "lanes" | "stages">,
): string[] {
  const problems: string[] = [];
  const deployed: { file: string; job: string; stage: string; environment: string }[] = [];
  for (const f of files) {
    const text = runText(allSteps(f));
    for (const re of STACK_REFS) {
      for (const m of text.matchAll(re)) {
        if (!facts.stacks.has(m[1]))
          problems.push(`${f.file}: names stack ${m[1]}, which has no stacks/Pulumi.${m[1]}.yaml`);
      }
    }
    for (const m of text.matchAll(/--lane\s+([a-z0-9][a-z0-9-]*)(?=\s|$)/g)) {
      if (!facts.lanes.has(m[1]))
        problems.push(`${f.file}: names lane ${m[1]}, which is not a lane (${[...facts.lanes].join(", ")})`);
    }
    if (!isWorkflow(f)) continue;
    for (const [name, job] of jobsOf(f)) {
      const uses = typeof job.uses === "string" ? job.uses : "";
      const lane = (job.with as Record<string, unknown> | undefined)?.lane;
      if (uses.endsWith("/lane.yml")) {
        if (typeof lane !== "string" || !facts.lanes.has(lane))
          problems.push(
            `${f.file}: job ${name} calls the lane workflow with lane ${JSON.stringify(lane)}, which is not a lane (${[...facts.lanes].join(", ")})`,
          );
      }
      for (const s of stepsOf(job)) {
        if (s.uses !== "./.github/actions/deploy-stage") continue;
        const w = (s.with ?? {}) as Record<string, unknown>;
        const stage = String(w.stage);
        const environment = String(w.environment);
        if (!facts.stages.has(stage))
          problems.push(
            `${f.file}: job ${name} deploys stage ${stage}, which stacks/stages.yaml does not define (${[...facts.stages.keys()].join(", ")})`,
          );
        else if (facts.stages.get(stage) !== environment)
          problems.push(
            `${f.file}: job ${name} deploys stage ${stage} to environment ${environment}, but stacks/stages.yaml puts it in ${facts.stages.get(stage)}`,
          );
        deployed.push({ file: f.file, job: name, stage, environment });
      }
    }
  }
  for (const lane of facts.lanes) {
    for (const d of deployed) {
      if (!facts.stacks.has(`${d.environment}.${lane}`))
        problems.push(
          `${d.file}: job ${d.job} deploys ${d.environment}.${lane} for lane ${lane}, which has no stacks/Pulumi.${d.environment}.${lane}.yaml`,
        );
    }
  }
  return problems;
}

/**
 * The commands that change a stage, as `npm run <script>` (or `promotion/cli <script>`) runs them,
 * and the flags of each that take no value (promotion/cli.ts OPTIONS): the stage is the first
 * argument that is not a flag or a flag's value. A boolean flag added there but not here takes the
 * word after it as its value: the stage is then missing or another word, and the job is refused.
 */
const STAGE_COMMANDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["promote", new Set(["force", "copy"])],
  ["rollback", new Set(["copy"])],
  ["verify", new Set(["live"])],
]);
/** npm's own flags that take a value (`npm --prefix dir run promote`). */
const NPM_VALUE_FLAGS = new Set(["--prefix", "-w", "--workspace", "--loglevel", "--script-shell", "-C"]);
/** npm's boolean flags that may come between `npm run <script>` and its `--`. */
const NPM_BOOLEAN_FLAGS = new Set([
  "-s",
  "--silent",
  "-q",
  "--quiet",
  "-d",
  "--if-present",
  "--ignore-scripts",
  "--foreground-scripts",
  "--force",
  "--workspaces",
  "-ws",
]);
/** pulumi subcommands that change a stack's resources or state. */
const PULUMI_CHANGES = new Set(["up", "update", "destroy", "refresh", "import"]);
/** pulumi's global flags that take a value (they may come before the subcommand). */
const PULUMI_VALUE_FLAGS = new Set(["-C", "--cwd", "--color", "-v", "--verbose", "--tracing", "--profiling"]);
/** Words that start a compound command or wrap the one that follows. */
const SHELL_KEYWORDS = new Set([
  "if",
  "then",
  "elif",
  "else",
  "do",
  "while",
  "until",
  "!",
  "time",
  "{",
  "}",
  "fi",
  "done",
]);
const SHELL_WRAPPERS = new Set(["command", "exec", "nohup", "builtin", "sudo"]);

/** A resolved piece of a word: text, a GitHub expression left for the run, or what the file does not say. */
type Value =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "expr"; readonly text: string }
  | { readonly kind: "unknown"; readonly why: string; readonly name?: string };

/** What a value names: literal text, an expression (its text), or why it cannot be read. */
type Named = { readonly name: string } | { readonly why: string };

/** Where a step deploys, as read from the file. */
interface Target {
  /** `stage`: a promotion stage (promote, rollback, verify, deploy-stage); `stack`: a stack's environment (`pulumi up -s <environment>.<layer>`). */
  readonly kind: "stage" | "stack";
  readonly target: Named;
  /** The lane it deploys (`--lane`, or a stack's layer), literal or an expression; undefined when not read. */
  readonly lane?: string;
  /** The step and its command, for messages. */
  readonly where: string;
}

/** One `env:` mapping, with the inputs its `${{ inputs.X }}` mean (a local action's, or none: the workflow's own). */
interface EnvLayer {
  readonly vars: Record<string, unknown>;
  readonly inputs?: ReadonlyMap<string, readonly Value[]>;
}

/** The variables a step sees (innermost first: the step's env, the job's, the workflow's) and, in a local action, its inputs. */
interface Scope {
  readonly env: readonly EnvLayer[];
  readonly inputs?: ReadonlyMap<string, readonly Value[]>;
  /** The scripts of `.github/scripts/` a command may run. */
  readonly shellScripts: ReadonlyMap<string, string>;
  /** Variables an earlier step of the job may have set through `$GITHUB_ENV`: their value is the run's. */
  readonly githubEnv?: ReadonlySet<string>;
}

const asRecord = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A `${{ }}` expression in a scope: in a local action `${{ inputs.X }}` is the caller's value; any other use of `inputs` there is unreadable. */
function expression(text: string, scope: Scope): Value[] {
  if (!scope.inputs) return [{ kind: "expr", text }];
  const m = /^\$\{\{ inputs\.([A-Za-z0-9_-]+) \}\}$/.exec(text);
  if (m) return [...(scope.inputs.get(m[1]) ?? [])];
  if (/\binputs\./.test(text)) return [{ kind: "unknown", why: `${text} is computed from the action's inputs` }];
  return [{ kind: "expr", text }];
}

/** A GitHub template (an `env:`, `with:` or `environment:` value) in a scope. */
function template(value: unknown, scope: Scope): Value[] {
  if (value === undefined || value === null) return [];
  return templateParts(String(value)).flatMap((p): Value[] =>
    p.kind === "expr" ? expression(p.text, scope) : p.kind === "text" ? [{ kind: "text", text: p.text }] : [],
  );
}

/** A shell word's value: script variables first, then the env: of the step, job and workflow. */
function resolveWord(word: Word, locals: ReadonlyMap<string, readonly Value[]>, scope: Scope): Value[] {
  return word.flatMap((p): Value[] => {
    if (p.kind === "text") return [{ kind: "text", text: p.text }];
    if (p.kind === "expr") return expression(p.text, scope);
    if (p.kind === "dynamic") return [{ kind: "unknown", why: `${p.text} is only known when the step runs` }];
    const local = locals.get(p.name);
    if (local) return [...local];
    if (scope.githubEnv?.has(p.name))
      return [{ kind: "unknown", name: p.name, why: `$${p.name} is written to $GITHUB_ENV by an earlier step` }];
    const layer = scope.env.find((e) => Object.prototype.hasOwnProperty.call(e.vars, p.name));
    if (layer) return template(layer.vars[p.name], { ...scope, inputs: layer.inputs });
    return [
      {
        kind: "unknown",
        name: p.name,
        why: `$${p.name} is set by no env: of the step, job or workflow (only when the step runs)`,
      },
    ];
  });
}

const literalOf = (v: readonly Value[]): string | undefined =>
  v.every((p) => p.kind === "text") ? v.map((p) => (p as { text: string }).text).join("") : undefined;

/** A whole value as a name: literal, an expression (with any text around it), or unreadable. */
function named(v: readonly Value[], what: string): Named {
  const unknown = v.find((p) => p.kind === "unknown");
  if (unknown) return { why: (unknown as { why: string }).why };
  if (v.length === 0) return { why: `${what} is empty` };
  return { name: v.map((p) => (p as { text: string }).text).join("") };
}

/** A stack target: the environment of the stack and its layer (a lane, or `platform`) when the file shows it. */
function stackTarget(v: readonly Value[], where: string): Target {
  const environment = stackEnvironment(v);
  const dot = v.findIndex((p) => p.kind === "text" && p.text.includes("."));
  let layer: string | undefined;
  if (dot >= 0) {
    const first = v[dot] as { text: string };
    const rest = named(
      [{ kind: "text", text: first.text.slice(first.text.indexOf(".") + 1) }, ...v.slice(dot + 1)],
      "",
    );
    if ("name" in rest && rest.name) layer = rest.name;
  }
  return { kind: "stack", target: environment, where, ...(layer ? { lane: layer } : {}) };
}

/**
 * The environment of a stack name (`[org/[project/]]<environment>.<layer>`): the text before its
 * first dot, after any `/`. `$STACK_PREFIX` (the organisation, set by the setup action) may come first.
 */
function stackEnvironment(v: readonly Value[]): Named {
  let env: Value[] = [];
  for (const [i, p] of v.entries()) {
    if (p.kind === "unknown") {
      if (p.name === "STACK_PREFIX" && i === 0) continue;
      return { why: p.why };
    }
    if (p.kind === "expr") {
      env.push(p);
      continue;
    }
    const dot = p.text.indexOf(".");
    const before = dot < 0 ? p.text : p.text.slice(0, dot);
    const slash = before.lastIndexOf("/");
    if (slash >= 0) env = [];
    const piece = before.slice(slash + 1);
    if (piece) env.push({ kind: "text", text: piece });
    if (dot >= 0) return named(env, "the stack's environment");
  }
  const whole = named(v, "the stack");
  return "name" in whole
    ? { why: `the stack ${whole.name} does not show its environment (<environment>.<layer>)` }
    : whole;
}

/** The stage among the arguments of a stage command: the first that is not a flag or a flag's value. */
function stageArgument(args: readonly (readonly Value[])[], booleans: ReadonlySet<string>): Named | "help" {
  let options = true;
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const first = a[0];
    const head = first?.kind === "text" ? first.text : undefined;
    if (options && head === "--" && a.length === 1) {
      options = false;
      continue;
    }
    if (options && head !== undefined && head.startsWith("-") && head.length > 1) {
      if (head === "-h" || head === "--help") return "help";
      if (head.includes("=") || !head.startsWith("--")) continue;
      // A flag's value never starts with a dash: the CLI's parseArgs (strict) refuses that as ambiguous.
      const next = args[k + 1]?.[0];
      if (!booleans.has(head.slice(2)) && !(next?.kind === "text" && next.text.startsWith("-"))) k++;
      continue;
    }
    return named(a, "the stage");
  }
  return { why: "no stage is given" };
}

/** The value of `--lane X` or `--lane=X` among a stage command's arguments, when the file shows it. */
function laneArgument(args: readonly (readonly Value[])[]): string | undefined {
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const head = a[0]?.kind === "text" ? a[0].text : undefined;
    if (head === "--") return undefined;
    let value: readonly Value[] | undefined;
    if (head === "--lane" && a.length === 1) value = args[k + 1];
    else if (head?.startsWith("--lane=")) value = [{ kind: "text", text: head.slice("--lane=".length) }, ...a.slice(1)];
    if (value) {
      const lane = named(value, "the lane");
      return "name" in lane ? lane.name : undefined;
    }
  }
  return undefined;
}

/** The arguments npm passes to the script of `npm run <script> ...`: its positionals before `--`, and all after. */
function npmScriptArguments(args: readonly (readonly Value[])[]): (readonly Value[])[] {
  const out: (readonly Value[])[] = [];
  for (let k = 0; k < args.length; k++) {
    const lit = literalOf(args[k]);
    if (lit === "--") return [...out, ...args.slice(k + 1)];
    if (lit !== undefined && lit.startsWith("-") && lit.length > 1) {
      if (!lit.includes("=") && !NPM_BOOLEAN_FLAGS.has(lit) && k + 1 < args.length) {
        const next = literalOf(args[k + 1]);
        if (next === undefined || !next.startsWith("-")) k++;
      }
      continue;
    }
    out.push(args[k]);
  }
  return out;
}

/** The value of `-s X`, `-sX`, `-s=X`, `--stack X` or `--stack=X` among pulumi's arguments. */
function stackFlag(args: readonly (readonly Value[])[]): readonly Value[] | undefined {
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const head = a[0]?.kind === "text" ? a[0].text : undefined;
    if (head === undefined) continue;
    if ((head === "-s" || head === "--stack") && a.length === 1) return args[k + 1] ?? [];
    const m = /^(?:--stack=|-s=?)(.*)$/s.exec(head);
    if (m) return [...(m[1] ? [{ kind: "text" as const, text: m[1] }] : []), ...a.slice(1)];
  }
  return undefined;
}

/** What the steps of one job have done so far that later steps depend on: the stack `pulumi stack select` chose. */
interface JobState {
  selected?: readonly Value[];
  /** Names a step wrote to `$GITHUB_ENV` (every `NAME=` of a script that mentions it): later steps see the run's value. */
  readonly githubEnv: Set<string>;
}

/** The targets of one shell script (a `run:`), in a scope. */
function scriptTargets(
  script: string,
  scope: Scope,
  state: JobState,
  where: string,
  positional: ReadonlyMap<string, readonly Value[]> = new Map(),
  running: ReadonlySet<string> = new Set(),
): Target[] {
  const targets: Target[] = [];
  const locals = new Map<string, readonly Value[]>(positional);
  const commands = parseShell(script);
  for (const c of commands) {
    const resolved = c.words.map((w) => resolveWord(w, locals, scope));
    if (c.words.length === 0) {
      for (const a of c.assignments) locals.set(a.name, resolveWord(a.value, locals, scope));
      continue;
    }
    targets.push(...commandTargets(resolved, c, locals, scope, state, `${where} (${c.text})`, running));
  }
  return targets;
}

/** The targets of one simple command (and the script variables it sets). */
function commandTargets(
  all: readonly (readonly Value[])[],
  c: ShellCommand,
  locals: Map<string, readonly Value[]>,
  scope: Scope,
  state: JobState,
  where: string,
  running: ReadonlySet<string>,
): Target[] {
  let w = all;
  const lit = (k: number) => (w[k] ? literalOf(w[k]) : undefined);
  // Keywords of compound commands and wrappers: what follows is the command.
  for (;;) {
    const head = lit(0);
    const first = w[0]?.[0];
    if (head !== undefined && (SHELL_KEYWORDS.has(head) || SHELL_WRAPPERS.has(head))) w = w.slice(1);
    // NAME=value before a command after a keyword (`while IFS= read -r x`): the command's own environment.
    else if (first?.kind === "text" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first.text) && w.length > 1) w = w.slice(1);
    else if (head === "env") {
      w = w.slice(1);
      while (w.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(lit(0) ?? "") || (lit(0) ?? "").startsWith("-")))
        w = w.slice(lit(0) === "-u" ? 2 : 1);
    } else if (head === "timeout") {
      w = w.slice(1);
      while (w.length && (lit(0) ?? "").startsWith("-")) w = w.slice(1);
      w = w.slice(1);
    } else break;
  }
  const head = lit(0);
  // Variables the script sets for the commands after this one.
  if (head && ["export", "declare", "local", "readonly", "typeset"].includes(head)) {
    for (const word of c.words.slice(c.words.length - w.length + 1)) {
      const first = word[0];
      const m = first?.kind === "text" ? /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(first.text) : null;
      if (m)
        locals.set(
          m[1],
          resolveWord(
            [...(m[2] ? [{ kind: "text" as const, text: m[2], quoted: false }] : []), ...word.slice(1)],
            locals,
            scope,
          ),
        );
    }
    return [];
  }
  if (head === "for" && lit(1)) locals.set(lit(1)!, [{ kind: "unknown", why: `$${lit(1)} is set by a for loop` }]);
  if (head === "read" || head === "mapfile" || head === "readarray")
    for (const k of w.keys()) {
      const name = lit(k);
      if (k > 0 && name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        locals.set(name, [{ kind: "unknown", why: `$${name} is read when the step runs` }]);
    }
  if ((head === "bash" || head === "sh") && w.some((x) => literalOf(x) === "-c")) {
    const k = w.findIndex((x) => literalOf(x) === "-c");
    const inner = w[k + 1] ? literalOf(w[k + 1]) : undefined;
    if (inner !== undefined) return scriptTargets(inner, scope, state, where, new Map(), running);
  }
  // A script of .github/scripts/, run as a command or by bash/sh: its commands, with its arguments as $1, $2...
  const at = head === "bash" || head === "sh" ? 1 : 0;
  const file = lit(at)?.replace(/^\.\//, "");
  if (file?.startsWith(".github/scripts/")) {
    const text = scope.shellScripts.get(file);
    if (text === undefined || running.has(file))
      return [
        {
          kind: "stage",
          target: {
            why: `${file} is ${text === undefined ? "not among the scripts checked (.github/scripts/)" : "run by itself"}`,
          },
          where,
        },
      ];
    const args = new Map(w.slice(at + 1).map((v, k) => [String(k + 1), v] as const));
    return scriptTargets(text, scope, state, `${where}, in ${file}`, args, new Set([...running, file]));
  }
  // npm run <script> ..., or the promotion CLI run directly.
  let script: readonly Value[] | undefined;
  let args: (readonly Value[])[] = [];
  if (head === "npm" || head?.endsWith("/npm")) {
    let k = 1;
    const skipFlags = () => {
      while (k < w.length && (lit(k) ?? "").startsWith("-")) k += NPM_VALUE_FLAGS.has(lit(k)!) ? 2 : 1;
    };
    skipFlags();
    if (["run", "run-script", "rum", "urn"].includes(lit(k) ?? "")) {
      k++;
      skipFlags();
      script = w[k] ?? [];
      args = npmScriptArguments(w.slice(k + 1));
    }
  } else {
    const k = w.findIndex((x) => /(?:^|\/)promotion\/cli(?:\.[cm]?[jt]s)?$/.test(literalOf(x) ?? ""));
    if (k >= 0) {
      script = w[k + 1] ?? [];
      args = w.slice(k + 2);
    }
  }
  if (script) {
    const name = literalOf(script);
    if (name === undefined) {
      const scriptName = named(script, "the script");
      const why = "why" in scriptName ? scriptName.why : `it is ${scriptName.name}`;
      return [{ kind: "stage", target: { why: `the npm script it runs is not named in the file: ${why}` }, where }];
    }
    const booleans = STAGE_COMMANDS.get(name);
    if (!booleans) return [];
    const stage = stageArgument(args, booleans);
    if (stage === "help") return [];
    const lane = laneArgument(args);
    return [{ kind: "stage", target: stage, where, ...(lane ? { lane } : {}) }];
  }
  // pulumi up | destroy | refresh ... -s <stack>, and pulumi stack select <stack> for the ones after it.
  if (head === "pulumi" || head?.endsWith("/pulumi")) {
    let k = 1;
    while (k < w.length && (lit(k) ?? "").startsWith("-")) k += PULUMI_VALUE_FLAGS.has(lit(k)!) ? 2 : 1;
    const sub = lit(k);
    if (sub === "stack" && lit(k + 1) === "select") {
      const rest = w.slice(k + 2);
      state.selected = stackFlag(rest) ?? rest.find((x) => !(literalOf(x) ?? "").startsWith("-"));
      return [];
    }
    if (sub && PULUMI_CHANGES.has(sub)) {
      const stack = stackFlag(w.slice(k + 1)) ?? state.selected;
      return [
        stack
          ? stackTarget(stack, where)
          : { kind: "stack", target: { why: "it names no stack (-s) and none was selected" }, where },
      ];
    }
  }
  return [];
}

/** A step's label for messages: its name, its id, or its number. */
const stepLabel = (s: Record<string, unknown>, i: number) =>
  typeof s.name === "string" ? `step "${s.name}"` : typeof s.id === "string" ? `step ${s.id}` : `step ${i + 1}`;

/** The local action a step uses (`./.github/actions/<name>`), among the files. */
function localAction(files: readonly ActionsFile[], uses: string): ActionsFile | undefined {
  const dir = uses.replace(/^\.\//, "").replace(/\/$/, "");
  return files.find((f) => f.file === `${dir}/action.yml` || f.file === `${dir}/action.yaml`);
}

/**
 * Where the steps deploy: the stage of every `promote`, `rollback` and `verify` (npm run or the
 * promotion CLI), the environment of every stack `pulumi up`/`destroy`/`refresh`/`import` changes
 * (`-s`, or the stack `pulumi stack select` chose), pulumi/actions with such a `command:`, and the
 * same inside local actions, whose `${{ inputs.X }}` are the caller's `with:`. Shell variables are
 * read from the script's own assignments and the env: of the step, job and workflow.
 */
function stepsTargets(
  steps: readonly Record<string, unknown>[],
  outer: readonly EnvLayer[],
  inputs: ReadonlyMap<string, readonly Value[]> | undefined,
  files: readonly ActionsFile[],
  shellScripts: ReadonlyMap<string, string>,
  state: JobState,
  prefix: string,
  depth = 0,
): Target[] {
  const targets: Target[] = [];
  for (const [i, s] of steps.entries()) {
    const scope: Scope = {
      env: [{ vars: asRecord(s.env), ...(inputs ? { inputs } : {}) }, ...outer],
      shellScripts,
      githubEnv: new Set(state.githubEnv),
      ...(inputs ? { inputs } : {}),
    };
    const where = `${prefix}${stepLabel(s, i)}`;
    if (typeof s.run === "string") {
      targets.push(...scriptTargets(s.run, scope, state, where));
      if (s.run.includes("GITHUB_ENV"))
        for (const m of s.run.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)=/g)) state.githubEnv.add(m[1]);
    }
    const uses = typeof s.uses === "string" ? s.uses : "";
    const w = asRecord(s.with);
    if (/^pulumi\/actions@/.test(uses) && PULUMI_CHANGES.has(String(w.command ?? ""))) {
      const stack = template(w["stack-name"], scope);
      const at = `${where} (${uses.split("@")[0]} ${String(w.command)})`;
      targets.push(
        stack.length
          ? stackTarget(stack, at)
          : { kind: "stack", target: { why: "pulumi/actions is given no stack-name" }, where: at },
      );
    }
    if (uses.startsWith("./") && !uses.startsWith("./.github/workflows/")) {
      const action = localAction(files, uses);
      if (!action || depth > 4) {
        targets.push({
          kind: "stage",
          target: { why: `${uses} is not among the action files checked (.github/actions/<name>/action.yml)` },
          where: `${where} (${uses})`,
        });
        continue;
      }
      const declared = asRecord(action.doc.inputs);
      const given = new Map<string, readonly Value[]>();
      for (const [name, def] of Object.entries(declared)) {
        const v = Object.prototype.hasOwnProperty.call(w, name) ? template(w[name], scope) : undefined;
        given.set(name, v ?? template(asRecord(def).default ?? "", { env: [], shellScripts }));
      }
      const runs = asRecord(action.doc.runs);
      targets.push(
        ...stepsTargets(
          Array.isArray(runs.steps) ? (runs.steps as Record<string, unknown>[]) : [],
          scope.env,
          given,
          files,
          shellScripts,
          state,
          `${where} (${uses}), its `,
          depth + 1,
        ),
      );
    }
  }
  return targets;
}

/** The environment a job runs in (`environment: X` or `environment: { name: X }`), expressions normalised. */
function jobEnvironment(job: Job): string | undefined {
  const env = job.environment;
  const raw = typeof env === "string" ? env : asRecord(env).name;
  if (typeof raw !== "string" || raw.trim() === "") return undefined;
  return templateParts(raw)
    .map((p) => (p.kind === "text" || p.kind === "expr" ? p.text : ""))
    .join("");
}

const isExpression = (text: string) => text.includes("${{");
/** Two lanes can be compared when both are literal or both are expressions; a literal against an expression cannot. */
const comparable = (a: string, b: string) => isExpression(a) === isExpression(b);

/** A lane's prefix of an environment name: a lane, or an expression of one (`${{ inputs.lane }}`). */
const lanePrefix = (prefix: string, lanes: ReadonlySet<string>) =>
  lanes.has(prefix) || /^\$\{\{ (?:[A-Za-z0-9_-]+\.)*lane \}\}$/.test(prefix);

/**
 * The GitHub environments a target may run in: a stage's own (`<stage>`, or `<lane>-<stage>` for a
 * lane's), and for a stack the environment's own or that of a stage deployed to it.
 */
function allowedEnvironments(t: Target, name: string, stages: ReadonlyMap<string, string>): string[] {
  if (t.kind === "stage") return [name];
  return [name, ...[...stages].filter(([s, e]) => e === name && s !== name).map(([s]) => s)];
}

/**
 * A job that deploys runs in a GitHub environment, and in the one of what it deploys: every stage
 * its steps promote, roll back or verify, and every stack they `pulumi up`, must be the job's
 * environment (`<stage>`, or `<lane>-<stage>` for a lane: `shop-prod`, `${{ inputs.lane }}-prod`),
 * where that stage's approvals and credentials are. A target given as an expression (`${{
 * inputs.stage }}`) must be repeated by the environment's name; one the file does not show (set
 * when the step runs) is refused.
 */
export function checkEnvironments(
  files: readonly ActionsFile[],
  facts: Pick<ProjectFacts, "stages" | "lanes" | "shellScripts">,
): string[] {
  const problems: string[] = [];
  for (const f of files.filter(isWorkflow)) {
    for (const [name, job] of jobsOf(f)) {
      if (typeof job.uses === "string") continue;
      const targets = stepsTargets(
        stepsOf(job),
        [{ vars: asRecord(job.env) }, { vars: asRecord(f.doc.env) }],
        undefined,
        files,
        facts.shellScripts,
        { githubEnv: new Set() },
        "",
      );
      if (targets.length === 0) continue;
      const envName = jobEnvironment(job);
      if (!envName) {
        const shown = [...new Set(targets.map((t) => ("name" in t.target ? t.target.name : "?")))];
        problems.push(
          `${f.file}: job ${name} deploys ${shown.join(", ")} without an environment: (a deploying job runs in its GitHub environment)`,
        );
        continue;
      }
      for (const t of targets) {
        const what = t.kind === "stage" ? "stage" : "the stack environment";
        if (!("name" in t.target)) {
          problems.push(
            `${f.file}: job ${name} ${t.where}: the ${t.kind} it deploys cannot be read from the file (${t.target.why}); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "${envName}"`,
          );
          continue;
        }
        const allowed = allowedEnvironments(t, t.target.name, facts.stages);
        const ok = allowed.some((a) => {
          if (envName === a) return true;
          if (!envName.endsWith(`-${a}`)) return false;
          const prefix = envName.slice(0, -(a.length + 1));
          return (
            lanePrefix(prefix, facts.lanes) &&
            (t.lane === undefined || !comparable(prefix, t.lane) || prefix === t.lane)
          );
        });
        // The lane's own environments: <lane>-<name> for a lane (or an expression of one), none for the platform layer.
        const laneNames = (a: string) =>
          t.lane === undefined
            ? [`<lane>-${a}`]
            : isExpression(t.lane) || facts.lanes.has(t.lane)
              ? [`${t.lane}-${a}`]
              : [];
        const of = t.lane === undefined ? "" : ` of ${t.kind === "stage" ? "lane" : "layer"} ${t.lane}`;
        if (!ok)
          problems.push(
            `${f.file}: job ${name} ${t.where} deploys ${what} ${t.target.name}${of} in environment "${envName}", which is not its own: it runs in ${allowed
              .flatMap((a) => [a, ...laneNames(a)])
              .map((a) => `"${a}"`)
              .join(" or ")}`,
          );
      }
    }
  }
  return [...new Set(problems)];
}

/** Inputs and variables that carry long-lived cloud keys or backend tokens. */
const LONG_LIVED = [
  /aws-access-key-id/i,
  /aws-secret-access-key/i,
  /AWS_ACCESS_KEY_ID/,
  /AWS_SECRET_ACCESS_KEY/,
  /credentials_json/,
  /GOOGLE_CREDENTIALS/,
  /GOOGLE_APPLICATION_CREDENTIALS\s*:/,
  /AZURE_CLIENT_SECRET/,
  /PULUMI_ACCESS_TOKEN\s*:/,
  /PULUMI_CONFIG_PASSPHRASE/,
  /pulumi-access-token/,
];

/**
 * No long-lived credential: no input or variable that carries a cloud key, a key file or a Pulumi
 * token, and no secret but the job's own GITHUB_TOKEN (issued per job, expires with it). Cloud
 * and Pulumi credentials come from OIDC.
 */
export function checkNoLongLivedKeys(files: readonly ActionsFile[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    const lines = f.text.split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/(^|\s)#.*$/, "");
      for (const re of LONG_LIVED)
        if (re.test(code))
          problems.push(
            `${f.file}:${i + 1}: ${line.trim()}: long-lived credentials are not allowed; use OIDC (docs/ci.md)`,
          );
      for (const m of code.matchAll(/secrets\.([A-Za-z0-9_]+)/g)) {
        if (m[1] !== "GITHUB_TOKEN")
          problems.push(
            `${f.file}:${i + 1}: uses secrets.${m[1]}: the only secret a workflow reads is the job's GITHUB_TOKEN; cloud and Pulumi credentials come from OIDC (docs/ci.md)`,
          );
      }
      if (/secrets:\s*inherit/.test(code))
        problems.push(`${f.file}:${i + 1}: "secrets: inherit" hands every secret to the called workflow; pass none`);
    });
  }
  return problems;
}

/** Actions that request the job's OIDC token (they need `id-token: write`). */
const OIDC_USERS = [
  /^\.\/\.github\/actions\/setup$/,
  /^aws-actions\/configure-aws-credentials@/,
  /^google-github-actions\/auth@/,
  /^pulumi\/auth-actions@/,
];

/**
 * Least privilege: the workflow grants nothing by default (`permissions: {}`), every job (or call
 * of a reusable workflow) says what it needs, never `write-all`/`read-all`, and `id-token: write`
 * only where a step requests an OIDC token (the setup action with cloud or Pulumi credentials).
 */
export function checkPermissions(files: readonly ActionsFile[]): string[] {
  const problems: string[] = [];
  for (const f of files.filter(isWorkflow)) {
    const top = f.doc.permissions;
    if (top === undefined || typeof top !== "object" || top === null || Object.keys(top).length > 0)
      problems.push(
        `${f.file}: the workflow must start from "permissions: {}" (each job then asks for what it needs), got ${JSON.stringify(top ?? "none")}`,
      );
    for (const [name, job] of jobsOf(f)) {
      const p = job.permissions;
      if (p === undefined) {
        problems.push(`${f.file}: job ${name} has no permissions: block`);
        continue;
      }
      if (typeof p === "string") {
        problems.push(`${f.file}: job ${name} has permissions "${p}"; list the scopes it needs`);
        continue;
      }
      const scopes = p as Record<string, unknown>;
      if (scopes["id-token"] === "write" && typeof job.uses !== "string") {
        const oidc = stepsOf(job).some(
          (s) =>
            typeof s.uses === "string" &&
            OIDC_USERS.some((re) => re.test(s.uses as string)) &&
            (s.uses !== "./.github/actions/setup" ||
              (s.with as Record<string, unknown> | undefined)?.pulumi === "true"),
        );
        if (!oidc) problems.push(`${f.file}: job ${name} has id-token: write but no step that requests an OIDC token`);
      }
    }
  }
  return problems;
}

/** Every action from another repository is pinned by a full commit id: a tag can be moved. */
export function checkPinned(files: readonly ActionsFile[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    const uses = [...allSteps(f).map((s) => s.uses), ...(isWorkflow(f) ? jobsOf(f).map(([, j]) => j.uses) : [])].filter(
      (u): u is string => typeof u === "string",
    );
    for (const u of uses) {
      if (u.startsWith("./")) continue;
      if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/.test(u))
        problems.push(`${f.file}: uses ${u}: pin actions by full commit id (owner/repo@<40 hex> # tag)`);
    }
  }
  return problems;
}

/**
 * Promotion state lives in git, so runs of one lane must not overlap: a reusable workflow
 * (`workflow_call`) that takes a lane has a `concurrency:` group keyed by the lane that does not
 * cancel a run in progress (a cancelled run could leave a promotion without its `pulumi up`).
 */
export function checkLaneConcurrency(files: readonly ActionsFile[]): string[] {
  const problems: string[] = [];
  for (const f of files.filter(isWorkflow)) {
    const on = f.doc.on as Record<string, { inputs?: Record<string, unknown> }> | undefined;
    if (!on || typeof on !== "object" || !on.workflow_call?.inputs?.lane) continue;
    const c = f.doc.concurrency as { group?: unknown; "cancel-in-progress"?: unknown } | undefined;
    if (!c || typeof c.group !== "string" || !/\$\{\{\s*inputs\.lane\s*\}\}/.test(c.group))
      problems.push(
        `${f.file}: a lane workflow needs "concurrency: { group: lane-\${{ inputs.lane }} }" so that runs of one lane are serialised`,
      );
    else if (c["cancel-in-progress"] !== false)
      problems.push(`${f.file}: concurrency of a lane must not cancel a run in progress (cancel-in-progress: false)`);
  }
  return problems;
}

/** Every configuration variable (`vars.NAME`) a file reads is explained in docs/ci.md. */
export function checkVariablesDocumented(files: readonly ActionsFile[], facts: Pick<ProjectFacts, "ciDoc">): string[] {
  const names = new Set(files.flatMap((f) => [...f.text.matchAll(/\bvars\.([A-Za-z0-9_]+)/g)].map((m) => m[1])));
  return [...names]
    .sort()
    .filter((n) => !facts.ciDoc.includes(`\`${n}\``))
    .map((n) => `variable ${n} is read by a workflow but not explained in docs/ci.md (as \`${n}\`)`);
}

/** Every check over the files; empty when they pass. */
export function checkActionsFiles(files: readonly ActionsFile[], facts: ProjectFacts): string[] {
  return [
    ...checkNpmScripts(files, facts),
    ...checkNames(files, facts),
    ...checkEnvironments(files, facts),
    ...checkNoLongLivedKeys(files),
    ...checkPermissions(files),
    ...checkPinned(files),
    ...checkLaneConcurrency(files),
    ...checkVariablesDocumented(files, facts),
  ];
}
