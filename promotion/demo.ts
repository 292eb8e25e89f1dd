import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { main } from "./cli";
import { expectedCluster, pulledImages } from "./commands";
import { readPointer } from "./pointer";
import type { Registry } from "./registry";
import { openWorkspace } from "./workspace";

/**
 * `npm run demo`: the whole promotion workflow of lane shop, dev -> staging -> prod, while lane
 * payments moves on its own, in a scratch copy of the project's stack files, with a simulated clock
 * so soak times pass in seconds. The real workspace is
 * never touched, and there is no way to bend the clock of a real one. The output is deterministic:
 * docs/promotion.md shows it verbatim.
 */

const START = new Date("2026-12-01T09:00:00.000Z");
const CI = "CI <ci@example.com>";
const IMAGE = "ghcr.io/stefanprodan/podinfo";
const DIGEST = `sha256:${"5".repeat(64)}`;
const COMMIT = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6";

/** A registry in memory: holds what was copied into it (the demo has no network). */
class DemoRegistry implements Registry {
  private readonly held = new Set<string>();
  async has(ref: string): Promise<boolean> {
    return this.held.has(ref);
  }
  async copy(_from: string, to: string): Promise<void> {
    this.held.add(to);
  }
  copyCommand(from: string, to: string): string {
    return `skopeo copy --all --preserve-digests docker://${from} docker://${to}`;
  }
}

const USAGE = `Usage: npm run demo [-- --keep]

Runs the whole promotion workflow (release, promote, verify, scan, approve, rollback, status) of lane
shop while lane payments moves on its own, with a simulated clock, in a scratch folder holding the
shipped Pulumi.yaml and stacks/ as committed (git HEAD): whatever your stacks/ holds (releases,
history, scans, edits, caches) is neither read nor touched, so the output is the same on every run.
  --keep  keep the scratch folder and print its path`;

/**
 * A scratch folder with the shipped Pulumi.yaml and stacks/ as committed at HEAD (`git archive`), so
 * the demo starts from the same state whatever the working tree's stacks/ holds.
 */
function scratchCopy(projectDir: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "blueprint-demo-"));
  try {
    const tar = execFileSync("git", ["archive", "--format=tar", "HEAD", "Pulumi.yaml", "stacks"], {
      cwd: projectDir,
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `the demo starts from the shipped stacks as committed, and could not read them with git archive (${(e as Error).message.split("\n")[0]}): run it in a git checkout of the project`,
    );
  }
  return dir;
}

/**
 * What `pulumi stack output --json -s <env>.<lane>` prints after `pulumi up` of the team stack as its
 * file is now: the program's `stack`, `cluster`, `releaseId` and `images` outputs, computed from the
 * stack files as the programs compute them (test/promotion/render.test.ts checks they are equal).
 */
function deployedOutputs(dir: string, lane: string, stageName: string): string {
  const ws = openWorkspace(dir, lane);
  const stage = ws.stages.get(stageName);
  const { pointer, appImages } = readPointer(path.join(ws.stacksDir, `Pulumi.${stage.stack}.yaml`), stage.name, lane);
  const pulled = pulledImages(stage, ws.releases.get(pointer!.id!));
  const images = Object.fromEntries(Object.entries(appImages).map(([app, image]) => [app, pulled[image]]));
  return `${JSON.stringify({ stack: stage.stack, cluster: expectedCluster(ws, stage), releaseId: pointer!.id, images }, null, 2)}\n`;
}

/** What `kubectl get pods -n <lane> -o json` prints: one pod still runs the shipped digest. */
function podsWithAStraggler(lane: string, stack: string, release: string): string {
  const pod = (name: string, digest: string, version: string) => ({
    metadata: {
      name,
      namespace: lane,
      labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/version": version },
      annotations: { "blueprint.dev/stack": stack },
    },
    status: { phase: "Running", containerStatuses: [{ name: "app", imageID: `${IMAGE}@${digest}` }] },
  });
  const old = "sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: [pod("frontend-7c9f-x2x4z", DIGEST, release), pod("frontend-58d4-q8kvt", old, "r-61909ab161ac")] }, null, 2)}\n`;
}

/** What `trivy image --format json` prints for the demo digest: one high finding with no fix yet. */
function trivyReport(scannedAt: Date): string {
  const ref = `${IMAGE}@${DIGEST}`;
  return `${JSON.stringify(
    {
      SchemaVersion: 2,
      CreatedAt: scannedAt.toISOString(),
      ArtifactName: ref,
      ArtifactType: "container_image",
      Metadata: { RepoDigests: [ref] },
      Results: [
        {
          Target: `${ref} (alpine 3.17.0)`,
          Class: "os-pkgs",
          Type: "alpine",
          Vulnerabilities: [
            {
              VulnerabilityID: "CVE-2023-0464",
              PkgName: "libssl3",
              InstalledVersion: "3.0.7-r0",
              FixedVersion: "",
              Severity: "HIGH",
            },
          ],
        },
      ],
    },
    null,
    2,
  )}\n`;
}

