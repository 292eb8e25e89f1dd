import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { DIGEST } from "../config/images";
import { UsageError } from "./errors";

/** One image reference seen running (or declared deployed) somewhere. */
export interface SeenImage {
  /** Where it was seen, for messages: `outputs.images.web`, `pod shop/web-7d9 container app`. */
  readonly where: string;
  /** The reference or image ID as reported. */
  readonly ref: string;
}

/** What one source says is deployed. */
export interface Observation {
  /** `outputs:<file>`, `pods:<file>`, `live:pulumi`, `live:kubernetes`. */
  readonly source: string;
  /** The release id the source reports, when it reports one. */
  readonly releaseId?: string | null;
  /** Whether `images` are references to compare whole (`ref`) or image IDs whose digest is what counts. */
  readonly match: "ref" | "digest";
  readonly images: readonly SeenImage[];
  /** Release ids found on pods (`app.kubernetes.io/version`), by where. */
  readonly versionLabels?: readonly SeenImage[];
}

/** A reader of deployed state. Files and live readers implement it; tests use fakes. */
export interface EvidenceSource {
  readonly name: string;
  read(): Promise<Observation>;
}

/** What a stage should be running: its release. */
export interface Expected {
  readonly releaseId: string;
  /** The references it may report: the release's, and the ones pulled through the stage's registry (same digests). */
  readonly refs: readonly string[];
}

/** Every way an observation differs from what the stage should run; empty when it matches. */
export function evidenceProblems(obs: Observation, expected: Expected): string[] {
  const problems: string[] = [];
  const refs = new Set(expected.refs);
  const digests = new Set(expected.refs.map((r) => r.slice(r.indexOf("@") + 1)));
  if (obs.releaseId !== undefined && obs.releaseId !== expected.releaseId) {
    problems.push(`${obs.source}: releaseId is ${JSON.stringify(obs.releaseId)}, expected "${expected.releaseId}"`);
  }
  if (obs.images.length === 0) problems.push(`${obs.source}: reports no images`);
  for (const seen of obs.images) {
    if (obs.match === "ref") {
      if (!refs.has(seen.ref)) problems.push(`${obs.source}: ${seen.where} is ${seen.ref}, which is not an image of release ${expected.releaseId} (${[...refs].join(", ")})`);
    } else {
      const digest = digestIn(seen.ref);
      if (!digest) problems.push(`${obs.source}: ${seen.where} has image ID "${seen.ref}" with no sha256 digest (not pulled yet?)`);
      else if (!digests.has(digest)) problems.push(`${obs.source}: ${seen.where} runs ${digest}, which is not a digest of release ${expected.releaseId} (${[...digests].join(", ")})`);
    }
  }
  for (const label of obs.versionLabels ?? []) {
    if (label.ref !== expected.releaseId) problems.push(`${obs.source}: ${label.where} has app.kubernetes.io/version "${label.ref}", expected "${expected.releaseId}"`);
  }
  return problems;
}

/** The `sha256:<64 hex>` an image ID carries (`repo@sha256:...`, `docker-pullable://repo@sha256:...`). */
function digestIn(imageId: string): string | undefined {
  const at = imageId.lastIndexOf("@");
  if (at < 0) return undefined;
  const d = imageId.slice(at + 1);
  return DIGEST.test(d) ? d : undefined;
}

/** Parses the JSON of `pulumi stack output --json`. */
export function observeOutputs(json: unknown, source: string): Observation {
  const o = json as { releaseId?: unknown; images?: unknown } | null;
  if (o === null || typeof o !== "object" || Array.isArray(o)) throw new UsageError(`${source}: expected the JSON object of \`pulumi stack output --json\``);
  if (o.images === undefined || o.images === null || typeof o.images !== "object") {
    throw new UsageError(`${source}: has no "images" output (app -> image); is it the output of \`pulumi stack output --json\` for this project?`);
  }
  const images = Object.entries(o.images as Record<string, unknown>).map(([app, ref]) => ({ where: `outputs.images.${app}`, ref: String(ref) }));
  return { source, releaseId: o.releaseId === undefined ? undefined : (o.releaseId as string | null), match: "ref", images };
}

