import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "../lib/errors";
import { closest, nullPrototype, RESERVED_KEYS } from "../lib/names";
import { reservedNamespaceProblem } from "../lib/namespaces";
import {
  appSchema,
  customTimeoutsSchema,
  platformKeys,
  platformStackSchema,
  teamSchema,
  teamStackKeys,
  teamStackSchema,
  volumeSchema,
  type PlatformStackSchema,
  type TeamStackSchema,
} from "./schema";
import { validatePlatform, validateTeamStack, type PartialPlatform, type PartialTeam } from "./validate";
import { readContract, type ContractLookup, type TeamContract } from "./contract";
import {
  defaultPlatformStack,
  environmentOf,
  platformStackOf as stackNamePlatformOf,
  platformStackProblem,
  teamOf,
} from "../lib/stacks";

/** Config namespace of this project's keys (`blueprint:<key>`). */
export const NAMESPACE = "blueprint";
/** Folder of the stack files, as `stackConfigDir` in Pulumi.yaml says. */
export const STACK_CONFIG_DIR = "stacks";
/** Keys whose values are plain text, never JSON. */
const TEXT_KEYS = new Set(["kubeconfig"]);
/** Keys that hold secrets: set with `pulumi config set --secret`, and never echoed in messages. */
const SECRET_KEYS: ReadonlyMap<string, string> = new Map([
  ["secrets", "pulumi config set --secret --path 'secrets.<app>.<NAME>' <value>"],
  ["kubeconfig", "pulumi config set --secret kubeconfig < kubeconfig.yaml"],
  ["serviceUrls", "pulumi config set --secret --path 'serviceUrls.<team>.<service>' <url>"],
  [
    "backupStoreCredentials",
    "pulumi config set --secret --path 'backupStoreCredentials.accessKeyId' <id>` and `pulumi config set --secret --path 'backupStoreCredentials.secretAccessKey' <key>",
  ],
]);
/** Keys of Pulumi's own namespace that a stack sets. */
const PULUMI_KEYS = ["disable-default-providers", "tags"];
/**
 * Namespaces of the providers the program uses. Their keys configure only default providers,
 * which every stack disables, but a stack legitimately carries them: Pulumi ESC login
 * environments export `aws:`/`gcp:`/`kubernetes:` keys as stack config
 * (https://www.pulumi.com/docs/esc/environments/syntax/reserved-properties/pulumi-config/), and
 * `pulumi new` templates write `aws:region`. Refusing them would break such stacks for nothing.
 */
const PROVIDER_NAMESPACES = ["aws", "gcp", "kubernetes"];

/** Where a stack's config came from. */
interface StackOrigin {
  readonly project: string;
  readonly stack: string;
  /** The environment: the part of the stack name before the first dot (`dev` of `dev.shop`). */
  readonly environment: string;
  /** The stack file, for messages: `stacks/Pulumi.<stack>.yaml`. */
  readonly file: string;
  /** Config keys Pulumi marked secret (their values are wrapped in `pulumi.secret` before use). */
  readonly secretKeys: ReadonlySet<string>;
}

/** A platform stack's validated configuration. */
export interface PlatformConfig extends PlatformStackSchema, StackOrigin {}

/** A team stack's validated configuration and the platform contract it was checked against. */
export interface TeamStackConfig extends TeamStackSchema, StackOrigin {
  /** The stack whose `contract` output this stack reads. */
  readonly platformStack: string;
  readonly contract: TeamContract;
}

/** The layer of a stack: the platform (cluster, add-ons, namespaces) or one team's apps. */
export type Layer = "platform" | "team";

/** The stack file of a stack, relative to the project. */
export function stackFile(stack: string): string {
  return `${STACK_CONFIG_DIR}/Pulumi.${stack}.yaml`;
}

export { defaultPlatformStack, environmentOf, teamOf };

