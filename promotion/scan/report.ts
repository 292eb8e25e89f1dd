import { z } from "zod";

/**
 * Vulnerability scan reports, read through one interface whatever produced them. Each reader
 * turns one report format into a {@link ScanReport}: the digests the report says it is about,
 * when the scan ran, and its findings with a normalised severity and fix availability.
 *
 * Formats (field names from each producer's documented output):
 * - `trivy`: `trivy image --format json` (SchemaVersion 2: `Metadata.RepoDigests`,
 *   `Results[].Vulnerabilities[]`, `CreatedAt`); https://trivy.dev/latest/docs/configuration/reporting/
 * - `grype`: `grype <image> -o json` (`matches[].vulnerability.{id,severity,fix.state}`,
 *   `source.target.{manifestDigest,repoDigests}`, `descriptor.timestamp`); https://github.com/anchore/grype
 * - `sarif`: SARIF 2.1.0 from any scanner (`runs[].results[]`, severity from the rule's
 *   `security-severity` CVSS score as GitHub code scanning reads it; the image digest from
 *   `runs[].properties.repoDigests`, which Trivy writes); https://docs.oasis-open.org/sarif/sarif/v2.1.0/
 * - `ecr`: `aws ecr describe-image-scan-findings` (basic `findings[]` and Inspector
 *   `enhancedFindings[]` with `fixAvailable: YES|NO|PARTIAL`, `imageId.imageDigest`,
 *   `imageScanCompletedAt`); https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanFindings.html
 * - `artifact-analysis`: Grafeas vulnerability occurrences (`gcloud artifacts vulnerabilities list
 *   <image>@<digest> --format=json`, or the Container Analysis API's `{occurrences: [...]}`):
 *   `resourceUri` names the digest, `vulnerability.{effectiveSeverity,fixAvailable}`;
 *   https://cloud.google.com/artifact-analysis/docs/reference/rest/v1/projects.occurrences
 */

export const SEVERITIES = ["critical", "high", "medium", "low", "negligible", "unknown"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Whether a fixed version exists. `unknown` where the format does not say; gates treat it as fixable. */
export type FixAvailability = "yes" | "no" | "unknown";

export interface Finding {
  /** CVE or advisory id, e.g. `CVE-2024-3094`. */
  readonly id: string;
  readonly severity: Severity;
  readonly fix: FixAvailability;
  /** The affected package and its installed version, where the format names them. */
  readonly package?: string;
}

export const FORMATS = ["trivy", "grype", "sarif", "ecr", "artifact-analysis"] as const;
export type ReportFormat = (typeof FORMATS)[number];

export interface ScanReport {
  readonly format: ReportFormat;
  /** The scanner as the report names itself (`Trivy 0.58.1`, `grype 0.86.1`, `Amazon ECR`, ...). */
  readonly scanner: string;
  /** Every `sha256:<64 hex>` digest the report says it scanned. */
  readonly digests: readonly string[];
  /** When the scan ran (ISO 8601), or undefined where the report does not say. */
  readonly scannedAt?: string;
  readonly findings: readonly Finding[];
}

/** A report that cannot be read as any supported format, or is inconsistent in itself. */
export class ScanReportError extends Error {
  override readonly name = "ScanReportError";
}

const DIGEST_IN = /sha256:[a-f0-9]{64}/g;

function digestsIn(values: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) if (typeof v === "string") for (const m of v.matchAll(DIGEST_IN)) out.add(m[0]);
  return [...out].sort();
}

/** Time as ISO 8601: accepts ISO strings and epoch seconds (the AWS CLI can print either). */
function isoTime(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return new Date(v * 1000).toISOString();
  if (typeof v !== "string" || v === "") return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function latest(times: readonly (string | undefined)[]): string | undefined {
  const known = times.filter((t): t is string => t !== undefined).sort();
  return known.at(-1);
}

function severityWord(v: unknown): Severity {
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "critical" || s === "high" || s === "medium" || s === "low" || s === "negligible") return s;
  // Grafeas says MINIMAL and ECR says INFORMATIONAL for what the others call negligible.
  if (s === "minimal" || s === "informational") return "negligible";
  return "unknown";
}

/** CVSS score ranges as GitHub code scanning maps `security-severity`: >= 9 critical, >= 7 high, >= 4 medium, > 0 low. */
function severityFromScore(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score > 0) return "low";
  return "negligible";
}

