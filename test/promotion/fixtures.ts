import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { launch } from "../helpers/cli";
import { main } from "../../promotion/cli";
import { clusterIdentity, readPointer, writePointer } from "../../promotion/pointer";
import type { Registry } from "../../promotion/registry";
import { loadStages } from "../../promotion/stages";
import { openWorkspace, type Deps, type Workspace } from "../../promotion/workspace";

/** `sha256:` and 64 times `c`: digests tests invent. */
export const digest = (c: string): string => `sha256:${c.repeat(64)}`;
export const COMMIT_A = "1".repeat(40);
export const COMMIT_B = "2".repeat(40);
export const PODINFO = "ghcr.io/stefanprodan/podinfo";

/** The lanes of a test project: two teams, so that every test also shows the other lane untouched. */
export const LANES = ["shop", "payments"] as const;
/** The digest the shipped stacks pinned before promotion existed: a team stack's initial images. */
export const INITIAL = `${PODINFO}@sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e`;
/** The apps of each test lane, all on the image `podinfo`. */
export const APPS: Readonly<Record<string, readonly string[]>> = { shop: ["frontend", "backend"], payments: ["api"] };

/**
 * Writes a team stack file `stacks/Pulumi.<environment>.<team>.yaml` as the layered program reads it,
 * with a pointer holding images but no release id (as before any promotion).
 */
export function teamStackFile(
  dir: string,
  environment: string,
  team: string,
  apps: readonly string[] = APPS[team] ?? ["app"],
): string {
  const file = path.join(dir, "stacks", `Pulumi.${environment}.${team}.yaml`);
  fs.writeFileSync(
    file,
    [
      `# ${environment}, team ${team} (written by the promotion tests)`,
      "config:",
      "  blueprint:layer: team",
      `  blueprint:team: ${team}`,
      `  blueprint:production: ${environment.startsWith("prod")}`,
      "  blueprint:release:",
      "    images:",
      `      podinfo: ${INITIAL}`,
      "  blueprint:apps:",
      ...apps.flatMap((a) => [`    ${a}:`, "      image: podinfo", "      port: 9898"]),
      "",
    ].join("\n"),
  );
  return file;
}

/** Writes the platform stack file of an environment, with the cluster its team stacks' outputs name. */
export function platformStackFile(dir: string, environment: string): string {
  const file = path.join(dir, "stacks", `Pulumi.${environment}.platform.yaml`);
  fs.writeFileSync(
    file,
    `config:\n  blueprint:layer: platform\n  blueprint:production: ${environment.startsWith("prod")}\n  blueprint:cluster:\n    cloud: existing\n    existing:\n      context: kind-${environment}\n  blueprint:policy:\n    allowedRegistries: [ghcr.io]\n`,
  );
  return file;
}

/**
 * A temporary project: the project's Pulumi.yaml and stages.yaml (never its stack files), with a
 * platform stack and a team stack per lane written for every stage's environment, and no releases or
 * history. `stages` replaces stacks/stages.yaml; `lanes` chooses the teams.
 */
export function tempProject(stages?: string, lanes: readonly string[] = LANES): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
  made.push(dir);
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.mkdirSync(path.join(dir, "stacks"));
  const stagesFile = path.join(dir, "stacks", "stages.yaml");
  if (stages !== undefined) fs.writeFileSync(stagesFile, stages);
  else fs.copyFileSync(path.join(PROJECT_DIR, "stacks", "stages.yaml"), stagesFile);
  const environments = new Set<string>();
  try {
    for (const s of loadStages(stagesFile).ordered) environments.add(s.environment);
  } catch {
    // A test of a bad stages.yaml: no stack files are needed to see it refused.
  }
  for (const env of environments) {
    platformStackFile(dir, env);
    for (const lane of lanes) teamStackFile(dir, env, lane);
  }
  return dir;
}

const made: string[] = [];

