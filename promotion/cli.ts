import * as path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { currentActor } from "./actor";
import { approve, attachScan, createRelease, MAX_ACCEPT_DAYS, promote, rollback, verify } from "./commands";
import { Refusal, UsageError } from "./errors";
import { liveStackOutputs, livePods, outputsFile, podsFile, type EvidenceSource } from "./evidence";
import { SkopeoRegistry } from "./registry";
import { fitWidth, STATUS_WIDTH, statusReport } from "./status";
import { nowFailingLines, statusFormat, viewCommand } from "./view/command";
import { openProject, type Deps, type Project } from "./workspace";

const HELP: Record<string, string> = {
  release: `Usage: npm run release -- create --lane <team> --image <name>=<repo>@sha256:<64 hex> [--image ...] [--commit SHA]
       npm run release -- scan <release> --lane <team> --image <name> --report FILE [--format FORMAT]

create: records the images CI built as an immutable release of a lane, stacks/releases/<team>/<id>.json. The id is a
hash of the images and the commit only: the same content always gets the same id, and creating it
again changes nothing. Tags (:latest, :1.2) and malformed digests are refused.
  --lane    the team whose release it is (may be left out when the project has one lane)
  --image   name=reference; the name is what blueprint:apps.<app>.image refers to (repeatable)
  --commit  full git commit id of the source (default: git rev-parse HEAD)

scan: attaches a vulnerability scan report to the digest of one image of a release, after checking
that the report is about that digest. A bounded summary is stored in stacks/scans/<digest>/ (never
the report); stages with a vulnerabilities gate (stacks/stages.yaml) judge the newest one.
  --image   the image of the release the report is about
  --report  the report: Trivy JSON, Grype JSON (-o json; grype's SARIF is refused), SARIF 2.1.0
            that names the image digest (Trivy's --format sarif), ECR scan findings
            (aws ecr describe-image-scan-findings) or Artifact Analysis occurrences
            (gcloud artifacts docker images describe --show-package-vulnerability --format=json)
  --format  trivy | grype | sarif | ecr | artifact-analysis (default: detected from the report)`,
  promote: `Usage: npm run promote -- <stage> --lane <team> [--release ID] [--force --reason "..."] [--copy] [--expect-current ID|none]
       npm run promote -- <stage> --lane <team> ... --accept-vulnerabilities <id,...> --reason "..." --expires <date | duration>

Promotes a release to a stage: checks every rule (digest only, stage order, verified upstream, soak
time, approvals, one promotion at a time, registry mapping), records the promotion in
stacks/history/<team>/<stage>/, writes blueprint:release of the lane's stack file in the stage
(stacks/Pulumi.<environment>.<team>.yaml) atomically, and prints the image diff and the next command
(pulumi up -s <environment>.<team>). No other lane's files are touched.
  --lane            the team (lane) to promote; may be left out when the project has one lane
  --release         the release to promote (default: the one the upstream stage runs; required for
                    stages without an upstream)
  --force --reason  set aside stage order, upstream verification and soak; recorded with the reason.
                    Approvals, the registry mapping and the vulnerability gate cannot be forced
  --accept-vulnerabilities IDS --reason "..." --expires WHEN
                    let the named findings (CVE or advisory ids, comma-separated, as the refusal
                    lists them) through the stage's vulnerability gate; recorded with the reason and
                    the expiry (a date, or a duration such as 14d; at most ${MAX_ACCEPT_DAYS}d), and shown by
                    status until a clean scan replaces it
  --copy            copy missing images into the stage's registry (skopeo copy --all
                    --preserve-digests); without it, the refusal prints the exact command
  --expect-current  refuse unless the stage currently runs this release ("none": no release);
                    for CI jobs that must not overwrite a promotion they did not see`,
  approve: `Usage: npm run approve -- <stage> --lane <team> --release ID [--reason "..."]

Records your approval (who: $BLUEPRINT_ACTOR or git config user.name/user.email) of a release for a
stage that requires approvals (stacks/stages.yaml: approvals).`,
  verify: `Usage: npm run verify -- <stage> --lane <team> (--outputs FILE | --pods FILE | --live [--kube-context CTX]) ...

Records whether the lane's stack in the stage runs the release its stack file names. Evidence must
come from that stack (<environment>.<team>): outputs name their stack and cluster, pods carry the
blueprint.dev/stack annotation. Evidence of another stage or another lane is refused (exit 1); a file that cannot be about this stage (no pods, no images,
another stack) is bad usage (exit 2); neither is recorded. Evidence that shows another release
running is refused (exit 1) and recorded as a failed verification. Files over 16 MiB are refused.
  --outputs FILE      JSON of \`pulumi stack output --json -s <stack>\`: stack, cluster, releaseId and
                      an image for every app; they must be the stage's and the release's
  --pods FILE         JSON of \`kubectl get pods -o json\`: the pods of the stage's stack (labelled
                      app.kubernetes.io/managed-by=pulumi) must run the release's digests
  --live              read both live: stack outputs through the Pulumi Automation API (needs the pulumi
                      CLI) and pods through the Kubernetes API (kubectl, current or --kube-context)
  --kube-context CTX  kubeconfig context for --live`,
  rollback: `Usage: npm run rollback -- <stage> --lane <team> [--to ID] [--reason "..."] [--copy] [--expect-current ID|none]

Returns a stage to a release that was verified in it (no upstream, soak or approval check: it already
ran there). Default: the latest earlier release verified in the stage. Recorded in the history.`,
  status: `Usage: npm run status [-- --lane <team>] [--html FILE] [--format text|markdown|json]

Without --lane: lanes by stages (the release each lane runs in each stage, and whether it is
verified there), then every release waiting to move, with every rule that blocks it (the stage's
registry included). With --lane: that lane's stages in detail: gates, the release each runs, when
and by whom it was put there, whether it is verified since, its image digests, and what waits.
Exits 1 when a history is broken (an edited, deleted, inserted or reordered record, or a fork),
naming each file and how to repair it, or when a lane lacks a team stack file.
A release that runs in a stage whose vulnerability gate it now fails (a newer scan, or a report
grown too old) is listed as "running, now fails the gate".
  --html FILE  also write the promotion view as one self-contained HTML page (no network): lanes by
               stages with every blocker, each lane's timeline, the chain verdict
  --format     markdown: the same view for a pull request comment; json: the view as data (what
               the GitHub workflows read); text (default): this report`,
};

