/**
 * Kubernetes resource quantities (`250m`, `512Mi`, `1.5`, `2G`) as numbers in base units, so the
 * config validation can compare requests with limits and sum pods against a quota. They are
 * floating point: comparisons of sums allow a relative error of 1e-9.
 */

const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** A quantity as written in config: a string such as `"250m"` or a plain number. */
export type Quantity = string | number;

/** Parses a quantity into its value in base units (cores, bytes); `undefined` if malformed. */
export function parseQuantity(q: Quantity): number | undefined {
  if (typeof q === "number") return inRange(q);
  // No trimming: the API parses the text as written, and "1Gi\n" is not a quantity there.
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2] !== undefined) return inRange(base * 10 ** Number(m[2]));
  return inRange(base * SUFFIXES[m[3] ?? ""]);
}

/**
 * Largest quantity accepted: the API keeps quantities of resources as int64 (bytes, or millicores
 * for cpu: resource.Quantity.Value/MilliValue), so 8Ei bytes is the ceiling; `1e400` would overflow.
 */
const MAX_QUANTITY = 2 ** 63;

function inRange(v: number): number | undefined {
  return Number.isFinite(v) && v >= 0 && v < MAX_QUANTITY ? v : undefined;
}

/** True when `q` is a well-formed, non-negative Kubernetes quantity. */
export function isQuantity(q: Quantity): boolean {
  return parseQuantity(q) !== undefined;
}

/** Formats base units for messages: cores as millicores, bytes in the largest binary unit that divides them. */
export function formatQuantity(value: number, kind: "cpu" | "bytes" | "count"): string {
  if (kind === "count") return String(value);
  if (kind === "cpu") return `${Math.round(value * 1000)}m`;
  for (const unit of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
    const size = SUFFIXES[unit];
    if (value >= size && Number.isInteger(value / size)) return `${value / size}${unit}`;
  }
  return String(value);
}
