import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../helpers/program";
import { main } from "../../promotion/cli";
import { clusterIdentity, readPointer, writePointer } from "../../promotion/pointer";
import type { Registry } from "../../promotion/registry";
import { openWorkspace, type Deps, type Workspace } from "../../promotion/workspace";

/** `sha256:` and 64 times `c`: digests tests invent. */
export const digest = (c: string): string => `sha256:${c.repeat(64)}`;
export const COMMIT_A = "1".repeat(40);
export const COMMIT_B = "2".repeat(40);
export const PODINFO = "ghcr.io/stefanprodan/podinfo";

/**
 * A temporary copy of the project's Pulumi.yaml and stack files (never the real ones), without
 * releases or history, and with no release id in any pointer (as before any promotion), so tests
 * do not depend on what the shipped stacks were last promoted to. `stages` replaces stacks/stages.yaml.
 */
export function tempProject(stages?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
  made.push(dir);
  fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.mkdirSync(path.join(dir, "stacks"));
  for (const f of fs.readdirSync(path.join(PROJECT_DIR, "stacks"))) {
    if (/^Pulumi\..+\.yaml$/.test(f) || f === "stages.yaml") fs.copyFileSync(path.join(PROJECT_DIR, "stacks", f), path.join(dir, "stacks", f));
  }
  if (stages !== undefined) fs.writeFileSync(path.join(dir, "stacks", "stages.yaml"), stages);
  for (const f of fs.readdirSync(path.join(dir, "stacks")).filter((x) => x.startsWith("Pulumi."))) {
    const file = path.join(dir, "stacks", f);
    const { pointer } = readPointer(file, f);
    if (pointer?.id !== undefined) writePointer(file, f, pointer, { images: pointer.images });
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
  readonly ws: () => Workspace;
  readonly clock: FakeClock;
  readonly registry: FakeRegistry;
  readonly out: string[];
  actor: string;
  deps(): Deps;
  /** Runs the CLI in the project copy; returns the exit code (output in `out`). */
  cli(...argv: string[]): Promise<number>;
  stackText(stack: string): string;
}

export function harness(stages?: string): Harness {
  const dir = tempProject(stages);
  const h: Harness = {
    dir,
    ws: () => openWorkspace(dir),
    clock: new FakeClock(),
    registry: new FakeRegistry(),
    out: [],
    actor: "Release Bot <ci@example.com>",
    deps: () => ({ now: h.clock.now, actor: () => h.actor, registry: h.registry, out: (l) => h.out.push(l) }),
    cli: (...argv) => main(argv, { projectDir: dir, deps: h.deps(), vars: {} }),
    stackText: (stack) => fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8"),
  };
  return h;
}

/**
 * Outputs JSON as `pulumi stack output --json -s <stack>` prints it for a stack running `releaseId`
 * with `ref`: the stack and cluster identity come from the project copy's stack file, as the program
 * computes them; `origin` overrides them (evidence from elsewhere).
 */
export function outputsJson(dir: string, name: string, releaseId: string | null, ref: string, stack: string, origin: { stack?: string; cluster?: string | null } = {}): string {
  const file = path.join(dir, name);
  const stackFile = path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
  const cluster = origin.cluster === undefined ? clusterIdentity(readPointer(stackFile, stack).cluster, "blueprint", stack) : origin.cluster ?? undefined;
  fs.writeFileSync(file, JSON.stringify({ stack: origin.stack ?? stack, cluster, releaseId, images: { frontend: ref, backend: ref }, cloud: "existing" }));
  return file;
}

/** Pods JSON as `kubectl get pods -o json` prints it. */
export function podsJson(dir: string, name: string, pods: { name: string; imageID: string; version?: string; managed?: boolean; stack?: string | null }[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: pods.map((p) => ({
      metadata: {
        name: p.name,
        namespace: "shop",
        labels: { ...(p.managed === false ? {} : { "app.kubernetes.io/managed-by": "pulumi" }), ...(p.version ? { "app.kubernetes.io/version": p.version } : {}) },
        ...(p.stack === null ? {} : { annotations: { "blueprint.dev/stack": p.stack ?? "dev" } }),
      },
      status: { phase: "Running", containerStatuses: [{ name: "app", image: "ignored", imageID: p.imageID, ready: true }] },
    })),
  }));
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
  expect(await h.cli("verify", "dev", "--outputs", outputsJson(h.dir, `dev-${id}.json`, id, ref, "dev"))).toBe(0);
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
export function spawnCli(h: Harness, args: readonly string[], hook?: string, actor = "process test"): Promise<{ code: number | null; out: string }> {
  if (!fs.existsSync(path.join(h.dir, "node_modules"))) fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(h.dir, "node_modules"));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(hook ? ["--require", hook] : []), "--import", "tsx", path.join(PROJECT_DIR, "promotion/cli.ts"), ...args], {
      cwd: h.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BLUEPRINT_ACTOR: actor, NODE_PATH: path.join(PROJECT_DIR, "node_modules") },
    });
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
  fs.writeFileSync(file, JSON.stringify({ SchemaVersion: 2, CreatedAt: h.clock.now().toISOString(), ArtifactName: ref, Metadata: { RepoDigests: [ref] }, Results: [] }));
  expect(await h.cli("release", "scan", release, "--image", "podinfo", "--report", file)).toBe(0);
}