const USAGE = `Usage: npm run <command> -- [args]   (node tools/launch.cjs promotion/cli <command> [args])

Commands: release create | release scan | promote | approve | verify | rollback | status; each has --help.
Every command takes --lane <team> (a lane is a team); it may be left out when there is one lane.
Exit codes: 0 ok, 1 refused by a rule, 2 bad usage.`;

/** What the CLI reads from its surroundings; tests inject all of it. */
export interface CliEnv {
  readonly projectDir?: string;
  readonly deps?: Partial<Deps>;
  /** Environment variables (default: process.env), for npm's flag handling. */
  readonly vars?: NodeJS.ProcessEnv;
}

/** `--lane <team>`: which lane a command works on; every command takes it. */
const LANE = { type: "string" } as const;

/** The flags each command takes, for parsing and to spot the ones npm took for itself. */
const OPTIONS: Record<string, NonNullable<ParseArgsConfig["options"]>> = {
  release: {
    lane: LANE,
    image: { type: "string", multiple: true },
    commit: { type: "string" },
    report: { type: "string" },
    format: { type: "string" },
  },
  promote: {
    lane: LANE,
    release: { type: "string" },
    force: { type: "boolean" },
    reason: { type: "string" },
    copy: { type: "boolean" },
    "expect-current": { type: "string" },
    "accept-vulnerabilities": { type: "string" },
    expires: { type: "string" },
  },
  approve: { lane: LANE, release: { type: "string" }, reason: { type: "string" } },
  verify: {
    lane: LANE,
    outputs: { type: "string", multiple: true },
    pods: { type: "string", multiple: true },
    live: { type: "boolean" },
    "kube-context": { type: "string" },
  },
  rollback: {
    lane: LANE,
    to: { type: "string" },
    reason: { type: "string" },
    copy: { type: "boolean" },
    "expect-current": { type: "string" },
  },
  status: { lane: LANE, html: { type: "string" }, format: { type: "string" } },
};

