import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

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

/** The environments a job deploys to: deploy-stage's `environment`, and the stacks `pulumi up` names. */
function deployTargets(job: Job): string[] {
  const targets: string[] = [];
  for (const s of stepsOf(job)) {
    if (s.uses === "./.github/actions/deploy-stage")
      targets.push(String((s.with as Record<string, unknown> | undefined)?.environment ?? "?"));
    const run = typeof s.run === "string" ? s.run : "";
    if (/\bpulumi\s+(?:up|destroy)\b/.test(run) || /\bnpm run(?:\s+-s)?\s+(?:promote|rollback)\b/.test(run)) {
      const m = /(?:-s|--stack)\s+"?(?:\$\{STACK_PREFIX:-\})?([a-z0-9-]+)\./.exec(run);
      targets.push(m ? m[1] : "?");
    }
  }
  return targets;
}

/**
 * A job that deploys runs in a GitHub environment, and one that deploys a production environment
 * (`prod`, `prod-*`) runs in that environment's own (its name ends with it), where required
 * reviewers hold it. A job whose target cannot be read from the file must have an environment too.
 */
export function checkEnvironments(files: readonly ActionsFile[]): string[] {
  const problems: string[] = [];
  for (const f of files.filter(isWorkflow)) {
    for (const [name, job] of jobsOf(f)) {
      const targets = deployTargets(job);
      if (targets.length === 0) continue;
      const env = job.environment;
      const envName =
        typeof env === "string"
          ? env
          : typeof (env as { name?: unknown } | undefined)?.name === "string"
            ? (env as { name: string }).name
            : undefined;
      if (!envName) {
        problems.push(
          `${f.file}: job ${name} deploys ${targets.join(", ")} without an environment: (a deploying job runs in its GitHub environment)`,
        );
        continue;
      }
      for (const t of targets.filter((t) => t === "prod" || t.startsWith("prod-"))) {
        if (!envName.endsWith(t))
          problems.push(
            `${f.file}: job ${name} deploys ${t} in environment "${envName}", which is not ${t}'s (its name must end with ${t})`,
          );
      }
    }
  }
  return problems;
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
    ...checkEnvironments(files),
    ...checkNoLongLivedKeys(files),
    ...checkPermissions(files),
    ...checkPinned(files),
    ...checkLaneConcurrency(files),
    ...checkVariablesDocumented(files, facts),
  ];
}