/** Deletes the project copies this test file made (call from `afterAll`). */
export function removeTempProjects(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A clock that moves only when told. */
export class FakeClock {
  constructor(public current = new Date("2026-01-05T09:00:00.000Z")) {}
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A registry that holds a set of references; `copy` adds the target unless told to misbehave. */
export class FakeRegistry implements Registry {
  readonly present = new Set<string>();
  readonly copies: [string, string][] = [];
  unreachable = false;
  async has(ref: string): Promise<boolean> {
    if (this.unreachable) {
      const { RegistryError } = await import("../../promotion/registry");
      throw new RegistryError(`cannot read ${ref}: dial tcp: connection refused`);
    }
    return this.present.has(ref);
  }
  async copy(from: string, to: string): Promise<void> {
    this.copies.push([from, to]);
    this.present.add(to);
  }
  copyCommand(from: string, to: string): string {
    return `skopeo copy --all --preserve-digests docker://${from} docker://${to}`;
  }
}

/** A project copy with injected clock, actor and registry, and the lines commands printed. */
export interface Harness {
  readonly dir: string;
  /** The lane the harness works on: `cli` adds `--lane <lane>` unless the arguments name one. */
  readonly lane: string;
  readonly ws: () => Workspace;
  readonly clock: FakeClock;
  readonly registry: FakeRegistry;
  readonly out: string[];
  actor: string;
  deps(): Deps;
  /** Runs the CLI in the project copy, on the harness's lane; returns the exit code (output in `out`). */
  cli(...argv: string[]): Promise<number>;
  /** Runs the CLI with exactly these arguments (no `--lane` added). */
  cliRaw(...argv: string[]): Promise<number>;
  /** The text of the lane's stack file in an environment. */
  stackText(environment: string): string;
  /** The lane's stack file in an environment. */
  stackFile(environment: string): string;
  /** The folder of the lane's history chain of a stage. */
  historyDir(stage: string): string;
}

export function harness(stages?: string, lane: string = LANES[0], lanes: readonly string[] = LANES): Harness {
  return harnessIn(tempProject(stages, lanes), lane);
}

/**
 * A temporary copy of the project's Pulumi.yaml, stages.yaml and shipped stack files (never the real
 * ones), without releases or history and with no release id in any pointer (as before any
 * promotion): for tests that render the real program.
 */
export function shippedProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
  made.push(dir);
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.mkdirSync(path.join(dir, "stacks"));
  for (const f of fs.readdirSync(path.join(PROJECT_DIR, "stacks"))) {
    if (/^Pulumi\..+\.yaml$/.test(f) || f === "stages.yaml")
      fs.copyFileSync(path.join(PROJECT_DIR, "stacks", f), path.join(dir, "stacks", f));
  }
  for (const f of fs.readdirSync(path.join(dir, "stacks")).filter((x) => x.startsWith("Pulumi."))) {
    const file = path.join(dir, "stacks", f);
    const { pointer } = readPointer(file, f);
    if (pointer?.id !== undefined) writePointer(file, f, pointer, { images: pointer.images });
  }
  return dir;
}

/** A harness on the project copy in `dir`, working on `lane`. */
export function harnessIn(dir: string, lane: string = LANES[0]): Harness {
  const h: Harness = {
    dir,
    lane,
    ws: () => openWorkspace(dir, lane),
    clock: new FakeClock(),
    registry: new FakeRegistry(),
    out: [],
    actor: "Release Bot <ci@example.com>",
    deps: () => ({ now: h.clock.now, actor: () => h.actor, registry: h.registry, out: (l) => h.out.push(l) }),
    cli: (...argv) =>
      h.cliRaw(...argv, ...(argv.some((a) => a === "--lane" || a.startsWith("--lane=")) ? [] : ["--lane", lane])),
    cliRaw: (...argv) => main(argv, { projectDir: dir, deps: h.deps(), vars: {} }),
    stackFile: (environment) => path.join(dir, "stacks", `Pulumi.${environment}.${lane}.yaml`),
    stackText: (environment) => fs.readFileSync(h.stackFile(environment), "utf8"),
    historyDir: (stage) => path.join(dir, "stacks", "history", lane, stage),
  };
  return h;
}

/** A lane's stack in an environment; a name with a dot is already a stack name. */
const laneStack = (lane: string, stack: string) => (stack === "" || stack.includes(".") ? stack : `${stack}.${lane}`);

/**
 * Outputs JSON as `pulumi stack output --json -s <env>.<lane>` prints it for a team stack running
 * `releaseId` with `ref` for each of its apps: the stack and cluster identity come from the project
 * copy's stack files, as the programs compute them; `origin` overrides them (evidence from elsewhere).
 */
export function outputsJson(
  where: { dir: string; lane: string },
  name: string,
  releaseId: string | null,
  ref: string,
  environment: string,
  origin: { stack?: string; cluster?: string | null } = {},
): string {
  const { dir, lane } = where;
  const file = path.join(dir, name);
  const env = environment.split(".")[0];
  const platform = path.join(dir, "stacks", `Pulumi.${env}.platform.yaml`);
  const cluster =
    origin.cluster === undefined
      ? clusterIdentity(readPointer(platform, env).cluster, "blueprint", env)
      : (origin.cluster ?? undefined);
  const apps = readPointer(path.join(dir, "stacks", `Pulumi.${laneStack(lane, environment)}.yaml`), env).appImages;
  fs.writeFileSync(
    file,
    JSON.stringify({
      stack: laneStack(lane, origin.stack ?? environment),
      cluster,
      releaseId,
      images: Object.fromEntries(Object.keys(apps).map((a) => [a, ref])),
      cloud: "existing",
    }),
  );
  return file;
}

/** Pods JSON as `kubectl get pods -o json` prints it; a pod's `stack` without a dot is an environment of the lane. */
export function podsJson(
  where: { dir: string; lane: string },
  name: string,
  pods: { name: string; imageID: string; version?: string; managed?: boolean; stack?: string | null }[],
): string {
  const file = path.join(where.dir, name);
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: pods.map((p) => ({
        metadata: {
          name: p.name,
          namespace: where.lane,
          labels: {
            ...(p.managed === false ? {} : { "app.kubernetes.io/managed-by": "pulumi" }),
            ...(p.version ? { "app.kubernetes.io/version": p.version } : {}),
          },
          ...(p.stack === null
            ? {}
            : { annotations: { "blueprint.dev/stack": laneStack(where.lane, p.stack ?? "dev") } }),
        },
        status: {
          phase: "Running",
          containerStatuses: [{ name: "app", image: "ignored", imageID: p.imageID, ready: true }],
        },
      })),
    }),
  );
  return file;
}