/** Runs one command; returns the exit code. Every failure is one line (a refusal may list its reasons). */
export async function main(argv: readonly string[], env: CliEnv = {}): Promise<number> {
  const [command, ...rest] = argv;
  const out = env.deps?.out ?? ((l: string) => console.log(l));
  const err = env.deps?.out ?? ((l: string) => console.error(l));
  try {
    if (!command || command === "--help" || command === "-h" || command === "help") {
      (command ? out : err)(USAGE);
      return command ? 0 : 2;
    }
    if (!(command in HELP))
      throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(HELP).join(", ")}`);
    if (rest.includes("--help") || rest.includes("-h")) {
      out(HELP[command]);
      return 0;
    }
    npmAteFlags(command, rest, env.vars ?? process.env);
    const projectDir = env.projectDir ?? process.cwd();
    const project = openProject(projectDir);
    const deps: Deps = {
      now: () => new Date(),
      actor: () => currentActor(projectDir),
      registry: new SkopeoRegistry(),
      out,
      columns: process.stdout.isTTY ? process.stdout.columns : undefined,
      ...env.deps,
    };
    return await run(command, rest, project, deps, userDir(command, env.vars ?? process.env));
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${command}: ${e.message}${command in HELP ? ` (see npm run ${command} -- --help)` : ""}`);
      return 2;
    }
    if (e instanceof Refusal) {
      err(`${command}: refused: ${e.message}`);
      return 1;
    }
    const message = e instanceof Error ? e.message : String(e);
    err(
      `${command}: failed: ${message.split("\n")[0]}${(env.vars ?? process.env).BLUEPRINT_TRACE ? `\n${(e as Error).stack ?? ""}` : ""}`,
    );
    return 1;
  }
}

/**
 * `npm run promote staging --force` (without `--`) hands `--force` to npm, not to this program: npm
 * sets `npm_config_force` and the command would run without it. Such a run stops with the fix.
 */
function npmAteFlags(command: string, argv: readonly string[], vars: NodeJS.ProcessEnv): void {
  if (!vars.npm_lifecycle_event) return;
  const given = (flag: string) => argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  const eaten = Object.keys(OPTIONS[command] ?? {}).filter(
    (flag) => vars[`npm_config_${flag.replace(/-/g, "_")}`] !== undefined && !given(flag),
  );
  if (eaten.length > 0) {
    throw new UsageError(
      `npm took ${eaten.map((f) => `--${f}`).join(", ")} for itself, so this command did not get ${eaten.length > 1 ? "them" : "it"}: put -- before the command's arguments, e.g. npm run ${command} -- <stage> ${eaten.map((f) => `--${f}`).join(" ")} ... (npm also passes what an .npmrc sets: remove ${eaten.join(", ")} there)`,
    );
  }
}

async function run(
  command: string,
  argv: readonly string[],
  project: Project,
  deps: Deps,
  cwd: string,
): Promise<number> {
  if (command === "status") {
    const a = parse(argv, OPTIONS.status, 0);
    if (a.values.html !== undefined || statusFormat(a.values.format as string | undefined) !== "text") {
      return viewCommand(project, deps, {
        lane: a.values.lane as string | undefined,
        format: a.values.format as string | undefined,
        html: a.values.html as string | undefined,
        cwd,
      });
    }
    const report = await statusReport(project, deps, deps.now(), a.values.lane as string | undefined);
    const lines = [...report.lines, ...nowFailingLines(project, deps.now(), a.values.lane as string | undefined)];
    for (const line of fitWidth(lines, Math.max(40, deps.columns ?? STATUS_WIDTH))) deps.out(line);
    return report.broken ? 1 : 0;
  }
  const ws = project.lane(laneFlag(argv));
  switch (command) {
    case "release": {
      const sub = argv.find((x) => !x.startsWith("-"));
      if (sub === "scan") {
        const a = parse(argv, OPTIONS.release, 2);
        const images = (a.values.image as string[] | undefined) ?? [];
        if (images.length !== 1)
          throw new UsageError("scan takes exactly one --image <name> (the image of the release the report is about)");
        if (!a.values.report) throw new UsageError("scan needs --report FILE");
        if (a.values.commit) throw new UsageError("--commit goes with create, not scan");
        attachScan(ws, deps, {
          release: a.positionals[1],
          image: images[0],
          report: path.resolve(cwd, a.values.report as string),
          shownAs: a.values.report as string,
          format: a.values.format as string | undefined,
        });
        return 0;
      }
      const a = parse(argv, OPTIONS.release, 1);
      if (a.positionals[0] !== "create")
        throw new UsageError(`release subcommands are "create" and "scan", got "${a.positionals[0] ?? ""}"`);
      if (a.values.report || a.values.format) throw new UsageError("--report and --format go with scan, not create");
      createRelease(ws, deps, {
        images: (a.values.image as string[] | undefined) ?? [],
        commit: a.values.commit as string | undefined,
      });
      return 0;
    }
    case "promote": {
      const a = parse(argv, OPTIONS.promote, 1);
      const accept = a.values["accept-vulnerabilities"] as string | undefined;
      await promote(ws, deps, {
        ...pointerOptions(a),
        release: a.values.release as string | undefined,
        force: a.values.force as boolean | undefined,
        acceptVulnerabilities:
          accept === undefined
            ? undefined
            : accept
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean),
        expires: a.values.expires as string | undefined,
      });
      return 0;
    }
    case "approve": {
      const a = parse(argv, OPTIONS.approve, 1);
      if (!a.values.release) throw new UsageError("--release ID is required: an approval is for one release");
      await approve(ws, deps, {
        stage: a.positionals[0],
        release: a.values.release as string,
        reason: a.values.reason as string | undefined,
      });
      return 0;
    }
    case "verify": {
      const a = parse(argv, OPTIONS.verify, 1);
      const stage = ws.stages.get(a.positionals[0]);
      if (a.values["kube-context"] && !a.values.live) throw new UsageError("--kube-context goes with --live");
      const sources: EvidenceSource[] = [
        ...((a.values.outputs as string[] | undefined) ?? []).map((f) => outputsFile(f, cwd)),
        ...((a.values.pods as string[] | undefined) ?? []).map((f) => podsFile(f, cwd)),
        ...(a.values.live
          ? [liveStackOutputs(stage.stack, ws.projectDir), livePods(a.values["kube-context"] as string | undefined)]
          : []),
      ];
      await verify(ws, deps, { stage: stage.name, sources });
      return 0;
    }
    case "rollback": {
      const a = parse(argv, OPTIONS.rollback, 1);
      await rollback(ws, deps, { ...pointerOptions(a), to: a.values.to as string | undefined });
      return 0;
    }
  }
  return 0;
}

