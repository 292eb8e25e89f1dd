import { z } from "zod";
import type { ConfigProblem } from "../lib/errors";
import { nameRecord } from "../lib/names";
import { customTimeoutsSchema, limitRangeSchema, quotaSchema } from "./schema";
import { SERVICE_FLAVOURS, SERVICE_TYPES } from "../lib/services";

/**
 * The platform contract: what a platform stack exports for each team (output `contract`, keyed by
 * team) and the team's stack reads through a StackReference. Plain data, no Pulumi import: the
 * team side validates it where it reads it, and nothing in a team stack branches on the cloud
 * except through it. It carries no credential: whoever can read a stack reference reads every
 * output of that stack (Pulumi has no per-output access control), so the kubeconfig uses exec
 * authentication with the reader's own identity.
 */

/** The contract versions this program reads. A platform exporting another version is refused. */
export const CONTRACT_VERSION = 2;

const annotations = z.record(z.string(), z.string());

/** A NetworkPolicy peer (ipBlock, namespace or pod selector), as the Kubernetes API takes it. */
const peer = z.record(z.string(), z.unknown());
/** A NetworkPolicy egress rule, as the Kubernetes API takes it. */
const egressRule = z.strictObject({
  to: z.array(peer).optional(),
  ports: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** One backing service as a team sees it: the same shape in every flavour and on every cloud. */
export const serviceBindingSchema = z.strictObject({
  type: z.enum(SERVICE_TYPES),
  flavour: z.enum(SERVICE_FLAVOURS),
  /** Secret in the team namespace with the keys url, host, port, username, password, database (and ca.crt with `caFile`). */
  secretName: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** TLS on the wire; the URL's scheme or sslmode says so too. */
  tls: z.boolean(),
  /** Where a bound pod finds the server's CA certificate (key ca.crt of the Secret, mounted there); null when the system roots verify it. */
  caFile: z.string().min(1).nullable(),
  /** What an in-cluster instance takes from the team's quota (null for managed and external). */
  footprint: z
    .strictObject({
      requests: z.record(z.string(), z.string()),
      limits: z.record(z.string(), z.string()),
      storage: z.string(),
      pods: z.number().int(),
      services: z.number().int(),
      persistentvolumeclaims: z.number().int(),
    })
    .nullable(),
});
export type ServiceBinding = z.infer<typeof serviceBindingSchema>;

export const teamContractSchema = z.strictObject({
  version: z.number().int(),
  /** The platform stack that exported it (`<env>.platform`). */
  platformStack: z.string().min(1),
  environment: z.string().min(1),
  production: z.boolean(),
  cloud: z.enum(["aws", "gcp", "existing"]),
  cluster: z.strictObject({
    /** Where the cluster is: `<cloud>/<region or context>/<name>`, as `verify` compares it. */
    identity: z.string().min(1),
    name: z.string().min(1),
  }),
  /** Kubeconfig with exec authentication (no token); null for a cluster reached through a context. */
  kubeconfig: z.string().min(1).nullable(),
  /** The kubeconfig context, for a cluster reached through the ambient kubeconfig. */
  context: z.string().min(1).nullable(),
  /** Decides whether the provider talks to another cluster; a rotated kubeconfig does not replace objects. */
  clusterIdentifier: z.string().min(1),
  namespace: z.string().min(1),
  podSecurity: z.enum(["restricted", "baseline"]),
  /** The Kubernetes minor of the cluster (Pod Security labels are pinned to it). */
  kubernetesVersion: z.string(),
  quota: quotaSchema,
  limits: limitRangeSchema,
  storageClasses: z.strictObject({ names: z.array(z.string().min(1)).min(1), default: z.string().min(1) }),
  /** PriorityClass name of each tier. */
  priorityClasses: z.strictObject({ critical: z.string().min(1), standard: z.string().min(1), low: z.string().min(1) }),
  ingress: z.strictObject({
    className: z.string().nullable(),
    annotations,
    /** NetworkPolicy peers through which ingress traffic reaches pods. */
    allowFrom: z.array(peer),
    /** Annotations on the Service behind an Ingress (e.g. NEGs on GKE). */
    serviceAnnotations: annotations,
    /** Ingress annotation names the load balancer reads its health check from, where it needs them. */
    healthCheck: z.strictObject({ pathAnnotation: z.string(), portAnnotation: z.string() }).nullable(),
    /**
     * Per host the team may serve: annotations that select its certificate and address, and where
     * the certificate lives: `secret` (a TLS Secret, `<app>-tls` unless the app names one), `host`
     * (the controller finds it by host, `spec.tls` without a Secret) or `annotation` (no `spec.tls`).
     */
    hosts: nameRecord(z.strictObject({ annotations, tls: z.enum(["secret", "host", "annotation"]) })),
  }),
  registry: z.strictObject({
    /** Mirror prefix per upstream registry host: `ghcr.io/x@sha256:...` is pulled as `<prefix>/x@sha256:...`. */
    mirrors: z.record(z.string(), z.string()),
  }),
  /** Registry prefixes the cluster's admission policy lets the team's pods pull from. */
  allowedRegistries: z.array(z.string()),
  /** Cloud identities the team may bind: ServiceAccount annotations, who may use them, and the egress they need. */
  identities: nameRecord(
    z.strictObject({ annotations, serviceAccounts: z.array(z.string()), egress: z.array(egressRule) }),
  ),
  /** The environment's default timeouts of Kubernetes resources. */
  customTimeouts: customTimeoutsSchema,
  /** Which monitor and rule kinds the team renders for its apps' `metrics` and `slo` (version 2). */
  monitoring: z.enum(["prometheus-operator", "gmp", "none"]),
  /**
   * Backing services granted to the team, by name: where the binding's Secret is and what it
   * connects to. Never a credential: user, password and URL are only in the Secret.
   */
  services: nameRecord(serviceBindingSchema),
  /**
   * How the team's members reach the cluster, per group: on EKS the IAM role ARN they sign in as
   * (an IAM Identity Center permission-set role mapped with `groupRoles`, or the role they assume),
   * on GKE the Google Group (with `roles/container.clusterViewer` on the project). Empty for an
   * existing cluster. Optional in version 1: a platform deployed before it exports none.
   */
  access: z.strictObject({ groups: z.record(z.string(), z.string()) }).optional(),
});
export type TeamContract = z.infer<typeof teamContractSchema>;

/**
 * Why a platform stack's outputs could not be read: the stack does not exist (or was never
 * deployed), the reader may not read it, the reader cannot decrypt its secrets (the `contract`
 * output is secret), or the backend could not be reached. Each needs a different fix.
 */
export type ReadFailure = "missing" | "forbidden" | "decrypt" | "network" | "error";

/** How the team side found the platform's `contract` output. */
export type ContractLookup =
  | { readonly found: false; readonly failure?: ReadFailure; readonly detail?: string }
  | { readonly found: true; readonly value: unknown };

/**
 * What kind of failure an error reading a stack reference is, from its message as the Pulumi
 * engine and backends word it: `unknown stack "<name>"` (pulumi/pulumi#19202) or HTTP 404 for a
 * missing stack, HTTP 401/403 for a reader without access, a secrets-manager or passphrase error
 * for one that cannot decrypt, and socket errors for the network.
 */
export function classifyReadFailure(message: string): ReadFailure {
  const m = message.toLowerCase();
  if (/passphrase|decrypt|secrets manager|secrets provider|kms|cloudkms|key ?vault|no key/.test(m)) return "decrypt";
  if (/\[40[13]\]|forbidden|unauthori[sz]ed|access denied|permission denied|not authorized|accessdenied/.test(m))
    return "forbidden";
  if (/unknown stack|\[404\]|not found|does not exist|no such stack/.test(m)) return "missing";
  if (
    /econnrefused|econnreset|etimedout|enotfound|eai_again|dial tcp|connection refused|timeout|timed out|no such host|network|tls handshake|socket hang up/.test(
      m,
    )
  )
    return "network";
  return "error";
}

const FAILURE_HINT: Readonly<Record<ReadFailure, (stack: string) => string>> = {
  missing: (stack) =>
    `it does not exist or was never deployed (run \`pulumi up\` in ${stack} first, or set blueprint:platformStack)`,
  forbidden: (stack) =>
    `you may not read it: a team stack needs read access to ${stack} in the state backend (a Pulumi Cloud team with read permission on the stack, or read access to the backend's bucket)`,
  decrypt: (stack) =>
    `its output "contract" is secret and cannot be decrypted: a team stack needs the platform's secrets provider (the passphrase, or decrypt permission on the KMS key ${stack} uses), never cloud-admin credentials`,
  network: () =>
    "the state backend could not be reached (network error): check the connection and `pulumi login`, then run again",
  error: () => "the read failed",
};

/**
 * Validates the contract a platform stack exported for `team`. Returns the contract or the
 * problems, each naming the platform stack, so a team knows whose output to fix or re-run.
 */
export function readContract(
  lookup: ContractLookup,
  team: string,
  platformStack: string,
  key: string,
): { contract?: TeamContract; problems: ConfigProblem[] } {
  const fail = (message: string) => ({ problems: [{ key, message }] });
  if (!lookup.found && lookup.failure !== undefined && lookup.failure !== "missing") {
    return fail(
      `names the platform stack "${platformStack}", whose outputs could not be read: ${FAILURE_HINT[lookup.failure](platformStack)}${lookup.detail ? ` (${lookup.detail})` : ""}`,
    );
  }
  if (!lookup.found || lookup.value === undefined || lookup.value === null) {
    return fail(
      `names the platform stack "${platformStack}", which has no output "contract": ${FAILURE_HINT.missing(platformStack)}`,
    );
  }
  if (typeof lookup.value !== "object" || Array.isArray(lookup.value))
    return fail(`names the platform stack "${platformStack}", whose output "contract" is not a map of teams`);
  const byTeam = lookup.value as Record<string, unknown>;
  if (!Object.hasOwn(byTeam, team)) {
    const known = Object.keys(byTeam).sort();
    return fail(
      `names team "${team}", which the platform stack "${platformStack}" does not provision (teams: ${known.join(", ") || "none"}); add it to blueprint:teams of ${platformStack}`,
    );
  }
  const raw = byTeam[team] as { version?: unknown } | null;
  const version = raw && typeof raw === "object" ? raw.version : undefined;
  if (version !== CONTRACT_VERSION) {
    return fail(
      `reads contract version ${CONTRACT_VERSION}, but the platform stack "${platformStack}" exports version ${JSON.stringify(version)} for team "${team}": ${typeof version === "number" && version > CONTRACT_VERSION ? "upgrade this program" : "run `pulumi up` in the platform stack with this program's version"}`,
    );
  }
  const parsed = teamContractSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      `reads a contract from the platform stack "${platformStack}" that is not valid: ${issue.path.join(".") || "(root)"} ${issue.message}`,
    );
  }
  return { contract: parsed.data, problems: [] };
}
