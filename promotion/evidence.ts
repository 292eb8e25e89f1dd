import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DIGEST } from "../lib/images";
import { Refusal, UsageError } from "./errors";
import { MAX_PROBLEM_CHARS, MAX_PROBLEMS, type EvidenceSummary } from "./history";

/** The largest evidence file or live answer read; bigger input is refused before it is parsed. */
export const MAX_EVIDENCE_BYTES = 16 * 1024 * 1024;
/** Pod annotation naming the stack that deployed the pod (set on every pod template of the program). */
export const STACK_ANNOTATION = "blueprint.dev/stack";
/** Label on every pod this blueprint manages; other pods (system, other tools) are not evidence. */
const MANAGED = ["app.kubernetes.io/managed-by", "pulumi"] as const;

/** One image reference seen running (or declared deployed) somewhere. */
export interface SeenImage {
  /** Where it was seen, for messages: `outputs.images.web`, `pod shop/web-7d9 container app`. */
  readonly where: string;
  /** The reference or image ID as reported. */
  readonly ref: string;
}

/** One pod of pods evidence. */
export interface SeenPod {
  readonly where: string;
  /** The stack its annotation names (undefined when it has none). */
  readonly stack?: string;
  readonly images: readonly SeenImage[];
  /** Its `app.kubernetes.io/version` label: the release id it was deployed with. */
  readonly version?: string;
}

/** What one source says is deployed, and where it says it came from. */
export type Observation =
  | {
      readonly kind: "outputs";
      readonly source: string;
      readonly sha256: string;
      readonly bytes: number;
      readonly stack?: string;
      readonly cluster?: string;
      /** `undefined` when the outputs have no `releaseId` at all. */
      readonly releaseId?: string | null;
      readonly images: readonly SeenImage[];
    }
  | {
      readonly kind: "pods";
      readonly source: string;
      readonly sha256: string;
      readonly bytes: number;
      /** Pods labelled as managed by this blueprint (others are left out), not finished. */
      readonly pods: readonly SeenPod[];
    };

/** A reader of deployed state. Files and live readers implement it; tests use fakes. */
export interface EvidenceSource {
  readonly name: string;
  read(): Promise<Observation>;
}

/** What a stage should be running and where. */
export interface Expected {
  readonly stage: string;
  readonly stack: string;
  /** The cluster identity the stage's stack file implies (see {@link clusterIdentity}). */
  readonly cluster?: string;
  /** The stage of every other stack in stages.yaml, to name evidence from another stage. */
  readonly stageOfStack: ReadonlyMap<string, string>;
  readonly releaseId: string;
  /** The references it may report: the release's, and the ones pulled through the stage's registry (same digests). */
  readonly refs: readonly string[];
  /** Apps the stack file deploys; outputs must carry an image for each. */
  readonly apps: readonly string[];
}

/** The outcome of comparing one source with what the stage should run. */
export interface Checked {
  readonly summary: EvidenceSummary;
  /** Differences between what runs and the release: the only outcome recorded as a failed verification. */
  readonly problems: readonly string[];
}

/**
 * Checks that evidence comes from the stage, then compares it with the release. Evidence of another
 * stage is refused (exit 1), evidence that cannot be about this stage at all (no pods, no images,
 * another stack, not this program's outputs) is a usage error (exit 2); neither is recorded. Only a
 * difference between what runs there and the release comes back as `problems`.
 */
export function checkEvidence(obs: Observation, expected: Expected): Checked {
  return obs.kind === "outputs" ? checkOutputs(obs, expected) : checkPods(obs, expected);
}

function elsewhere(source: string, what: string, stack: string, expected: Expected): never {
  const other = expected.stageOfStack.get(stack);
  if (other !== undefined && other !== expected.stage) {
    throw new Refusal(
      expected.stage,
      "evidence",
      `${source}: ${what} stack ${stack}, which is stage ${other}, not ${expected.stage} (stack ${expected.stack}). Evidence of one stage never counts for another; nothing recorded. Save this stage's own: ${hint(expected)}`,
    );
  }
  throw new UsageError(
    `${source}: ${what} stack ${stack}, not ${expected.stack} (the stack of stage ${expected.stage}); nothing recorded`,
  );
}

function hint(e: Expected): string {
  return `pulumi stack output --json -s ${e.stack} > ${e.stage}-outputs.json`;
}