/**
 * Creates a release and takes it through dev (promote, verify) so that it is ready for staging once
 * the soak has passed. Returns the release id.
 */
export async function releaseVerifiedInDev(h: Harness, c = "a", commit = COMMIT_A): Promise<string> {
  const ref = `${PODINFO}@${digest(c)}`;
  h.out.length = 0;
  expect(await h.cli("release", "create", "--image", `podinfo=${ref}`, "--commit", commit)).toBe(0);
  const id = /release (r-[0-9a-f]{12})/.exec(h.out.join("\n"))![1];
  expect(await h.cli("promote", "dev", "--release", id)).toBe(0);
  expect(await h.cli("verify", "dev", "--outputs", outputsJson(h, `dev-${id}.json`, id, ref, "dev"))).toBe(0);
  return id;
}

/** The output lines since the last call, joined. */
export function drain(h: Harness): string {
  const text = h.out.join("\n");
  h.out.length = 0;
  return text;
}

/**
 * Runs the CLI in its own node process in the project copy, optionally with a `--require` hook
 * (to kill or slow the process at a chosen moment). Resolves with the exit code (null when killed) and output.
 */
export function spawnCli(
  h: Harness,
  args: readonly string[],
  hook?: string,
  actor = "process test",
): Promise<{ code: number | null; out: string }> {
  if (!fs.existsSync(path.join(h.dir, "node_modules")))
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(h.dir, "node_modules"));
  return new Promise((resolve) => {
    const lane = args.includes("--lane") ? [] : ["--lane", h.lane];
    const child = spawn(
      process.execPath,
      [...(hook ? ["--require", hook] : []), ...launch("promotion/cli"), ...args, ...lane],
      {
        cwd: h.dir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          BLUEPRINT_ACTOR: actor,
          NODE_PATH: path.join(PROJECT_DIR, "node_modules"),
        },
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/**
 * Scans the release's image (`PODINFO@digest(c)`) with no findings, as a Trivy JSON report dated
 * now, and attaches it, so that the shipped vulnerability gates (prod, prod-gke) let it through.
 */
export async function attachCleanScan(h: Harness, release: string, c = "a"): Promise<void> {
  const ref = `${PODINFO}@${digest(c)}`;
  const file = path.join(h.dir, `trivy-${c}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: h.clock.now().toISOString(),
      ArtifactName: ref,
      Metadata: { RepoDigests: [ref] },
      Results: [],
    }),
  );
  expect(await h.cli("release", "scan", release, "--image", "podinfo", "--report", file)).toBe(0);
}