async function demo(argv: readonly string[]): Promise<number> {
  let keep = false;
  try {
    keep =
      parseArgs({
        args: [...argv],
        options: { keep: { type: "boolean" }, help: { type: "boolean", short: "h" } },
        strict: true,
        allowPositionals: false,
      }).values.keep === true;
  } catch (e) {
    console.error(`demo: ${(e as Error).message} (see npm run demo -- --help)`);
    return 2;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const projectDir = process.cwd();
  const dir = scratchCopy(projectDir);
  let now = START;
  let actor = CI;
  const deps = {
    now: () => new Date(now),
    actor: () => actor,
    registry: new DemoRegistry(),
    out: (l: string) => console.log(l),
    columns: 100,
  };
  const run = async (...argv: string[]): Promise<number> => {
    console.log(
      `\n$ ${actor === CI ? "" : `BLUEPRINT_ACTOR="${actor}" `}npm run ${argv[0]}${
        argv.length > 1
          ? ` -- ${argv
              .slice(1)
              .map((a) => (/\s/.test(a) ? `"${a}"` : a))
              .join(" ")}`
          : ""
      }`,
    );
    const code = await main(argv, { projectDir: dir, deps, vars: {} });
    console.log(`(exit ${code})`);
    return code;
  };
  const wait = (ms: number, why: string) => {
    now = new Date(now.getTime() + ms);
    console.log(`\n# demo clock: ${why}; now ${now.toISOString()}`);
  };
  const write = (name: string, text: string, what: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    console.log(`\n# ${what} -> ${name}`);
  };
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    console.log(
      `# scratch copy of stacks/ (the real workspace is not touched); demo clock ${now.toISOString()}, BLUEPRINT_ACTOR="${CI}"`,
    );
    await run("status");
    await run("promote", "dev", "--release", "r-61909ab161ac");
    await run("release", "create", "--lane", "shop", "--image", `podinfo=${IMAGE}:6.2.3`, "--commit", COMMIT);
    await run("release", "create", "--lane", "shop", "--image", `podinfo=${IMAGE}@${DIGEST}`, "--commit", COMMIT);
    const id = openWorkspace(dir, "shop")
      .releases.list()
      .find((r) => r.commit === COMMIT)!.id;
    await run("promote", "staging", "--lane", "shop", "--release", id);
    await run("promote", "dev", "--lane", "shop", "--release", id);
    write(
      "dev-outputs.json",
      deployedOutputs(dir, "shop", "dev"),
      "pulumi up -s dev.shop && pulumi stack output --json -s dev.shop",
    );
    await run("verify", "dev", "--lane", "shop", "--outputs", "dev-outputs.json");
    // The other team ships the same image on its own schedule: its lane has its own files and gates.
    await run("release", "create", "--lane", "payments", "--image", `podinfo=${IMAGE}@${DIGEST}`, "--commit", COMMIT);
    await run("promote", "dev", "--lane", "payments", "--release", id);
    wait(20 * 60_000, "20 minutes later");
    await run("promote", "staging", "--lane", "shop");
    wait(45 * 60_000, "45 minutes later, the 1h soak has passed");
    await run("promote", "staging", "--lane", "shop");
    await run("verify", "staging", "--lane", "shop", "--outputs", "dev-outputs.json");
    write(
      "staging-outputs.json",
      deployedOutputs(dir, "shop", "staging"),
      "pulumi up -s staging.shop && pulumi stack output --json -s staging.shop",
    );
    await run("verify", "staging", "--lane", "shop", "--outputs", "staging-outputs.json");
    wait(24 * 3600_000, "a day later, the 24h soak has passed");
    await run("promote", "prod", "--lane", "shop");
    write("podinfo-trivy.json", trivyReport(now), `trivy image --format json ${IMAGE}@${DIGEST}`);
    await run("release", "scan", id, "--lane", "shop", "--image", "podinfo", "--report", "podinfo-trivy.json");
    actor = "Alice <alice@example.com>";
    await run("approve", "prod", "--lane", "shop", "--release", id);
    actor = CI;
    await run("promote", "prod", "--lane", "shop");
    write(
      "prod-pods.json",
      podsWithAStraggler("shop", "prod.shop", id),
      "pulumi up -s prod.shop && kubectl get pods -n shop -o json (one pod still runs the old digest)",
    );
    await run("verify", "prod", "--lane", "shop", "--pods", "prod-pods.json");
    await run("rollback", "prod", "--lane", "shop");
    await run("status");
    await run("status", "--lane", "shop");
    return 0;
  } finally {
    process.chdir(cwd);
    if (keep) console.log(`\n# kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the demo as a command (`npm run demo`): the exit code, and one line for an error. */
export function cli(argv: string[]): void {
  demo(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`demo: failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
