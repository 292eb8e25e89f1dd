import { z } from "zod";
import { SEVERITIES, type Finding, type ScanReport, type Severity } from "./report";

/**
 * The vulnerability gate of a stage: what the scans of a release's images must satisfy before the
 * release may be promoted there. Counts are "at this severity or above", so `maxFixable: { high: 0 }`
 * also refuses a fixable critical finding. A finding whose fix availability is unknown counts as
 * fixable: the gate errs on the side of refusing.
 */
export interface VulnerabilityGate {
  /** Most findings allowed at or above each severity, e.g. `{ critical: 0 }`. */
  readonly max: Partial<Record<Severity, number>>;
  /** Most findings with a fix available allowed at or above each severity, e.g. `{ high: 0 }`. */
  readonly maxFixable: Partial<Record<Severity, number>>;
  /** The newest report of each image must be younger than this, in milliseconds (none: any age). */
  readonly maxAgeMs?: number;
  /** `maxAge` as written, for messages. */
  readonly maxAge?: string;
  /**
   * The severity a finding of unknown severity counts as. Unset: it counts against every limit
   * (as at least the gate's strictest severity), so what a format cannot place never passes silently.
   */
  readonly unknownAs?: Exclude<Severity, "unknown">;
}

const counts = z.partialRecord(z.enum(SEVERITIES), z.number().int().min(0).max(1_000_000));
/** The counts of a stage's `vulnerabilities:` block in `stacks/stages.yaml`; the stages reader adds `maxAge`, a duration. */
export const vulnerabilityGateSchema = z.strictObject({
  /** Most findings allowed at or above each severity. */
  max: counts.default({}),
  /** Most fixable findings allowed at or above each severity. */
  maxFixable: counts.default({}),
  /** What a finding of unknown severity counts as; unset, it counts against every limit. Said in so many words, never implied. */
  unknownAs: z.enum(["critical", "high", "medium", "low", "negligible"]).optional(),
});

/** Findings per severity: all of them, and those with a fix available (or of unknown fix status). */
export type SeverityCounts = Record<Severity, { readonly total: number; readonly fixable: number }>;

export function countFindings(findings: readonly Finding[]): SeverityCounts {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, { total: 0, fixable: 0 }])) as Record<
    Severity,
    { total: number; fixable: number }
  >;
  for (const f of findings) {
    out[f.severity].total += 1;
    if (f.fix !== "no") out[f.severity].fixable += 1;
  }
  return out;
}

/** Whether a finding of `found` severity counts against a limit at `limit` or above. */
function countsAgainst(gate: VulnerabilityGate, found: Severity, limit: Severity): boolean {
  if (found === "unknown")
    return gate.unknownAs === undefined || SEVERITIES.indexOf(gate.unknownAs) <= SEVERITIES.indexOf(limit);
  return SEVERITIES.indexOf(found) <= SEVERITIES.indexOf(limit);
}

/** How many findings count against a limit at `severity` or above (unknown ones included, see {@link VulnerabilityGate.unknownAs}). */
function atOrAbove(gate: VulnerabilityGate, c: SeverityCounts, severity: Severity, field: "total" | "fixable"): number {
  return SEVERITIES.filter((s) => countsAgainst(gate, s, severity)).reduce((n, s) => n + c[s][field], 0);
}

/** What the gate reads of one attached scan (a stored summary, see store.ts). */
export interface ScanSummary {
  readonly digest: string;
  readonly format: ScanReport["format"];
  readonly scanner: string;
  readonly scannedAt?: string;
  readonly counts: SeverityCounts;
  /** The worst findings, most severe first, for messages. */
  readonly top: readonly Finding[];
}

/** The gate's verdict on one image of a release. */
export interface ImageVerdict<S extends ScanSummary = ScanSummary> {
  readonly image: string;
  readonly digest: string;
  /** The scan the verdict rests on (the newest one attached to the digest). */
  readonly scan?: S;
  /** Why the image does not pass; empty when it passes. */
  readonly problems: readonly string[];
}

