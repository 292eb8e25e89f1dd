/** Summary statistics and table layout for the bench (pure functions). */

/** Median, extremes and relative spread of repeated measurements. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median, as a fraction. */
  readonly spread: number;
  readonly runs: number;
}

/** Summarises repeated measurements; throws on an empty list. */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarise: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  return { median, min, max, spread: median > 0 ? (max - min) / median : 0, runs: values.length };
}

/** `1234 ms ±5%` style cell. */
export function formatMs(s: Summary | undefined): string {
  if (!s) return "-";
  return `${s.median >= 100 ? Math.round(s.median) : s.median.toFixed(1)} ±${Math.round(s.spread * 100)}%`;
}

/** Megabytes from kilobytes, with spread. */
export function formatMb(kb: Summary | undefined): string {
  if (!kb) return "-";
  return `${Math.round(kb.median / 1024)} ±${Math.round(kb.spread * 100)}%`;
}

/** A ratio such as `1.07x`. */
export function formatRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "-" : `${r.toFixed(2)}x`;
}

/** Left-aligned first column, right-aligned others, separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