/** The options promote and rollback share: the stage, the reason, copying into the stage's registry, the expected current release. */
function pointerOptions(a: ReturnType<typeof parse>): {
  stage: string;
  reason?: string;
  copy?: boolean;
  expectCurrent?: string;
} {
  return {
    stage: a.positionals[0],
    reason: a.values.reason as string | undefined,
    copy: a.values.copy as boolean | undefined,
    expectCurrent: a.values["expect-current"] as string | undefined,
  };
}

/** The value of `--lane`, read before the command's own parsing (which reports any other bad flag). */
function laneFlag(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === "--lane" || a.startsWith("--lane="));
  if (i < 0) return undefined;
  const value = argv[i].startsWith("--lane=") ? argv[i].slice("--lane=".length) : argv[i + 1];
  if (value === undefined || value.startsWith("-")) throw new UsageError("--lane needs a team name (--lane <team>)");
  if (argv.slice(i + 1).some((a) => a === "--lane" || a.startsWith("--lane=")))
    throw new UsageError("--lane is given twice; a command works on one lane");
  return value;
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig["options"]>, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  refuseRepeated(parsed.tokens, options);
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      positionals === 0
        ? `takes no arguments, got ${parsed.positionals.join(" ")}`
        : `expects ${positionals === 1 ? "one" : positionals} argument(s) (the ${positionals === 1 ? "stage, or `create` for release" : "arguments"}), got ${parsed.positionals.length ? parsed.positionals.join(" ") : "none"}`,
    );
  }
  return parsed;
}

/** A single-valued flag given twice would silently take the last value: refuse it instead. */
function refuseRepeated(
  tokens: readonly { kind: string; name?: string }[],
  options: NonNullable<ParseArgsConfig["options"]>,
): void {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== "option" || t.name === undefined || options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given twice; it takes one value`);
    seen.add(t.name);
  }
}

/**
 * The folder relative paths of the command line are read from: where the user ran the command.
 * `npm run` starts the script in the project folder and says where it was run in INIT_CWD; only
 * trusted when npm ran this very command (an outer `npm test` sets INIT_CWD too).
 */
export function userDir(command: string, vars: NodeJS.ProcessEnv): string {
  return vars.INIT_CWD && vars.npm_lifecycle_event === command ? vars.INIT_CWD : process.cwd();
}

/** Runs {@link main} as a command (`npm run release`, `promote`...): the exit code, and one line for an error. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`failed: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