// Loose shapes: reports carry many fields this reader does not need, and producers add more over time.
const str = z.string().optional().catch(undefined);
const trivySchema = z.looseObject({
  SchemaVersion: z.number(),
  ArtifactName: str,
  CreatedAt: str,
  Metadata: z.looseObject({ RepoDigests: z.array(z.string()).optional() }).optional(),
  Results: z.array(z.looseObject({
    Vulnerabilities: z.array(z.looseObject({
      VulnerabilityID: z.string(),
      PkgName: str,
      InstalledVersion: str,
      FixedVersion: str,
      Severity: str,
    })).nullish(),
  })).nullish(),
});

const grypeSchema = z.looseObject({
  matches: z.array(z.looseObject({
    vulnerability: z.looseObject({
      id: z.string(),
      severity: str,
      fix: z.looseObject({ state: str }).optional(),
    }),
    artifact: z.looseObject({ name: str, version: str }).optional(),
  })),
  source: z.looseObject({
    type: str,
    target: z.unknown(),
  }).optional(),
  descriptor: z.looseObject({ name: str, version: str, timestamp: str }).optional(),
});

const sarifSchema = z.looseObject({
  version: z.literal("2.1.0"),
  runs: z.array(z.looseObject({
    tool: z.looseObject({
      driver: z.looseObject({
        name: z.string(),
        version: str,
        rules: z.array(z.looseObject({
          id: z.string(),
          properties: z.looseObject({}).optional(),
        })).optional(),
      }),
    }),
    properties: z.looseObject({}).optional(),
    invocations: z.array(z.looseObject({ endTimeUtc: str, startTimeUtc: str })).optional(),
    results: z.array(z.looseObject({
      ruleId: str,
      level: str,
      message: z.looseObject({ text: str }).optional(),
    })).optional(),
  })),
});

const ecrSchema = z.looseObject({
  imageId: z.looseObject({ imageDigest: z.string() }),
  imageScanStatus: z.looseObject({ status: str }).optional(),
  imageScanFindings: z.looseObject({
    imageScanCompletedAt: z.union([z.string(), z.number()]).optional(),
    findings: z.array(z.looseObject({ name: z.string(), severity: str })).optional(),
    enhancedFindings: z.array(z.looseObject({
      severity: str,
      fixAvailable: str,
      title: str,
      packageVulnerabilityDetails: z.looseObject({
        vulnerabilityId: str,
        vulnerablePackages: z.array(z.looseObject({ name: str, version: str })).optional(),
      }).optional(),
    })).optional(),
  }),
});

const occurrenceSchema = z.looseObject({
  kind: str,
  resourceUri: z.string(),
  noteName: str,
  createTime: str,
  updateTime: str,
  vulnerability: z.looseObject({
    severity: str,
    effectiveSeverity: str,
    fixAvailable: z.boolean().optional(),
    shortDescription: str,
    packageIssue: z.array(z.looseObject({ affectedPackage: str, fixAvailable: z.boolean().optional() })).optional(),
  }),
});
const occurrencesSchema = z.union([z.array(occurrenceSchema), z.looseObject({ occurrences: z.array(occurrenceSchema) })]);

function readTrivy(r: z.infer<typeof trivySchema>): ScanReport {
  const findings: Finding[] = [];
  for (const result of r.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) {
      findings.push({
        id: v.VulnerabilityID,
        severity: severityWord(v.Severity),
        fix: v.FixedVersion ? "yes" : "no",
        package: v.PkgName && (v.InstalledVersion ? `${v.PkgName} ${v.InstalledVersion}` : v.PkgName),
      });
    }
  }
  return { format: "trivy", scanner: "Trivy", digests: digestsIn([...(r.Metadata?.RepoDigests ?? []), r.ArtifactName]), scannedAt: isoTime(r.CreatedAt), findings };
}

function readGrype(r: z.infer<typeof grypeSchema>): ScanReport {
  const target = r.source?.target;
  const targetFields = target && typeof target === "object"
    ? [(target as Record<string, unknown>).manifestDigest, (target as Record<string, unknown>).userInput, ...((target as Record<string, unknown>).repoDigests as unknown[] ?? [])]
    : [target];
  const findings = r.matches.map((m): Finding => {
    const state = m.vulnerability.fix?.state;
    return {
      id: m.vulnerability.id,
      severity: severityWord(m.vulnerability.severity),
      // grype's fix states: fixed, not-fixed, wont-fix, unknown.
      fix: state === "fixed" ? "yes" : state === "not-fixed" || state === "wont-fix" ? "no" : "unknown",
      package: m.artifact?.name && (m.artifact.version ? `${m.artifact.name} ${m.artifact.version}` : m.artifact.name),
    };
  });
  const scanner = ["grype", r.descriptor?.version].filter(Boolean).join(" ");
  return { format: "grype", scanner, digests: digestsIn(Array.isArray(targetFields) ? targetFields : []), scannedAt: isoTime(r.descriptor?.timestamp), findings };
}