function checkOutputs(obs: Extract<Observation, { kind: "outputs" }>, expected: Expected): Checked {
  if (obs.stack === undefined)
    throw new UsageError(
      `${obs.source}: has no "stack" output, so it cannot show which stage it came from (outputs of a deployment made before this version? run pulumi up, then ${hint(expected)}); nothing recorded`,
    );
  if (obs.stack !== expected.stack) elsewhere(obs.source, "is the outputs of", obs.stack, expected);
  if (expected.cluster !== undefined && obs.cluster !== expected.cluster) {
    throw new Refusal(
      expected.stage,
      "evidence",
      `${obs.source}: comes from cluster ${JSON.stringify(obs.cluster ?? null)}, but stage ${expected.stage}'s stack file deploys to ${expected.cluster}; nothing recorded`,
    );
  }
  if (obs.releaseId === undefined)
    throw new UsageError(
      `${obs.source}: has no "releaseId" output; is it \`pulumi stack output --json -s ${expected.stack}\` of this project? nothing recorded`,
    );
  if (obs.images.length === 0) throw new UsageError(`${obs.source}: reports no images; nothing recorded`);
  const problems: string[] = [];
  if (obs.releaseId !== expected.releaseId)
    problems.push(`${obs.source}: releaseId is ${JSON.stringify(obs.releaseId)}, expected "${expected.releaseId}"`);
  const refs = new Set(expected.refs);
  for (const seen of obs.images) {
    if (!refs.has(seen.ref))
      problems.push(
        `${obs.source}: ${seen.where} is ${seen.ref}, which is not an image of release ${expected.releaseId} (${[...refs].join(", ")})`,
      );
  }
  const reported = new Set(obs.images.map((i) => i.where.slice("outputs.images.".length)));
  for (const app of expected.apps)
    if (!reported.has(app)) problems.push(`${obs.source}: has no image for app ${app}, which the stack file deploys`);
  return {
    problems,
    summary: {
      source: obs.source,
      sha256: obs.sha256,
      bytes: obs.bytes,
      stack: obs.stack,
      ...(obs.cluster ? { cluster: obs.cluster } : {}),
      images: obs.images.length,
    },
  };
}

function checkPods(obs: Extract<Observation, { kind: "pods" }>, expected: Expected): Checked {
  if (obs.pods.length === 0)
    throw new UsageError(`${obs.source}: has no running pods labelled ${MANAGED[0]}=${MANAGED[1]}; nothing recorded`);
  const mine = obs.pods.filter((p) => p.stack === expected.stack);
  if (mine.length === 0) {
    const stacks = [...new Set(obs.pods.map((p) => p.stack).filter((s): s is string => s !== undefined))];
    const ofStage = stacks.find((s) => expected.stageOfStack.has(s));
    if (ofStage !== undefined)
      elsewhere(
        obs.source,
        `has ${obs.pods.length} pod(s), none of stack ${expected.stack}; they are of`,
        ofStage,
        expected,
      );
    if (stacks.length > 0) elsewhere(obs.source, "has pods of", stacks[0], expected);
    throw new UsageError(
      `${obs.source}: none of its ${obs.pods.length} pod(s) has the ${STACK_ANNOTATION} annotation, so they cannot show which stage they belong to (deployed before this version? run pulumi up -s ${expected.stack}); nothing recorded`,
    );
  }
  const problems: string[] = [];
  const digests = new Set(expected.refs.map((r) => r.slice(r.indexOf("@") + 1)));
  let images = 0;
  for (const pod of mine) {
    if (pod.images.length === 0)
      problems.push(`${obs.source}: ${pod.where} has no container status (not started yet?)`);
    for (const seen of pod.images) {
      images++;
      const digest = digestIn(seen.ref);
      if (!digest)
        problems.push(
          `${obs.source}: ${seen.where} has image ID ${JSON.stringify(seen.ref)} with no sha256 digest (not pulled yet?)`,
        );
      else if (!digests.has(digest))
        problems.push(
          `${obs.source}: ${seen.where} runs ${digest}, which is not a digest of release ${expected.releaseId} (${[...digests].join(", ")})`,
        );
    }
    if (pod.version !== undefined && pod.version !== expected.releaseId)
      problems.push(
        `${obs.source}: ${pod.where} has app.kubernetes.io/version ${JSON.stringify(pod.version)}, expected "${expected.releaseId}"`,
      );
  }
  return {
    problems,
    summary: {
      source: obs.source,
      sha256: obs.sha256,
      bytes: obs.bytes,
      stack: expected.stack,
      pods: mine.length,
      images,
    },
  };
}

/** The problems a record keeps: the first {@link MAX_PROBLEMS}, each cut to {@link MAX_PROBLEM_CHARS}. */
export function boundedProblems(problems: readonly string[]): string[] {
  return problems.slice(0, MAX_PROBLEMS).map((p) => {
    const clean = p.replace(CONTROL, "?");
    return clean.length > MAX_PROBLEM_CHARS ? `${clean.slice(0, MAX_PROBLEM_CHARS - 1)}…` : clean;
  });
}