/** The stack's layer, from `blueprint:layer`; a missing or unknown one is a config error naming the file. */
export function stackLayer(raw: Readonly<Record<string, string>>, stack: string): Layer {
  const value = raw[`${NAMESPACE}:layer`];
  if (value === "platform" || value === "team") return value;
  const guess = teamOf(stack) === "platform" ? "platform" : "team";
  throw new ConfigError(stackFile(stack), [
    {
      key: `${NAMESPACE}:layer`,
      message: `${value === undefined ? "is required" : `must be "platform" or "team", got ${JSON.stringify(value)}`}: a platform stack (<env>.platform) holds the cluster and team namespaces, a team stack (<env>.<team>) a team's apps${value === undefined ? `; this one is probably \`blueprint:layer: ${guess}\`` : ""}`,
    },
  ]);
}

interface Parsed<T> {
  readonly values: Record<string, unknown>;
  readonly problems: ConfigProblem[];
  readonly data?: T;
}

/** Reads the `blueprint:` keys of one layer and parses them with the layer's schema; collects every problem. */
function parseKeys<T>(
  raw: Readonly<Record<string, string>>,
  keys: Readonly<Record<string, z.ZodType>>,
  schema: z.ZodType<T>,
  secretKeys: ReadonlySet<string>,
): Parsed<T> {
  const problems: ConfigProblem[] = [];
  const values: Record<string, unknown> = {};
  const known = Object.keys(keys);
  for (const [fullKey, text] of Object.entries(raw)) {
    const colon = fullKey.indexOf(":");
    const namespace = colon < 0 ? NAMESPACE : fullKey.slice(0, colon);
    const key = fullKey.slice(colon + 1);
    if (namespace !== NAMESPACE) {
      const problem = foreignKeyProblem(namespace, key, known);
      if (problem) problems.push({ key: fullKey, message: problem });
      continue;
    }
    if (!known.includes(key)) {
      const guess = closest(key, known);
      const other = OTHER_LAYER_KEYS.get(key);
      problems.push({
        key: fullKey,
        message: other
          ? `belongs in ${other}`
          : `is not a known key${guess ? `; did you mean ${NAMESPACE}:${guess}?` : ""} (allowed: ${known.map((k) => `${NAMESPACE}:${k}`).join(", ")})`,
      });
      continue;
    }
    values[key] = TEXT_KEYS.has(key) ? text : parseValue(text);
    const howToSet = SECRET_KEYS.get(key);
    if (howToSet && !secretKeys.has(fullKey)) {
      problems.push({
        key: fullKey,
        message: `holds secrets but is stored in clear in the stack file: remove it and set each value with \`${howToSet}\``,
      });
    }
    problems.push(...reservedKeys(values[key], [key]));
  }
  const result = schema.safeParse(values);
  if (!result.success) for (const issue of result.error.issues) problems.push(describeIssue(issue, values, schema));
  return { values, problems, data: result.success ? result.data : undefined };
}

/** Keys a stack of the other layer takes, and where they go instead. */
const OTHER_LAYER_KEYS: ReadonlyMap<string, string> = new Map([
  ["apps", "a team stack (<env>.<team>), not in the platform stack"],
  ["release", "a team stack (<env>.<team>): each team has its own release pointer"],
  ["volumes", "a team stack (<env>.<team>), not in the platform stack"],
  ["secrets", "a team stack (<env>.<team>), not in the platform stack"],
  ["cluster", "the platform stack (<env>.platform), not in a team stack"],
  ["teams", "the platform stack (<env>.platform), not in a team stack"],
  ["platform", "the platform stack (<env>.platform), not in a team stack"],
  ["policy", "the platform stack (<env>.platform), not in a team stack"],
  ["observability", "the platform stack (<env>.platform), not in a team stack"],
  ["kubeconfig", "the platform stack (<env>.platform): a team stack reaches the cluster through the contract"],
  [
    "serviceUrls",
    "the platform stack (<env>.platform): it writes each service's credentials to a Secret in the team namespace",
  ],
  ["backupStoreCredentials", "the platform stack (<env>.platform): its Velero writes the volume backups"],
]);

/**
 * Parses and validates a platform stack from a flat `namespace:key -> string` map (as Pulumi
 * passes config to a program). Throws one {@link ConfigError} listing every problem.
 */