/**
 * Checks every image of a release (image name -> `sha256:` digest, as `releaseDigests` gives them)
 * against a stage's gate, using the newest scan attached to each digest. `scansOf` returns the
 * scans attached to a digest, in any order.
 */
export function evaluateGate<S extends ScanSummary>(
  gate: VulnerabilityGate,
  digests: Readonly<Record<string, string>>,
  scansOf: (digest: string) => readonly S[],
  now: number,
  accepted: ReadonlySet<string> = new Set(),
): ImageVerdict<S>[] {
  return Object.entries(digests)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([image, digest]) => {
      const judged = newest(scansOf(digest));
      if (!judged) return { image, digest, problems: ["no scan report attached"] };
      const scan = accepted.size > 0 ? withoutAccepted(judged, accepted) : judged;
      const problems: string[] = [];
      if (gate.maxAgeMs !== undefined) {
        const at = scan.scannedAt ? Date.parse(scan.scannedAt) : Number.NaN;
        if (Number.isNaN(at))
          problems.push(
            `the ${scan.format} report does not say when it was scanned, and the stage needs one younger than ${gate.maxAge}`,
          );
        else if (now - at > gate.maxAgeMs)
          problems.push(`the newest report (${scan.scannedAt}) is older than ${gate.maxAge}: scan the digest again`);
      }
      for (const [field, limits, what] of [
        ["total", gate.max, "findings"],
        ["fixable", gate.maxFixable, "findings with a fix available"],
      ] as const) {
        for (const severity of SEVERITIES) {
          const limit = limits[severity];
          if (limit === undefined) continue;
          const n = atOrAbove(gate, scan.counts, severity, field);
          if (n > limit) {
            const worst = scan.top
              .filter((f) => countsAgainst(gate, f.severity, severity) && (field === "total" || f.fix !== "no"))
              .slice(0, 3)
              .map((f) => f.id);
            const unknown =
              severity !== "unknown" && countsAgainst(gate, "unknown", severity) ? scan.counts.unknown[field] : 0;
            problems.push(
              `${n} ${what} at ${severity} or above (at most ${limit})${unknown ? `, ${unknown} of them of unknown severity (counted ${gate.unknownAs ? `as ${gate.unknownAs}` : "against every limit"})` : ""}${worst.length ? `: ${worst.join(", ")}${n > worst.length ? ", ..." : ""}` : ""}`,
            );
          }
        }
      }
      return { image, digest, scan: judged, problems };
    });
}

/**
 * The scan as the gate sees it with accepted findings taken out. Only findings the summary lists
 * (its worst {@link ScanSummary.top}) can be accepted by id; counted findings beyond those stay.
 */
function withoutAccepted<S extends ScanSummary>(scan: S, accepted: ReadonlySet<string>): S {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, { ...scan.counts[s] }])) as Record<
    Severity,
    { total: number; fixable: number }
  >;
  for (const f of scan.top) {
    if (!accepted.has(f.id)) continue;
    counts[f.severity].total = Math.max(0, counts[f.severity].total - 1);
    if (f.fix !== "no") counts[f.severity].fixable = Math.max(0, counts[f.severity].fixable - 1);
  }
  return { ...scan, counts, top: scan.top.filter((f) => !accepted.has(f.id)) };
}

function newest<S extends ScanSummary>(scans: readonly S[]): S | undefined {
  // A report without a scan time sorts oldest, so a dated report is always preferred.
  return [...scans].sort((a, b) => (a.scannedAt ?? "").localeCompare(b.scannedAt ?? "")).at(-1);
}

/** `critical 0, fixable high 0, report < 7d`: a gate in a few words, for `status`. */
export function describeGate(gate: VulnerabilityGate): string {
  const limits = [
    ...Object.entries(gate.max).map(([s, n]) => `${s}+ <= ${n}`),
    ...Object.entries(gate.maxFixable).map(([s, n]) => `fixable ${s}+ <= ${n}`),
    ...(gate.maxAge ? [`report < ${gate.maxAge}`] : []),
    ...(gate.unknownAs ? [`unknown as ${gate.unknownAs}`] : []),
  ];
  return limits.join(", ") || "scan required";
}