function readSarif(r: z.infer<typeof sarifSchema>): ScanReport {
  const findings: Finding[] = [];
  const digestSources: unknown[] = [];
  const times: (string | undefined)[] = [];
  const names = new Set<string>();
  for (const run of r.runs) {
    names.add([run.tool.driver.name, run.tool.driver.version].filter(Boolean).join(" "));
    const props = (run.properties ?? {}) as Record<string, unknown>;
    for (const key of ["repoDigests", "imageDigest", "digest"]) {
      const v = props[key];
      digestSources.push(...(Array.isArray(v) ? v : [v]));
    }
    for (const inv of run.invocations ?? []) times.push(isoTime(inv.endTimeUtc ?? inv.startTimeUtc));
    const rules = new Map((run.tool.driver.rules ?? []).map((rule) => [rule.id, (rule.properties ?? {}) as Record<string, unknown>]));
    for (const res of run.results ?? []) {
      const ruleProps = rules.get(res.ruleId ?? "") ?? {};
      const text = res.message?.text ?? "";
      // Trivy writes "Fixed Version: <v>" into the message; SARIF itself has no fix field.
      const fixed = /Fixed Version:[ \t]*(\S*)/.exec(text);
      findings.push({
        id: res.ruleId ?? "(no rule id)",
        severity: sarifSeverity(ruleProps, res.level),
        fix: fixed ? (fixed[1] ? "yes" : "no") : "unknown",
        package: /Package:[ \t]*(\S+)/.exec(text)?.[1],
      });
    }
  }
  return { format: "sarif", scanner: [...names].join(", "), digests: digestsIn(digestSources), scannedAt: latest(times), findings };
}

function sarifSeverity(props: Record<string, unknown>, level: string | undefined): Severity {
  const score = Number(props["security-severity"]);
  if (props["security-severity"] !== undefined && Number.isFinite(score)) return severityFromScore(score);
  const tags = Array.isArray(props.tags) ? props.tags : [];
  for (const tag of tags) {
    const s = severityWord(tag);
    if (s !== "unknown") return s;
  }
  // SARIF levels carry no CVSS meaning; map them conservatively so that an error never passes as low.
  if (level === "error") return "high";
  if (level === "warning") return "medium";
  if (level === "note") return "low";
  return "unknown";
}

function readEcr(r: z.infer<typeof ecrSchema>): ScanReport {
  const f = r.imageScanFindings;
  const status = r.imageScanStatus?.status;
  if (status && status !== "COMPLETE" && status !== "ACTIVE") {
    throw new ScanReportError(`the ECR scan has status ${status}, not COMPLETE: wait for the scan to finish and export the findings again`);
  }
  const basic = (f.findings ?? []).map((x): Finding => ({ id: x.name, severity: severityWord(x.severity), fix: "unknown" }));
  const enhanced = (f.enhancedFindings ?? []).map((x): Finding => {
    const pkg = x.packageVulnerabilityDetails?.vulnerablePackages?.[0];
    return {
      id: x.packageVulnerabilityDetails?.vulnerabilityId ?? x.title ?? "(no id)",
      severity: severityWord(x.severity),
      // PARTIAL: some of the affected packages have a fixed version, which is a fix to take.
      fix: x.fixAvailable === "YES" || x.fixAvailable === "PARTIAL" ? "yes" : x.fixAvailable === "NO" ? "no" : "unknown",
      package: pkg?.name && (pkg.version ? `${pkg.name} ${pkg.version}` : pkg.name),
    };
  });
  return { format: "ecr", scanner: enhanced.length > 0 ? "Amazon Inspector (ECR enhanced scanning)" : "Amazon ECR basic scanning", digests: digestsIn([r.imageId.imageDigest]), scannedAt: isoTime(f.imageScanCompletedAt), findings: [...basic, ...enhanced] };
}

