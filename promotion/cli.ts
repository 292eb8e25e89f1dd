import { parseArgs, type ParseArgsConfig } from "node:util";
import { currentActor } from "./actor";
import { approve, createRelease, promote, rollback, verify } from "./commands";
import { Refusal, UsageError } from "./errors";
import { liveStackOutputs, livePods, outputsFile, podsFile, type EvidenceSource } from "./evidence";
import { SkopeoRegistry } from "./registry";
import { formatStatus, stageStatus } from "./status";
import { openWorkspace, type Deps, type Workspace } from "./workspace";

const HELP: Record<string, string> = {
  release: `Usage: npm run release -- create --image <name>=<repo>@sha256:<64 hex> [--image ...] [--commit SHA]

Records the images CI built as an immutable release, stacks/releases/<id>.json. The id is a hash
of the images and the commit only: the same content always gets the same id, and creating it again
changes nothing. Tags (:latest, :1.2) and malformed digests are refused.
  --image   name=reference; the name is what blueprint:apps.<app>.image refers to (repeatable)
  --commit  full git commit id of the source (default: git rev-parse HEAD)`,
  promote: `Usage: npm run promote -- <stage> [--release ID] [--force --reason "..."] [--copy] [--expect-current ID|none]

Promotes a release to a stage: checks every rule (digest only, stage order, verified upstream, soak
time, approvals, one promotion at a time, registry mapping), records the promotion in
stacks/history/<stage>/, writes blueprint:release of the stage's stack file atomically, and prints
the image diff and the next command (pulumi up -s <stack>).
  --release         the release to promote (default: the one the upstream stage runs; required for
                    stages without an upstream)
  --force --reason  set aside stage order, upstream verification and soak; recorded with the reason.
                    Approvals cannot be forced
  --copy            copy missing images into the stage's registry (skopeo copy --all
                    --preserve-digests); without it, the refusal prints the exact command
  --expect-current  refuse unless the stage currently runs this release ("none": no release);
                    for CI jobs that must not overwrite a promotion they did not see`,
  approve: `Usage: npm run approve -- <stage> --release ID [--reason "..."]

Records your approval (who: $BLUEPRINT_ACTOR or git config user.name/user.email) of a release for a
stage that requires approvals (stacks/stages.yaml: approvals).`,
  verify: `Usage: npm run verify -- <stage> (--outputs FILE | --pods FILE | --live [--kube-context CTX]) ...

Records whether the stage runs the release its stack file names. Evidence that does not match is
refused (exit 1) and recorded as a failed verification.
  --outputs FILE      JSON of \`pulumi stack output --json -s <stack>\`: releaseId and every images.<app>
                      must be the release's
  --pods FILE         JSON of \`kubectl get pods -o json\`: every container's imageID on pods labelled
                      app.kubernetes.io/managed-by=pulumi must carry a release digest
  --live              read both live: stack outputs through the Pulumi Automation API (needs the pulumi
                      CLI) and pods through the Kubernetes API (kubectl, current or --kube-context)
  --kube-context CTX  kubeconfig context for --live`,
  rollback: `Usage: npm run rollback -- <stage> [--to ID] [--reason "..."] [--copy] [--expect-current ID|none]

Returns a stage to a release that was verified in it (no upstream, soak or approval check: it already
ran there). Default: the latest earlier release verified in the stage. Recorded in the history.`,
  status: `Usage: npm run status

Prints every stage side by side: stack, upstream, gates, release, image digests, when and by whom it
was promoted, whether it is verified, and which upstream release is waiting and why it is blocked.`,
};

const USAGE = `Usage: npm run <command> -- [args]   (node --import tsx promotion/cli.ts <command> [args])

Commands: release create | promote | approve | verify | rollback | status; each has --help.
Exit codes: 0 ok, 1 refused by a rule, 2 bad usage.`;

