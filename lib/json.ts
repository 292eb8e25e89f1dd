/** Object keys as JSON strings: records and releases use a small set of keys over and over. */
const QUOTED = new Map<string, string>();

/**
 * JSON with object keys sorted at every level (by UTF-16 code unit, as `Array.prototype.sort`
 * does), so equal content always gives equal text and equal hashes. Keys whose value is
 * `undefined` are left out and `undefined` array items are `null`, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  // Written for speed as much as clarity: `status` hashes every history record of every lane.
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    let quoted = QUOTED.get(k);
    if (quoted === undefined) QUOTED.set(k, (quoted = JSON.stringify(k)));
    out += `${first ? "" : ","}${quoted}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
