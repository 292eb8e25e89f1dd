import { z } from "zod";

/** A DNS-1035 label: lowercase letters, digits and '-', starting with a letter (Service, app and image names). */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Longest label value: "must be 63 characters or less", and begin and end with an alphanumeric
 * character (IsValidLabelValue, k8s.io/apimachinery/pkg/util/validation/validation.go).
 */
export const MAX_LABEL_VALUE = 63;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Longest ConfigMap or Secret data key: IsConfigMapKey allows `[-._a-zA-Z0-9]+` of at most 253
 * characters (DNS1123SubdomainMaxLength, k8s.io/apimachinery/pkg/util/validation/validation.go).
 */
export const MAX_CONFIG_KEY = 253;

/**
 * Largest ConfigMap or Secret: the API refuses one whose data adds up to more than 1 MiB
 * (`MaxSecretSize`, checked by ValidateConfigMap and ValidateSecret in
 * kubernetes/pkg/apis/core/validation/validation.go).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Bounds of an int32 API field (replicas, ports, probe timings, HPA bounds, backoffLimit). */
export const INT32_MAX = 2_147_483_647;

/**
 * Names that cannot be keys anywhere in a stack's config, each with the reason. Every other name,
 * `constructor` and `hasOwnProperty` included, is an ordinary name (records are prototype-less).
 */
export const RESERVED_KEYS: ReadonlyMap<string, string> = new Map([
  // JSON.parse keeps it as a key, but schema parsing and object code take it for the prototype and drop it.
  ["__proto__", "JavaScript reserves it for an object's prototype, so it would be dropped"],
  // The Pulumi SDK formats input objects with `${value}` (runtime/rpc.js); an object whose
  // toString is a string makes that throw, and the whole deployment fails.
  ["toString", "the Pulumi SDK cannot send an object with a toString key to the engine"],
]);

/**
 * An object without a prototype, so a name such as `constructor` or `toString` reads as absent
 * until it is set, instead of as an inherited function.
 */
export function nullPrototype<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/**
 * A record keyed by user-chosen names (apps, teams, volumes, env vars, images, secrets). Parsed
 * into a prototype-less object so that looking up a name that is not there never finds an
 * inherited member. Give defaults with `.prefault({})`, so they pass through the same conversion.
 */
export function nameRecord<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).transform((r) => nullPrototype(Object.entries(r)));
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate closest to `word`, when it is close enough to be a typo (a third of its length, at least 2 edits). */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * The Pulumi resource-name part the EKS cluster derives from an identity-provider group (its IAM
 * role and access entry). Lowercased because IAM role names are unique regardless of case.
 */
export function groupResourceName(group: string): string {
  return (
    group
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "group"
  );
}