interface PodList {
  items?: {
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
    status?: { phase?: string; containerStatuses?: { name?: string; imageID?: string }[]; initContainerStatuses?: { name?: string; imageID?: string }[] };
  }[];
}

/** Label on every pod this blueprint manages; other pods (system, other tools) are not evidence. */
const MANAGED = ["app.kubernetes.io/managed-by", "pulumi"] as const;

/** Parses the JSON of `kubectl get pods -o json`: each managed pod's container image IDs. */
export function observePods(json: unknown, source: string): Observation {
  const list = json as PodList | null;
  if (list === null || typeof list !== "object" || !Array.isArray(list.items)) throw new UsageError(`${source}: expected the JSON of \`kubectl get pods -o json\` (an object with "items")`);
  const images: SeenImage[] = [];
  const versionLabels: SeenImage[] = [];
  const pods = list.items.filter((p) => p.metadata?.labels?.[MANAGED[0]] === MANAGED[1] && p.status?.phase !== "Succeeded");
  for (const pod of pods) {
    const id = `pod ${pod.metadata?.namespace ?? "?"}/${pod.metadata?.name ?? "?"}`;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    if (statuses.length === 0) images.push({ where: `${id} (phase ${pod.status?.phase ?? "unknown"}, no container status)`, ref: "" });
    for (const c of statuses) images.push({ where: `${id} container ${c.name ?? "?"}`, ref: c.imageID ?? "" });
    const version = pod.metadata?.labels?.["app.kubernetes.io/version"];
    if (version !== undefined) versionLabels.push({ where: id, ref: version });
  }
  return { source, match: "digest", images, versionLabels };
}

function readJsonFile(file: string, flag: string): unknown {
  if (!fs.existsSync(file)) throw new UsageError(`${flag} ${file}: no such file`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${flag} ${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** `--outputs FILE`: the saved JSON of `pulumi stack output --json -s <stack>`. */
export function outputsFile(file: string): EvidenceSource {
  return { name: `outputs:${file}`, read: async () => observeOutputs(readJsonFile(file, "--outputs"), `outputs:${file}`) };
}

/** `--pods FILE`: the saved JSON of `kubectl get pods -o json` (one namespace, or `-A`). */
export function podsFile(file: string): EvidenceSource {
  return { name: `pods:${file}`, read: async () => observePods(readJsonFile(file, "--pods"), `pods:${file}`) };
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
        const why = /ENOENT/.test(msg) ? "the pulumi CLI is not installed or not on PATH" : msg.split("\n").find((l) => l.trim()) ?? msg;
        throw new SourceUnavailable(`--live: cannot read the outputs of stack ${stack} through the Pulumi Automation API: ${why}. Install the CLI and log in, or save them and pass --outputs FILE (pulumi stack output --json -s ${stack} > outputs.json)`);
      }
      const plain = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
      return observeOutputs(plain, name);
    },
  };
}

/** `--live`: pods read from the Kubernetes API (through kubectl and its kubeconfig/context). */
export function livePods(context: string | undefined, kubectl = "kubectl"): EvidenceSource {
  const name = `live:kubernetes${context ? `:${context}` : ""}`;
  return {
    name,
    read: () =>
      new Promise((resolve, reject) => {
        const args = ["get", "pods", "--all-namespaces", "-l", `${MANAGED[0]}=${MANAGED[1]}`, "-o", "json", ...(context ? ["--context", context] : [])];
        execFile(kubectl, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          if (err) {
            const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "kubectl is not installed" : (stderr.trim().split("\n").pop() ?? err.message);
            reject(new SourceUnavailable(`--live: cannot list pods through the Kubernetes API${context ? ` (context ${context})` : ""}: ${why}. Check the kubeconfig, or save them and pass --pods FILE (kubectl get pods -A -o json > pods.json)`));
            return;
          }
          try {
            resolve(observePods(JSON.parse(stdout), name));
          } catch (e) {
            reject(e);
          }
        });
      }),
  };
}
