/**
 * Kubernetes minor versions each cloud offers, with their support windows: the one table the
 * version rules, the shipped stacks and the Cluster Autoscaler image read. Dates are UTC days.
 *
 * Sources (checked 2026-11-29):
 * - EKS: "Understand the Kubernetes version lifecycle on EKS", release calendar
 *   (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html) and
 *   https://endoflife.date/amazon-eks. Standard support lasts 14 months from the EKS release,
 *   extended support 12 more (at extra cost per cluster hour). 1.37 is not offered on EKS yet.
 * - GKE: "GKE release schedule" (https://cloud.google.com/kubernetes-engine/docs/release-schedule)
 *   and https://endoflife.date/google-kubernetes-engine. Standard support lasts about 14 months
 *   from availability in the Regular channel; extended support (Extended channel only) brings the
 *   total to about 24 months. 1.37 is in the Rapid channel only, which has no SLA.
 * - Upstream (existing clusters): https://kubernetes.io/releases/ and https://endoflife.date/kubernetes.
 */

/** Where a cluster runs; an existing cluster is checked against upstream Kubernetes. */
export type VersionCloud = "aws" | "gcp" | "existing";

/** One minor version on one cloud. */
export interface MinorSupport {
  /** When the cloud made it available (GKE: the Regular channel). */
  readonly released: string;
  /** Last day of standard support: after it, the minor runs only on extended support (or is upgraded). */
  readonly standardEnd: string;
  /** Last day of extended support; undefined where the cloud offers none (upstream). */
  readonly extendedEnd?: string;
  /** The dates are the provider's estimate (GKE publishes best-effort predictions), not a commitment. */
  readonly estimated?: boolean;
}

export const kubernetesVersionTable: Readonly<Record<VersionCloud, Readonly<Record<string, MinorSupport>>>> = {
  aws: {
    "1.30": { released: "2024-05-23", standardEnd: "2025-07-23", extendedEnd: "2026-07-23" },
    "1.31": { released: "2024-09-26", standardEnd: "2025-11-26", extendedEnd: "2026-11-26" },
    "1.32": { released: "2025-01-23", standardEnd: "2026-03-23", extendedEnd: "2027-03-23" },
    "1.33": { released: "2025-05-29", standardEnd: "2026-07-29", extendedEnd: "2027-07-29" },
    "1.34": { released: "2025-10-02", standardEnd: "2026-12-02", extendedEnd: "2027-12-02" },
    "1.35": { released: "2026-01-27", standardEnd: "2027-03-27", extendedEnd: "2028-03-27" },
    "1.36": { released: "2026-06-02", standardEnd: "2027-08-02", extendedEnd: "2028-08-02" },
  },
  gcp: {
    "1.31": { released: "2024-10-25", standardEnd: "2026-01-16", extendedEnd: "2026-10-25", estimated: true },
    "1.32": { released: "2025-02-11", standardEnd: "2026-04-11", extendedEnd: "2027-02-11", estimated: true },
    "1.33": { released: "2025-06-03", standardEnd: "2026-08-03", extendedEnd: "2027-06-03", estimated: true },
    "1.34": { released: "2025-09-30", standardEnd: "2026-10-01", extendedEnd: "2027-09-30", estimated: true },
    "1.35": { released: "2026-02-11", standardEnd: "2027-04-11", extendedEnd: "2028-02-11", estimated: true },
    // In the Regular channel since mid-2026 (after the 2026-05-13 release notes, before 2026-07-09);
    // the dates count 14 and 24 months from 2026-06-01 and move with the published schedule.
    "1.36": { released: "2026-06-01", standardEnd: "2027-08-01", extendedEnd: "2028-06-01", estimated: true },
  },
  existing: {
    "1.30": { released: "2024-04-17", standardEnd: "2025-06-28" },
    "1.31": { released: "2024-08-13", standardEnd: "2025-10-28" },
    "1.32": { released: "2024-12-11", standardEnd: "2026-02-28" },
    "1.33": { released: "2025-04-23", standardEnd: "2026-06-28" },
    "1.34": { released: "2025-08-27", standardEnd: "2026-10-27" },
    "1.35": { released: "2025-12-17", standardEnd: "2027-02-28" },
    "1.36": { released: "2026-04-22", standardEnd: "2027-06-28" },
    "1.37": { released: "2026-08-26", standardEnd: "2027-10-28" },
  },
};

/** GKE release channels. */
export type GkeChannel = "RAPID" | "REGULAR" | "STABLE" | "EXTENDED";

/**
 * The day each GKE release channel began offering a minor. New minors reach Rapid first, then
 * Regular (the table's `released`), then Stable months later; Extended offers a minor from its
 * Regular availability to the end of extended support. Rapid, Regular and Stable stop offering a
 * minor at its end of standard support. The dates follow GKE's published schedule, which is a
 * best-effort prediction ("GKE release schedule",
 * https://cloud.google.com/kubernetes-engine/docs/release-schedule; "About release channels",
 * https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels); what a channel
 * offers on a given day is authoritative in `gcloud container get-server-config --region <region>
 * --flatten=channels` (its `validVersions` per channel). 1.37 is in Rapid only.
 */