export function parsePlatform(
  raw: Readonly<Record<string, string>>,
  stack: string,
  project: string,
  secretKeys: ReadonlySet<string> = new Set(),
): PlatformConfig {
  const file = stackFile(stack);
  const parsed = parseKeys(raw, platformKeys, platformStackSchema, secretKeys);
  const problems = [...parsed.problems];
  const team = teamOf(stack);
  if (team !== undefined && team !== "platform") {
    problems.push({
      key: `${NAMESPACE}:layer`,
      message: `is "platform", but the stack "${stack}" is named as a team stack: name a platform stack <env>.platform`,
    });
  }
  // Cross-field rules still run on the parts that parsed, so one run reports every problem.
  problems.push(...validatePlatform(parsed.data ?? platformParts(parsed.values)));
  if (problems.length > 0 || !parsed.data) throw new ConfigError(file, problems);
  return { ...parsed.data, project, stack, environment: environmentOf(stack), file, secretKeys };
}

/**
 * Parses and validates a team stack. With the platform's `contract` output (`lookup`), the rules
 * that cross the layers run too; a missing platform stack, a platform that does not know the team
 * or a contract version this program does not read are refused, naming the platform stack. Throws
 * one {@link ConfigError} listing every problem.
 */
export function parseTeam(
  raw: Readonly<Record<string, string>>,
  stack: string,
  project: string,
  secretKeys: ReadonlySet<string>,
  lookup: ContractLookup,
): TeamStackConfig {
  const file = stackFile(stack);
  const parsed = parseKeys(raw, teamStackKeys, teamStackSchema, secretKeys);
  const problems = [...parsed.problems];
  const values = parsed.data ?? teamParts(parsed.values);
  const expected = teamOf(stack);
  if (parsed.data && parsed.data.team !== expected) {
    problems.push({
      key: `${NAMESPACE}:team`,
      message: `must be "${expected ?? "<team>"}", the part of the stack name "${stack}" after the first dot (team stacks are named <env>.<team>), got "${parsed.data.team}"`,
    });
  }
  const platformStack = platformStackOf(raw, stack);
  const team = typeof parsed.values.team === "string" ? parsed.values.team : (expected ?? stack);
  const crossed = platformStackProblem(stack, platformStack);
  if (crossed) problems.push({ key: `${NAMESPACE}:platformStack`, message: `names "${platformStack}": ${crossed}` });
  const { contract: read, problems: contractProblems } = crossed
    ? { contract: undefined, problems: [] }
    : readContract(
        lookup,
        team,
        platformStack,
        `${NAMESPACE}:${raw[`${NAMESPACE}:platformStack`] !== undefined ? "platformStack" : "team"}`,
      );
  problems.push(...contractProblems);
  const ownership = read ? contractOwnershipProblems(read, stack, team, platformStack) : [];
  problems.push(...ownership);
  const contract = ownership.length === 0 ? read : undefined;
  problems.push(
    ...validateTeamStack(
      values,
      contract,
      platformStack,
      parsed.data ? undefined : { images: new Set(Object.keys(asObject(asObject(parsed.values.release).images))) },
    ),
  );
  if (problems.length > 0 || !parsed.data || !contract) throw new ConfigError(file, problems);
  return {
    ...parsed.data,
    project,
    stack,
    environment: environmentOf(stack),
    file,
    secretKeys,
    platformStack,
    contract,
  };
}

/** The platform stack a team stack reads: `blueprint:platformStack`, else `<env>.platform` (lib/stacks.ts). */
export function platformStackOf(raw: Readonly<Record<string, string>>, stack: string): string {
  return stackNamePlatformOf(raw, stack);
}

/**
 * A contract belongs to one environment and one team: the environment it names must be the team
 * stack's, and its namespace the team's own, never a namespace Kubernetes or the cloud uses.
 */
function contractOwnershipProblems(
  contract: TeamContract,
  stack: string,
  team: string,
  platformStack: string,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const key = `${NAMESPACE}:platformStack`;
  if (contract.environment !== environmentOf(stack)) {
    out.push({
      key,
      message: `reads a contract of environment "${contract.environment}" from "${platformStack}", but the team stack "${stack}" belongs to environment "${environmentOf(stack)}": a team stack reads its own environment's platform`,
    });
  }
  if (contract.namespace !== team) {
    out.push({
      key,
      message: `reads a contract from "${platformStack}" whose namespace is "${contract.namespace}", not the team's own "${team}": refused`,
    });
  } else {
    const reserved = reservedNamespaceProblem(contract.namespace, { cloud: contract.cloud });
    if (reserved)
      out.push({
        key,
        message: `reads a contract from "${platformStack}" whose namespace is a system namespace: ${reserved}`,
      });
  }
  return out;
}

