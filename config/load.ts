import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import { ConfigError, type ConfigProblem } from "./errors";
import { closest, nullPrototype, RESERVED_KEYS } from "./names";
import { appSchema, environmentKeys, environmentSchema, teamSchema, type EnvironmentSchema } from "./schema";
import { validateEnvironment, type PartialEnvironment } from "./validate";

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

/** One environment's validated configuration, plus where it came from. */
export interface EnvironmentConfig extends EnvironmentSchema {
  readonly project: string;
  readonly stack: string;
  /** The stack file, for messages: `stacks/Pulumi.<stack>.yaml`. */
  readonly file: string;
  /** Config keys Pulumi marked secret (their values are wrapped in `pulumi.secret` before use). */
  readonly secretKeys: ReadonlySet<string>;
}

/** The stack file of a stack, relative to the project. */
export function stackFile(stack: string): string {
  return `${STACK_CONFIG_DIR}/Pulumi.${stack}.yaml`;
}

/**
 * Parses and validates a whole environment from a flat `namespace:key -> string` map (as Pulumi
 * passes config to a program). Throws one {@link ConfigError} listing every problem.
 */
export function parseEnvironment(raw: Readonly<Record<string, string>>, stack: string, project: string, secretKeys: ReadonlySet<string> = new Set()): EnvironmentConfig {
  const file = stackFile(stack);
  const problems: ConfigProblem[] = [];
  const values: Record<string, unknown> = {};
  const known = Object.keys(environmentKeys);
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
      problems.push({ key: fullKey, message: `is not a known key${guess ? `; did you mean ${NAMESPACE}:${guess}?` : ""} (allowed: ${known.map((k) => `${NAMESPACE}:${k}`).join(", ")})` });
      continue;
    }
    values[key] = TEXT_KEYS.has(key) ? text : parseValue(text);
    const howToSet = SECRET_KEYS.get(key);
    if (howToSet && !secretKeys.has(fullKey)) {
      problems.push({ key: fullKey, message: `holds secrets but is stored in clear in the stack file: remove it and set each value with \`${howToSet}\`` });
    }
    problems.push(...reservedKeys(values[key], [key]));
  }
  const result = environmentSchema.safeParse(values);
  if (result.success) {
    problems.push(...validateEnvironment(result.data));
  } else {
    for (const issue of result.error.issues) problems.push(describeIssue(issue, values));
    // Cross-field rules still run on the parts that parsed, so one run reports every problem.
    problems.push(...validateEnvironment(validParts(values), {
      teams: new Set(Object.keys(asObject(values.teams))),
      images: new Set(Object.keys(asObject(asObject(values.release).images))),
    }));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(file, problems);
  return { ...result.data, project, stack, file, secretKeys };
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
    if (why) out.push({ key: `${NAMESPACE}:${[...path, k].join(".")}`, message: `cannot be used as a name: ${why}; choose another name` });
    else out.push(...reservedKeys(v, [...path, k]));
  }
  return out;
}

/** The keys (and, for maps, the entries) that are schema-valid on their own. */
function validParts(values: Record<string, unknown>): PartialEnvironment {
  const part = <T>(schema: z.ZodType<T>, v: unknown): T | undefined => {
    const r = schema.safeParse(v);
    return r.success ? r.data : undefined;
  };
  const entries = <T>(schema: z.ZodType<T>, v: unknown): Record<string, T> =>
    nullPrototype(Object.entries(asObject(v)).flatMap(([k, x]) => {
      const r = schema.safeParse(x);
      return r.success ? [[k, r.data] as const] : [];
    }));
  return {
    cluster: part(environmentKeys.cluster, values.cluster),
    production: part(environmentKeys.production, values.production) ?? false,
    release: part(environmentKeys.release, values.release) ?? { images: nullPrototype([]) },
    platform: part(environmentKeys.platform, values.platform) ?? environmentKeys.platform.parse(undefined),
    teams: entries(teamSchema, values.teams),
    apps: entries(appSchema, values.apps),
    // Only which secrets are set matters here; a malformed value was already reported.
    secrets: nullPrototype(Object.entries(asObject(values.secrets)).map(([app, v]) => [app, nullPrototype(Object.keys(asObject(v)).map((k) => [k, ""] as const))] as const)),
    kubeconfig: part(environmentKeys.kubeconfig, values.kubeconfig),
    policy: part(environmentKeys.policy, values.policy) ?? { allowedRegistries: [] },
  };
}

function asObject(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Reads the running stack's config through the Pulumi SDK and validates it. */
export function loadEnvironment(): EnvironmentConfig {
  const raw = pulumi.runtime.allConfig();
  const secret = new Set(Object.keys(raw).filter((k) => isConfigSecret(k)));
  return parseEnvironment(raw, pulumi.getStack(), pulumi.getProject(), secret);
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

function describeIssue(issue: z.core.$ZodIssue, values: Record<string, unknown>): ConfigProblem {
  const path = issue.path.map(String);
  const key = `${NAMESPACE}:${path.join(".")}`;
  // Secret values never appear in messages (they end up in CI logs).
  const got = SECRET_KEYS.has(path[0]) ? "(secret value not shown)" : valueAt(values, path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(path);
      const guesses = allowed ? issue.keys.flatMap((k) => { const g = closest(k, allowed); return g ? [`"${g}"`] : []; }) : [];
      return {
        key,
        message: `has unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}${guesses.length ? `; did you mean ${guesses.join(", ")}?` : ""}${allowed ? ` (allowed: ${allowed.join(", ")})` : ""}`,
      };
    }
    case "invalid_type":
      if (got === undefined) return { key, message: `is required (${issue.expected})` };
      if (issue.expected === "string" && typeof got === "number") {
        return { key, message: `must be a string, got the number ${JSON.stringify(got)}: quote it in YAML (unquoted, 1.30 is read as the number 1.3)` };
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
      return { key, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(got)}` };
    default:
      return { key, message: `${issue.message}${got !== undefined && typeof got !== "object" ? `, got ${JSON.stringify(got)}` : ""}` };
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
function allowedKeys(path: readonly string[]): string[] | undefined {
  let schema: z.core.$ZodType = environmentSchema;
  for (const p of path) {
    schema = unwrap(schema);
    const def = schema._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType };
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
    if ((def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault") && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return s;
  }
}