function readOccurrences(r: z.infer<typeof occurrencesSchema>): ScanReport {
  const list = (Array.isArray(r) ? r : r.occurrences).filter((o) => o.kind === undefined || o.kind === "VULNERABILITY");
  if (list.length === 0) {
    throw new ScanReportError("an empty list of occurrences does not say which image it is about; export it with `gcloud artifacts docker images describe <image>@<digest> --show-package-vulnerability --format=json` instead");
  }
  const findings = list.map((o): Finding => {
    const v = o.vulnerability;
    const fixKnown = v.fixAvailable ?? (v.packageIssue?.some((p) => p.fixAvailable !== undefined) ? v.packageIssue.some((p) => p.fixAvailable) : undefined);
    return {
      id: o.noteName?.split("/").pop() ?? v.shortDescription ?? "(no id)",
      severity: severityWord(v.effectiveSeverity ?? v.severity),
      fix: fixKnown === undefined ? "unknown" : fixKnown ? "yes" : "no",
      package: v.packageIssue?.[0]?.affectedPackage,
    };
  });
  return { format: "artifact-analysis", scanner: "Artifact Analysis", digests: digestsIn(list.map((o) => o.resourceUri)), scannedAt: latest(list.map((o) => isoTime(o.updateTime ?? o.createTime))), findings };
}

/** `gcloud artifacts docker images describe --show-package-vulnerability --format=json`: occurrences grouped by severity. */
const describeSchema = z.looseObject({
  image_summary: z.looseObject({ digest: z.string(), fully_qualified_digest: str }),
  package_vulnerability_summary: z.looseObject({ vulnerabilities: z.record(z.string(), z.array(occurrenceSchema)).optional() }).optional(),
});

function readDescribe(r: z.infer<typeof describeSchema>): ScanReport {
  const occurrences = Object.values(r.package_vulnerability_summary?.vulnerabilities ?? {}).flat();
  const digests = digestsIn([r.image_summary.digest, r.image_summary.fully_qualified_digest]);
  const base = occurrences.length > 0 ? readOccurrences(occurrences) : { format: "artifact-analysis" as const, scanner: "Artifact Analysis", digests, findings: [] };
  const stray = base.digests.filter((d) => !digests.includes(d));
  if (stray.length > 0) throw new ScanReportError(`the report's occurrences name ${stray.join(", ")}, not the described image ${digests.join(", ")}`);
  return { ...base, digests };
}

const READERS: readonly { format: ReportFormat; detect: (raw: Record<string, unknown> | unknown[]) => boolean; read: (raw: unknown) => ScanReport }[] = [
  { format: "trivy", detect: (r) => !Array.isArray(r) && "SchemaVersion" in r && ("Results" in r || "ArtifactName" in r), read: (raw) => readTrivy(trivySchema.parse(raw)) },
  { format: "grype", detect: (r) => !Array.isArray(r) && "matches" in r, read: (raw) => readGrype(grypeSchema.parse(raw)) },
  { format: "sarif", detect: (r) => !Array.isArray(r) && "runs" in r && "version" in r, read: (raw) => readSarif(sarifSchema.parse(raw)) },
  { format: "ecr", detect: (r) => !Array.isArray(r) && "imageScanFindings" in r, read: (raw) => readEcr(ecrSchema.parse(raw)) },
  { format: "artifact-analysis", detect: (r) => !Array.isArray(r) && "image_summary" in r, read: (raw) => readDescribe(describeSchema.parse(raw)) },
  { format: "artifact-analysis", detect: (r) => Array.isArray(r) || "occurrences" in r, read: (raw) => readOccurrences(occurrencesSchema.parse(raw)) },
];

/**
 * Reads a parsed JSON report of any supported format (detected from its shape, or forced with
 * `format`). Throws a {@link ScanReportError} that says what was expected when the report is
 * of no known format or lacks fields its format requires.
 */
export function readScanReport(raw: unknown, format?: ReportFormat): ScanReport {
  if (raw === null || typeof raw !== "object") throw new ScanReportError(`a scan report must be a JSON object or array; formats read: ${FORMATS.join(", ")}`);
  const shape = raw as Record<string, unknown> | unknown[];
  const reader = READERS.find((r) => (format ? r.format === format && r.detect(shape) : r.detect(shape)));
  if (!reader) {
    throw new ScanReportError(format
      ? `this is not a ${format} report (its top-level fields do not match)`
      : `not a scan report of a known format (${FORMATS.join(", ")}): top-level fields ${Array.isArray(raw) ? "(an array)" : Object.keys(raw).slice(0, 8).join(", ") || "(none)"}`);
  }
  try {
    return reader.read(raw);
  } catch (e) {
    if (e instanceof z.ZodError) {
      const issue = e.issues[0];
      throw new ScanReportError(`not a valid ${reader.format} report: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
    }
    throw e;
  }
}
