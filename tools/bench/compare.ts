import { stableJson } from "../offline/mocks";

/**
 * Checks that two renderings hold the same Kubernetes objects. Objects are identified by kind,
 * namespace and name. ConfigMaps and Secrets are named by their generator (Pulumi's auto-name,
 * cdk8s' path hash, kustomize's content hash): their names are compared without that suffix, and
 * references to them are rewritten the same way before contents are compared.
 */

type Manifest = Record<string, unknown>;

/** Kinds whose names carry a generated suffix. */
const GENERATED = new Set(["ConfigMap", "Secret"]);
/** The generated part: a dash and 6 to 16 lowercase letters or digits, at the end. */
const SUFFIX = /-[a-z0-9]{6,16}$/;

function meta(o: Manifest): { name?: string; namespace?: string } {
  return (o.metadata ?? {}) as { name?: string; namespace?: string };
}

/** The name without a generator's suffix (only for ConfigMaps and Secrets). */
export function logicalName(o: Manifest): string {
  const name = String(meta(o).name ?? "");
  return GENERATED.has(String(o.kind)) ? name.replace(SUFFIX, "") : name;
}

/** `Kind/namespace/name`, with generated suffixes removed. */
export function objectKey(o: Manifest): string {
  return `${String(o.kind)}/${meta(o).namespace ?? ""}/${logicalName(o)}`;
}

/** The difference between two object sets. */
export interface SetDifference {
  /** Keys in the expected set only. */
  readonly missing: readonly string[];
  /** Keys in the actual set only. */
  readonly extra: readonly string[];
  /** Keys that occur more than once in either set. */
  readonly duplicates: readonly string[];
}

/** Compares the sets of objects (kind, namespace, name); equal when every list is empty. */
export function compareObjectSets(expected: readonly Manifest[], actual: readonly Manifest[]): SetDifference {
  const count = (list: readonly Manifest[]) => {
    const m = new Map<string, number>();
    for (const o of list) m.set(objectKey(o), (m.get(objectKey(o)) ?? 0) + 1);
    return m;
  };
  const a = count(expected);
  const b = count(actual);
  return {
    missing: [...a.keys()].filter((k) => !b.has(k)).sort(),
    extra: [...b.keys()].filter((k) => !a.has(k)).sort(),
    duplicates: [...new Set([...a, ...b].filter(([, n]) => n > 1).map(([k]) => k))].sort(),
  };
}

/** True when the sets are equal. */
export function sameObjectSet(d: SetDifference): boolean {
  return d.missing.length === 0 && d.extra.length === 0 && d.duplicates.length === 0;
}

/** One line describing a set difference, for errors. */
export function describeDifference(d: SetDifference, limit = 5): string {
  const part = (label: string, keys: readonly string[]) =>
    keys.length
      ? `${keys.length} ${label} (${keys.slice(0, limit).join(", ")}${keys.length > limit ? ", ..." : ""})`
      : undefined;
  return (
    [part("missing", d.missing), part("extra", d.extra), part("duplicated", d.duplicates)].filter(Boolean).join("; ") ||
    "identical"
  );
}

/** Replaces generated ConfigMap/Secret names everywhere in the objects by their logical names. */
function normalise(list: readonly Manifest[]): Map<string, string> {
  const renames = new Map<string, string>();
  for (const o of list) if (GENERATED.has(String(o.kind))) renames.set(String(meta(o).name), logicalName(o));
  const rewrite = (v: unknown): unknown => {
    if (typeof v === "string") return renames.get(v) ?? v;
    if (Array.isArray(v)) return v.map(rewrite);
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
    return v;
  };
  return new Map(list.map((o) => [objectKey(o), stableJson(rewrite(o))]));
}

/** Objects present in both sets whose contents differ (after normalising generated names). */
export function contentDifferences(expected: readonly Manifest[], actual: readonly Manifest[]): string[] {
  const a = normalise(expected);
  const b = normalise(actual);
  return [...a]
    .filter(([k, text]) => b.has(k) && b.get(k) !== text)
    .map(([k]) => k)
    .sort();
}

/** The first JSON path at which two values differ, for messages. */
export function firstDifference(a: unknown, b: unknown, at = ""): string | undefined {
  if (stableJson(a) === stableJson(b)) return undefined;
  if (
    a === null ||
    b === null ||
    typeof a !== "object" ||
    typeof b !== "object" ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return `${at || "."}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    const d = firstDifference(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`,
    );
    if (d) return d;
  }
  return undefined;
}