export const gkeChannelTable: Readonly<
  Record<string, Readonly<Partial<Record<Exclude<GkeChannel, "EXTENDED">, string>>>>
> = {
  "1.31": { RAPID: "2024-08-20", REGULAR: "2024-10-25", STABLE: "2024-11-26" },
  "1.32": { RAPID: "2025-01-21", REGULAR: "2025-02-11", STABLE: "2025-04-08" },
  "1.33": { RAPID: "2025-05-06", REGULAR: "2025-06-03", STABLE: "2025-07-29" },
  "1.34": { RAPID: "2025-09-09", REGULAR: "2025-09-30", STABLE: "2025-11-25" },
  "1.35": { RAPID: "2026-01-13", REGULAR: "2026-02-11", STABLE: "2026-04-07" },
  "1.36": { RAPID: "2026-05-12", REGULAR: "2026-06-01", STABLE: "2026-08-04" },
  "1.37": { RAPID: "2026-09-29" },
};

/** Does a GKE release channel offer `minor` on the day `now`? */
export function gkeChannelOffers(channel: GkeChannel, minor: string, now: Date): boolean {
  const day = utcDay(now);
  const support = kubernetesVersionTable.gcp[minor];
  if (channel === "EXTENDED") {
    return support !== undefined && day >= support.released && day <= (support.extendedEnd ?? support.standardEnd);
  }
  const start = gkeChannelTable[minor]?.[channel];
  if (start === undefined || day < start) return false;
  // A minor not yet in Regular has no support dates: Rapid offers it (without an SLA) until it is.
  return support === undefined || day <= support.standardEnd;
}

/** The minors a GKE channel offers on a day, oldest first. */
export function gkeChannelMinors(channel: GkeChannel, now: Date): string[] {
  return [...new Set([...Object.keys(gkeChannelTable), ...Object.keys(kubernetesVersionTable.gcp)])]
    .filter((m) => gkeChannelOffers(channel, m, now))
    .sort(compareMinor);
}

/** Where a minor stands on a cloud on a given day. */
export type SupportStatus = "unknown" | "unreleased" | "standard" | "extended" | "ended";

/** Pins the day the version rules evaluate on (`YYYY-MM-DD`), for reproducible renders and tests. */
export const EVALUATION_DATE_VARIABLE = "BLUEPRINT_EVALUATION_DATE";

/**
 * The day the version rules evaluate on: `BLUEPRINT_EVALUATION_DATE` when set (so a render or a
 * test gives the same answer on any day), else now.
 */
export function evaluationDate(env: Readonly<Record<string, string | undefined>> = process.env): Date {
  const pinned = env[EVALUATION_DATE_VARIABLE];
  if (pinned === undefined || pinned === "") return new Date();
  const day = /^\d{4}-\d{2}-\d{2}$/.test(pinned) ? new Date(`${pinned}T00:00:00Z`) : undefined;
  if (!day || Number.isNaN(day.getTime()) || utcDay(day) !== pinned)
    throw new RangeError(`${EVALUATION_DATE_VARIABLE} must be a day such as 2026-11-29, got "${pinned}"`);
  return day;
}

/** The UTC day of a date, `YYYY-MM-DD`, so comparisons ignore the time of day. */
export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Where `minor` stands on `cloud` on the day `now` (pass it in: the rules stay deterministic). */
export function supportStatus(cloud: VersionCloud, minor: string, now: Date): SupportStatus {
  const entry = kubernetesVersionTable[cloud][minor];
  if (!entry) return "unknown";
  const day = utcDay(now);
  if (day < entry.released) return "unreleased";
  if (day <= entry.standardEnd) return "standard";
  if (entry.extendedEnd !== undefined && day <= entry.extendedEnd) return "extended";
  return "ended";
}

/** The minors a cloud offers on a day, oldest first (for messages). */
export function offeredMinors(cloud: VersionCloud, now: Date): string[] {
  return Object.keys(kubernetesVersionTable[cloud])
    .filter((m) => ["standard", "extended"].includes(supportStatus(cloud, m, now)))
    .sort(compareMinor);
}

/** The newest minor in standard support on a cloud on a day. */
export function newestStandardMinor(cloud: VersionCloud, now: Date): string | undefined {
  return Object.keys(kubernetesVersionTable[cloud])
    .filter((m) => supportStatus(cloud, m, now) === "standard")
    .sort(compareMinor)
    .pop();
}

export function compareMinor(a: string, b: string): number {
  return Number(a.split(".")[1]) - Number(b.split(".")[1]);
}

/**
 * The Cluster Autoscaler image tag for a cluster minor: the autoscaler's minor must match the
 * cluster's (https://github.com/kubernetes/autoscaler/tree/master/cluster-autoscaler#releases);
 * `registry.k8s.io/autoscaling/cluster-autoscaler:v1.36.0` is published (release cluster-autoscaler-1.36.0).
 */
export function clusterAutoscalerImageTag(minor: string): string {
  return `v${minor}.0`;
}