/** The `sha256:<64 hex>` an image ID carries (`repo@sha256:...`, `docker-pullable://repo@sha256:...`). */
function digestIn(imageId: string): string | undefined {
  const at = imageId.lastIndexOf("@");
  if (at < 0) return undefined;
  const d = imageId.slice(at + 1);
  return DIGEST.test(d) ? d : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
/**
 * A value from the input as messages and records show it: control characters (which JSON would
 * write as six-byte escapes) replaced, and cut short (the input is untrusted and may be huge).
 */
const shown = (v: string): string => {
  const clean = v.replace(CONTROL, "?");
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean;
};
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Parses the JSON of `pulumi stack output --json`. */
export function observeOutputs(json: unknown, source: string, raw: { sha256: string; bytes: number }): Observation {
  if (!isObject(json))
    throw new UsageError(`${source}: expected the JSON object of \`pulumi stack output --json\`; nothing recorded`);
  if (!isObject(json.images))
    throw new UsageError(
      `${source}: has no "images" output (app -> image); is it the output of \`pulumi stack output --json\` for this project? nothing recorded`,
    );
  const images = Object.entries(json.images).map(([app, ref]) => {
    if (typeof ref !== "string")
      throw new UsageError(`${source}: images.${shown(app)} is not a string; nothing recorded`);
    return { where: `outputs.images.${shown(app)}`, ref: shown(ref) };
  });
  const releaseId =
    json.releaseId === undefined
      ? undefined
      : json.releaseId === null
        ? null
        : typeof json.releaseId === "string"
          ? shown(json.releaseId)
          : String(json.releaseId).slice(0, 100);
  const stack = str(json.stack);
  const cluster = str(json.cluster);
  return {
    kind: "outputs",
    source,
    ...raw,
    stack: stack && shown(stack),
    cluster: cluster && shown(cluster),
    releaseId,
    images,
  };
}

/** Parses the JSON of `kubectl get pods -o json`: each managed pod's stack and container image IDs. */
export function observePods(json: unknown, source: string, raw: { sha256: string; bytes: number }): Observation {
  if (!isObject(json) || !Array.isArray(json.items))
    throw new UsageError(
      `${source}: expected the JSON of \`kubectl get pods -o json\` (an object with "items"); nothing recorded`,
    );
  const pods: SeenPod[] = [];
  json.items.forEach((item, i) => {
    if (!isObject(item))
      throw new UsageError(
        `${source}: items[${i}] is ${item === null ? "null" : typeof item}, not a pod; nothing recorded`,
      );
    const meta = isObject(item.metadata) ? item.metadata : {};
    const labels = isObject(meta.labels) ? meta.labels : {};
    const annotations = isObject(meta.annotations) ? meta.annotations : {};
    const status = isObject(item.status) ? item.status : {};
    if (labels[MANAGED[0]] !== MANAGED[1] || status.phase === "Succeeded") return;
    const where = `pod ${shown(str(meta.namespace) ?? "?")}/${shown(str(meta.name) ?? "?")}`;
    const statuses = [
      ...(Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : []),
      ...(Array.isArray(status.containerStatuses) ? status.containerStatuses : []),
    ];
    const images = statuses.map((c) => ({
      where: `${where} container ${shown(str(isObject(c) ? c.name : undefined) ?? "?")}`,
      ref: shown(str(isObject(c) ? c.imageID : undefined) ?? ""),
    }));
    const stack = str(annotations[STACK_ANNOTATION]);
    const version = str(labels["app.kubernetes.io/version"]);
    pods.push({ where, stack: stack && shown(stack), images, version: version && shown(version) });
  });
  return { kind: "pods", source, ...raw, pods };
}

/** Reads an evidence file of at most {@link MAX_EVIDENCE_BYTES}; returns its JSON, hash and size. */
function readEvidenceFile(file: string, flag: string, given = file): { json: unknown; sha256: string; bytes: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${flag} ${given}: ${code === "ENOENT" ? "no such file" : `cannot be read (${code ?? (e as Error).message})`}`,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${flag} ${given}: not a regular file`);
    if (st.size > MAX_EVIDENCE_BYTES)
      throw new UsageError(
        `${flag} ${given}: ${(st.size / 1024 / 1024).toFixed(1)} MiB is more than the ${MAX_EVIDENCE_BYTES / 1024 / 1024} MiB an evidence file may have; select the stage's pods (kubectl get pods -n <namespace> -l ${MANAGED[0]}=${MANAGED[1]} -o json); nothing recorded`,
      );
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = fs.readSync(fd, buf, read, st.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return parseEvidence(buf.subarray(0, read), `${flag} ${given}`);
  } finally {
    fs.closeSync(fd);
  }
}