/**
 * Why a key outside the project's namespace is refused, or undefined when it is allowed. A
 * misspelt namespace (`blueprnt:apps`) would otherwise be ignored, and the stack deployed without
 * the apps it names.
 */
function foreignKeyProblem(namespace: string, key: string, known: readonly string[]): string | undefined {
  if (PROVIDER_NAMESPACES.includes(namespace)) return undefined;
  if (namespace === "pulumi") {
    if (PULUMI_KEYS.includes(key)) return undefined;
    const guess = closest(key, PULUMI_KEYS);
    return `is not a Pulumi setting this project uses${guess ? `; did you mean pulumi:${guess}?` : ""} (allowed: ${PULUMI_KEYS.map((k) => `pulumi:${k}`).join(", ")})`;
  }
  const ns = closest(namespace, [NAMESPACE, "pulumi", ...PROVIDER_NAMESPACES]);
  const guess = ns === NAMESPACE ? `${NAMESPACE}:${closest(key, known) ?? key}` : ns ? `${ns}:${key}` : undefined;
  return `is in namespace "${namespace}", which this program does not read${guess ? `; did you mean ${guess}?` : ""} (namespaces: ${NAMESPACE}, pulumi, ${PROVIDER_NAMESPACES.join(", ")})`;
}

/** Names anywhere in a value that cannot be keys ({@link RESERVED_KEYS}). */
function reservedKeys(value: unknown, path: string[]): ConfigProblem[] {
  if (value === null || typeof value !== "object") return [];
  const out: ConfigProblem[] = [];
  for (const [k, v] of Object.entries(value)) {
    const why = RESERVED_KEYS.get(k);
    if (why)
      out.push({
        key: `${NAMESPACE}:${[...path, k].join(".")}`,
        message: `cannot be used as a name: ${why}; choose another name`,
      });
    else out.push(...reservedKeys(v, [...path, k]));
  }
  return out;
}

function part<T>(schema: z.ZodType<T>, v: unknown): T | undefined {
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}

function entries<T>(schema: z.ZodType<T>, v: unknown): Record<string, T> {
  return nullPrototype(
    Object.entries(asObject(v)).flatMap(([k, x]) => {
      const r = schema.safeParse(x);
      return r.success ? [[k, r.data] as const] : [];
    }),
  );
}

/** The platform keys (and, for maps, the entries) that are schema-valid on their own. */
function platformParts(values: Record<string, unknown>): PartialPlatform {
  const platform = part(platformKeys.platform, values.platform);
  const rawBackups = (values.platform as { volumeBackups?: { objectStore?: unknown } } | undefined)?.volumeBackups;
  return {
    // The object store's own schema problem is reported; the rules that read it would only guess.
    objectStoreUnreadable: platform === undefined && rawBackups?.objectStore !== undefined,
    cluster: part(platformKeys.cluster, values.cluster),
    production: part(platformKeys.production, values.production) ?? false,
    platform: platform ?? platformKeys.platform.parse(undefined),
    teams: entries(teamSchema, values.teams),
    kubeconfig: part(platformKeys.kubeconfig, values.kubeconfig),
    policy: part(platformKeys.policy, values.policy) ?? { allowedRegistries: [] },
    observability:
      part(platformKeys.observability, values.observability) ?? platformKeys.observability.parse(undefined),
    serviceUrls: part(platformKeys.serviceUrls, values.serviceUrls) ?? platformKeys.serviceUrls.parse(undefined),
    backupStoreCredentials: part(platformKeys.backupStoreCredentials, values.backupStoreCredentials),
  };
}