/** Runs one command; returns the exit code. `deps` and `projectDir` are injectable for tests. */
export async function main(argv: readonly string[], env: { projectDir?: string; deps?: Partial<Deps> } = {}): Promise<number> {
  const [command, ...rest] = argv;
  const err = env.deps?.out ? (l: string) => env.deps!.out!(l) : (l: string) => console.error(l);
  try {
    if (!command || command === "--help" || command === "-h" || command === "help") {
      (command ? console.log : err)(USAGE);
      return command ? 0 : 2;
    }
    if (!(command in HELP)) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(HELP).join(", ")}`);
    if (rest.includes("--help") || rest.includes("-h")) {
      (env.deps?.out ?? console.log)(HELP[command]);
      return 0;
    }
    const projectDir = env.projectDir ?? process.cwd();
    const ws = openWorkspace(projectDir);
    const deps: Deps = {
      now: () => new Date(),
      actor: () => currentActor(projectDir),
      registry: new SkopeoRegistry(),
      out: (l) => console.log(l),
      ...env.deps,
    };
    await run(command, rest, ws, deps);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${command}: ${e.message}${command && command in HELP ? `\n\n${HELP[command]}` : `\n\n${USAGE}`}`);
      return 2;
    }
    if (e instanceof Refusal) {
      err(`${command}: refused: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

async function run(command: string, argv: readonly string[], ws: Workspace, deps: Deps): Promise<void> {
  switch (command) {
    case "release": {
      const a = parse(argv, { image: { type: "string", multiple: true }, commit: { type: "string" } }, 1);
      if (a.positionals[0] !== "create") throw new UsageError(`the only release subcommand is "create", got "${a.positionals[0] ?? ""}"`);
      createRelease(ws, deps, { images: (a.values.image as string[] | undefined) ?? [], commit: a.values.commit as string | undefined });
      return;
    }
    case "promote": {
      const a = parse(argv, { release: { type: "string" }, force: { type: "boolean" }, reason: { type: "string" }, copy: { type: "boolean" }, "expect-current": { type: "string" } }, 1);
      await promote(ws, deps, {
        stage: a.positionals[0],
        release: a.values.release as string | undefined,
        force: a.values.force as boolean | undefined,
        reason: a.values.reason as string | undefined,
        copy: a.values.copy as boolean | undefined,
        expectCurrent: a.values["expect-current"] as string | undefined,
      });
      return;
    }
    case "approve": {
      const a = parse(argv, { release: { type: "string" }, reason: { type: "string" } }, 1);
      if (!a.values.release) throw new UsageError("--release ID is required: an approval is for one release");
      approve(ws, deps, { stage: a.positionals[0], release: a.values.release as string, reason: a.values.reason as string | undefined });
      return;
    }
    case "verify": {
      const a = parse(argv, { outputs: { type: "string", multiple: true }, pods: { type: "string", multiple: true }, live: { type: "boolean" }, "kube-context": { type: "string" } }, 1);
      const stage = ws.stages.get(a.positionals[0]);
      if (a.values["kube-context"] && !a.values.live) throw new UsageError("--kube-context goes with --live");
      const sources: EvidenceSource[] = [
        ...((a.values.outputs as string[] | undefined) ?? []).map(outputsFile),
        ...((a.values.pods as string[] | undefined) ?? []).map(podsFile),
        ...(a.values.live ? [liveStackOutputs(stage.stack, ws.projectDir), livePods(a.values["kube-context"] as string | undefined)] : []),
      ];
      await verify(ws, deps, { stage: stage.name, sources });
      return;
    }
    case "rollback": {
      const a = parse(argv, { to: { type: "string" }, reason: { type: "string" }, copy: { type: "boolean" }, "expect-current": { type: "string" } }, 1);
      await rollback(ws, deps, {
        stage: a.positionals[0],
        to: a.values.to as string | undefined,
        reason: a.values.reason as string | undefined,
        copy: a.values.copy as boolean | undefined,
        expectCurrent: a.values["expect-current"] as string | undefined,
      });
      return;
    }
    case "status": {
      parse(argv, {}, 0);
      deps.out(formatStatus(stageStatus(ws, deps.now())));
      return;
    }
  }
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig["options"]>, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals === 0 ? `takes no arguments, got ${parsed.positionals.join(" ")}` : `expects ${positionals === 1 ? "one" : positionals} argument(s) (the ${positionals === 1 ? "stage, or `create` for release" : "arguments"}), got ${parsed.positionals.length ? parsed.positionals.join(" ") : "none"}`);
  }
  return parsed;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exit(1);
    },
  );
}