function parseEvidence(buf: Buffer, what: string): { json: unknown; sha256: string; bytes: number } {
  const sha256 = createHash("sha256").update(buf).digest("hex");
  try {
    return { json: JSON.parse(buf.toString("utf8")), sha256, bytes: buf.length };
  } catch (e) {
    throw new UsageError(`${what}: not valid JSON (${(e as Error).message.slice(0, 200)}); nothing recorded`);
  }
}

/** The name of a source in records and messages, cut to a bounded length. */
function sourceName(prefix: string, file: string): string {
  const name = `${prefix}:${file}`;
  return name.length > 200 ? `${name.slice(0, 199)}…` : name;
}

/** `--outputs FILE`: the saved JSON of `pulumi stack output --json -s <stack>`. */
export function outputsFile(file: string, base = process.cwd()): EvidenceSource {
  const name = sourceName("outputs", file);
  return {
    name,
    read: async () => {
      const r = readEvidenceFile(path.resolve(base, file), "--outputs", file);
      return observeOutputs(r.json, name, r);
    },
  };
}

/** `--pods FILE`: the saved JSON of `kubectl get pods -o json` (one namespace, or `-A`). */
export function podsFile(file: string, base = process.cwd()): EvidenceSource {
  const name = sourceName("pods", file);
  return {
    name,
    read: async () => {
      const r = readEvidenceFile(path.resolve(base, file), "--pods", file);
      return observePods(r.json, name, r);
    },
  };
}

/** Live evidence could not be read (no CLI, no cluster, no credentials). Nothing is recorded. */
export class SourceUnavailable extends Error {
  override readonly name = "SourceUnavailable";
}

/** `--live`: the stack's outputs read through the Pulumi Automation API (needs the `pulumi` CLI and a logged-in backend). */
export function liveStackOutputs(stack: string, workDir: string): EvidenceSource {
  const name = "live:pulumi";
  return {
    name,
    read: async () => {
      const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
      let outputs: Record<string, { value: unknown; secret: boolean }>;
      try {
        const s = await LocalWorkspace.selectStack({ stackName: stack, workDir });
        outputs = await s.outputs();
      } catch (e) {
        const msg = (e as Error).message;
        const why = /ENOENT/.test(msg)
          ? "the pulumi CLI is not installed or not on PATH"
          : (msg.split("\n").find((l) => l.trim()) ?? msg);
        throw new SourceUnavailable(
          `--live: cannot read the outputs of stack ${stack} through the Pulumi Automation API: ${why}. Install the CLI and log in, or save them and pass --outputs FILE (pulumi stack output --json -s ${stack} > ${stack}-outputs.json)`,
        );
      }
      const plain = Object.fromEntries(
        Object.entries(outputs)
          .filter(([, v]) => !v.secret)
          .map(([k, v]) => [k, v.value]),
      );
      const buf = Buffer.from(JSON.stringify(plain));
      return observeOutputs(plain, name, { sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length });
    },
  };
}

/** `--live`: pods read from the Kubernetes API (through kubectl and its kubeconfig/context). */
export function livePods(context: string | undefined, kubectl = "kubectl"): EvidenceSource {
  const name = `live:kubernetes${context ? `:${context.slice(0, 100)}` : ""}`;
  return {
    name,
    read: () =>
      new Promise((resolve, reject) => {
        const args = [
          "get",
          "pods",
          "--all-namespaces",
          "-l",
          `${MANAGED[0]}=${MANAGED[1]}`,
          "-o",
          "json",
          ...(context ? ["--context", context] : []),
        ];
        execFile(
          kubectl,
          args,
          { timeout: 60_000, maxBuffer: MAX_EVIDENCE_BYTES, encoding: "buffer" },
          (err, stdout, stderr) => {
            if (err) {
              const code = (err as NodeJS.ErrnoException).code;
              const why =
                code === "ENOENT"
                  ? "kubectl is not installed"
                  : code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
                    ? `the answer is more than ${MAX_EVIDENCE_BYTES / 1024 / 1024} MiB`
                    : (stderr.toString().trim().split("\n").pop() ?? err.message);
              reject(
                new SourceUnavailable(
                  `--live: cannot list pods through the Kubernetes API${context ? ` (context ${context})` : ""}: ${why}. Check the kubeconfig, or save them and pass --pods FILE (kubectl get pods -A -l ${MANAGED[0]}=${MANAGED[1]} -o json > pods.json)`,
                ),
              );
              return;
            }
            try {
              const r = parseEvidence(stdout, name);
              resolve(observePods(r.json, name, r));
            } catch (e) {
              reject(e);
            }
          },
        );
      }),
  };
}