/** The team-stack keys (and, for maps, the entries) that are schema-valid on their own. */
function teamParts(values: Record<string, unknown>): PartialTeam {
  return {
    team: part(teamStackKeys.team, values.team) ?? "",
    production: part(teamStackKeys.production, values.production) ?? false,
    platformStack: part(teamStackKeys.platformStack, values.platformStack),
    release: part(teamStackKeys.release, values.release) ?? { images: nullPrototype([]) },
    apps: entries(appSchema, values.apps),
    volumes: entries(volumeSchema, values.volumes),
    // Only which secrets are set matters here; a malformed value was already reported.
    secrets: nullPrototype(
      Object.entries(asObject(values.secrets)).map(
        ([app, v]) => [app, nullPrototype(Object.keys(asObject(v)).map((k) => [k, ""] as const))] as const,
      ),
    ),
    customTimeouts: part(customTimeoutsSchema, values.customTimeouts),
  };
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The running stack's raw config and which of its keys are secret, as the Pulumi SDK gives them. */
export function runningStackConfig(): {
  raw: Readonly<Record<string, string>>;
  secretKeys: ReadonlySet<string>;
  stack: string;
  project: string;
} {
  const raw = pulumi.runtime.allConfig();
  return {
    raw,
    secretKeys: new Set(Object.keys(raw).filter((k) => isConfigSecret(k))),
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
  };
}

/** Reads the running platform stack's config through the Pulumi SDK and validates it. */
export function loadPlatform(): PlatformConfig {
  const { raw, secretKeys, stack, project } = runningStackConfig();
  return parsePlatform(raw, stack, project, secretKeys);
}

/** The SDK knows which keys are secret but does not declare the function in its typings. */
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeIssue(
  issue: z.core.$ZodIssue,
  values: Record<string, unknown>,
  schema: z.core.$ZodType,
): ConfigProblem {
  const path = issue.path.map(String);
  const key = `${NAMESPACE}:${path.join(".")}`;
  // Secret values never appear in messages (they end up in CI logs).
  const got = SECRET_KEYS.has(path[0]) ? "(secret value not shown)" : valueAt(values, path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(schema, path);
      const guesses = allowed
        ? issue.keys.flatMap((k) => {
            const g = closest(k, allowed);
            return g ? [`"${g}"`] : [];
          })
        : [];
      return {
        key,
        message: `has unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}${guesses.length ? `; did you mean ${guesses.join(", ")}?` : ""}${allowed ? ` (allowed: ${allowed.join(", ")})` : ""}`,
      };
    }
    case "invalid_type":
      if (got === undefined) return { key, message: `is required (${issue.expected})` };
      if (issue.expected === "string" && typeof got === "number") {
        return {
          key,
          message: `must be a string, got the number ${JSON.stringify(got)}: quote it in YAML (unquoted, 1.30 is read as the number 1.3)`,
        };
      }
      return { key, message: `must be ${article(issue.expected)}, got ${JSON.stringify(got)}` };
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const what = issue.origin === "array" ? "items" : issue.origin === "string" ? "characters" : "";
      const word = issue.code === "too_small" ? "at least" : "at most";
      return { key, message: `must be ${word} ${String(bound)}${what ? ` ${what}` : ""}, got ${JSON.stringify(got)}` };
    }
    case "invalid_value":
      return {
        key,
        message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(got)}`,
      };
    default:
      return {
        key,
        message: `${issue.message}${got !== undefined && typeof got !== "object" ? `, got ${JSON.stringify(got)}` : ""}`,
      };
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object" || !Object.hasOwn(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** The keys an object at `path` of the schema accepts, for "unknown key" messages. */
function allowedKeys(root: z.core.$ZodType, path: readonly string[]): string[] | undefined {
  let schema: z.core.$ZodType = root;
  for (const p of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as {
      type: string;
      shape?: Record<string, z.core.$ZodType>;
      valueType?: z.core.$ZodType;
    };
    if (def.type === "object" && def.shape) schema = def.shape[p];
    else if (def.type === "record" && def.valueType) schema = def.valueType;
    else return undefined;
    if (!schema) return undefined;
  }
  const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, unknown> };
  return def.type === "object" && def.shape ? Object.keys(def.shape) : undefined;
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (
      (def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault") &&
      def.innerType
    )
      s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}
