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
 * - `sarif`: SARIF 2.1.0 that names the image digest in `runs[].properties` (`repoDigests`,
 *   `imageDigest` or `digest`): Trivy's `--format sarif` does. Grype's SARIF names no digest and
 *   writes its fix only into help text, so it is refused with a pointer to grype's JSON. A result's
 *   rule is found by `ruleIndex`, `rule.index`, `rule.id` or `ruleId`, in the driver or in
 *   `tool.extensions[]` (`rule.toolComponent`) (SARIF 2.1.0 §3.27.5-3.27.7, §3.52); its severity
 *   is the severity word the producer writes (rule tags, "Severity:" in the message or help), then
 *   the rule's `security-severity` score as GitHub code scanning reads it, then the result's
 *   `level`, which defaults to the rule's `defaultConfiguration.level` and only then to "warning"
 *   (§3.27.10, §3.49.14); https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 * - `ecr`: `aws ecr describe-image-scan-findings` (basic `findings[]` and Inspector
 *   `enhancedFindings[]` with `fixAvailable: YES|NO|PARTIAL`, `imageId.imageDigest`,
 *   `imageScanCompletedAt`); an answer with `nextToken` is one page of several and is refused, and
 *   `findingSeverityCounts` must agree with the findings listed;
 *   https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html
 * - `artifact-analysis`: Grafeas vulnerability occurrences (`gcloud artifacts vulnerabilities list
 *   <image>@<digest> --format=json`, or the Container Analysis API's `{occurrences: [...]}`):
 *   `resourceUri` names the digest, `vulnerability.{effectiveSeverity,fixAvailable}`. They are
 *   proto3 JSON, where a `false` boolean is left out: no `fixAvailable` means no fix, and a
 *   `fixedVersion.kind` of `MAXIMUM` says no fixed version exists yet (Grafeas `Version.VersionKind`);
 *   https://cloud.google.com/artifact-analysis/docs/reference/rest/v1/projects.occurrences
 *
 * Findings a producer marks as suppressed or ignored (grype's `ignoredMatches`, Trivy's
 * `ModifiedFindings`, SARIF `suppressions`) still count: the gate's waiver is its own recorded act
 * (`promote --accept-vulnerabilities`), never a file the scanner was given.
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
  return placeWord(v) ?? "unknown";
}

/** A severity word as producers write it, or undefined when `v` is not one (`UNKNOWN` is one: the producer says it does not know). */
function placeWord(v: unknown): Severity | undefined {
  const s = typeof v === "string" ? v.trim().toLowerCase() : "";
  if (s === "critical" || s === "high" || s === "medium" || s === "low" || s === "negligible" || s === "unknown")
    return s;
  // Grafeas says MINIMAL and ECR says INFORMATIONAL for what the others call negligible.
  if (s === "minimal" || s === "informational") return "negligible";
  // ECR basic says UNDEFINED, Inspector UNTRIAGED and Grafeas SEVERITY_UNSPECIFIED for "not placed".
  if (s === "undefined" || s === "untriaged" || s === "severity_unspecified") return "unknown";
  return undefined;
}

/**
 * CVSS score ranges as GitHub code scanning maps `security-severity`: >= 9 critical, >= 7 high,
 * >= 4 medium, > 0 low. A score of 0 is what Trivy writes for UNKNOWN and grype for Negligible and
 * Unknown (their SARIF writers), so it places nothing.
 */
function severityFromScore(score: number): Severity {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score > 0) return "low";
  return "unknown";
}

// Loose shapes: reports carry many fields this reader does not need, and producers add more over time.
const str = z.string().optional().catch(undefined);
const trivyVulnerability = z.looseObject({
  VulnerabilityID: z.string(),
  PkgName: str,
  InstalledVersion: str,
  FixedVersion: str,
  Severity: str,
});
const trivySchema = z.looseObject({
  SchemaVersion: z.number(),
  ArtifactName: str,
  CreatedAt: str,
  Metadata: z.looseObject({ RepoDigests: z.array(z.string()).optional() }).optional(),
  Results: z
    .array(
      z.looseObject({
        Vulnerabilities: z.array(trivyVulnerability).nullish(),
        ExperimentalModifiedFindings: z
          .array(z.looseObject({ Type: str, Status: str, Finding: z.unknown() }))
          .nullish(),
      }),
    )
    .nullish(),
});

const grypeMatch = z.looseObject({
  vulnerability: z.looseObject({
    id: z.string(),
    severity: str,
    fix: z.looseObject({ state: str }).optional(),
  }),
  artifact: z.looseObject({ name: str, version: str }).optional(),
});
const grypeSchema = z.looseObject({
  matches: z.array(grypeMatch),
  ignoredMatches: z.array(grypeMatch).nullish(),
  source: z
    .looseObject({
      type: str,
      target: z.unknown(),
    })
    .optional(),
  descriptor: z.looseObject({ name: str, version: str, timestamp: str }).optional(),
});

const sarifRule = z.looseObject({
  id: z.string(),
  guid: str,
  defaultConfiguration: z.looseObject({ level: str }).optional().catch(undefined),
  properties: z.looseObject({}).optional().catch(undefined),
  help: z.looseObject({ text: str }).optional().catch(undefined),
});
const sarifComponent = z.looseObject({ name: z.string(), version: str, rules: z.array(sarifRule).optional() });
const sarifSchema = z.looseObject({
  version: z.literal("2.1.0"),
  runs: z.array(
    z.looseObject({
      tool: z.looseObject({ driver: sarifComponent, extensions: z.array(sarifComponent).optional() }),
      properties: z.looseObject({}).optional(),
      invocations: z.array(z.looseObject({ endTimeUtc: str, startTimeUtc: str })).optional(),
      results: z
        .array(
          z.looseObject({
            ruleId: str,
            ruleIndex: z.number().int().optional().catch(undefined),
            rule: z
              .looseObject({
                id: str,
                guid: str,
                index: z.number().int().optional().catch(undefined),
                toolComponent: z
                  .looseObject({ index: z.number().int().optional().catch(undefined), name: str })
                  .optional(),
              })
              .optional()
              .catch(undefined),
            kind: str,
            level: str,
            baselineState: str,
            message: z.looseObject({ text: str }).optional(),
            properties: z.looseObject({}).optional().catch(undefined),
          }),
        )
        .optional(),
    }),
  ),
});

const ecrSchema = z.looseObject({
  imageId: z.looseObject({ imageDigest: z.string() }),
  imageScanStatus: z.looseObject({ status: str }).optional(),
  nextToken: z.unknown().optional(),
  NextToken: z.unknown().optional(),
  imageScanFindings: z.looseObject({
    imageScanCompletedAt: z.union([z.string(), z.number()]).optional(),
    findingSeverityCounts: z.record(z.string(), z.number()).optional(),
    findings: z.array(z.looseObject({ name: z.string(), severity: str })).optional(),
    enhancedFindings: z
      .array(
        z.looseObject({
          severity: str,
          fixAvailable: str,
          title: str,
          packageVulnerabilityDetails: z
            .looseObject({
              vulnerabilityId: str,
              vulnerablePackages: z.array(z.looseObject({ name: str, version: str })).optional(),
            })
            .optional(),
        }),
      )
      .optional(),
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
    cvssScore: z.number().optional().catch(undefined),
    fixAvailable: z.boolean().optional(),
    shortDescription: str,
    packageIssue: z
      .array(
        z.looseObject({
          affectedPackage: str,
          fixAvailable: z.boolean().optional(),
          effectiveSeverity: str,
          fixedVersion: z.looseObject({ kind: str, name: str }).optional().catch(undefined),
        }),
      )
      .optional(),
  }),
});
const occurrencesSchema = z.union([
  z.array(occurrenceSchema),
  z.looseObject({ occurrences: z.array(occurrenceSchema) }),
]);

function readTrivy(r: z.infer<typeof trivySchema>): ScanReport {
  const findings: Finding[] = [];
  for (const result of r.Results ?? []) {
    // Findings a .trivyignore or VEX statement set aside (shown with --show-suppressed) still count.
    const suppressed = (result.ExperimentalModifiedFindings ?? [])
      .filter((m) => m.Type === "vulnerability")
      .map((m) => trivyVulnerability.safeParse(m.Finding))
      .filter((p) => p.success)
      .map((p) => p.data);
    for (const v of [...(result.Vulnerabilities ?? []), ...suppressed]) {
      findings.push({
        id: v.VulnerabilityID,
        severity: severityWord(v.Severity),
        fix: v.FixedVersion ? "yes" : "no",
        package: v.PkgName && (v.InstalledVersion ? `${v.PkgName} ${v.InstalledVersion}` : v.PkgName),
      });
    }
  }
  return {
    format: "trivy",
    scanner: "Trivy",
    digests: digestsIn([...(r.Metadata?.RepoDigests ?? []), r.ArtifactName]),
    scannedAt: isoTime(r.CreatedAt),
    findings,
  };
}

function readGrype(r: z.infer<typeof grypeSchema>): ScanReport {
  const target = r.source?.target;
  const targetFields =
    target && typeof target === "object"
      ? [
          (target as Record<string, unknown>).manifestDigest,
          (target as Record<string, unknown>).userInput,
          ...(((target as Record<string, unknown>).repoDigests as unknown[]) ?? []),
        ]
      : [target];
  // Matches a .grype.yaml ignore rule set aside still count (see the waiver note above).
  const findings = [...r.matches, ...(r.ignoredMatches ?? [])].map((m): Finding => {
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
  return {
    format: "grype",
    scanner,
    digests: digestsIn(Array.isArray(targetFields) ? targetFields : []),
    scannedAt: isoTime(r.descriptor?.timestamp),
    findings,
  };
}

type SarifRun = z.infer<typeof sarifSchema>["runs"][number];
type SarifRule = z.infer<typeof sarifRule>;

/**
 * The rule a result is about (SARIF 2.1.0 §3.27.5-3.27.7, §3.52.3): `rule.toolComponent` picks the
 * driver or an extension (by index into `tool.extensions`, or by name); then `ruleIndex` or
 * `rule.index` indexes its `rules`, else `rule.guid`, `rule.id` or `ruleId` names one.
 */
function sarifRuleOf(run: SarifRun, res: NonNullable<SarifRun["results"]>[number]): SarifRule | undefined {
  const tc = res.rule?.toolComponent;
  const extensions = run.tool.extensions ?? [];
  const component =
    tc === undefined
      ? undefined
      : tc.index !== undefined
        ? extensions[tc.index]
        : (extensions.find((e) => e.name === tc.name) ??
          (tc.name === run.tool.driver.name ? run.tool.driver : undefined));
  const components = component ? [component] : [run.tool.driver, ...extensions];
  const index = res.ruleIndex ?? res.rule?.index;
  if (index !== undefined && index >= 0) {
    const byIndex = components[0].rules?.[index];
    if (byIndex) return byIndex;
  }
  const guid = res.rule?.guid;
  if (guid !== undefined) {
    for (const c of components) {
      const found = c.rules?.find((r) => r.guid !== undefined && r.guid.toLowerCase() === guid.toLowerCase());
      if (found) return found;
    }
  }
  const id = res.rule?.id ?? res.ruleId;
  if (id === undefined) return undefined;
  for (const c of components) {
    const found = c.rules?.find((r) => r.id === id);
    if (found) return found;
  }
  return undefined;
}

/** "Severity: HIGH" as Trivy writes it into messages and help texts, and grype into help texts. */
const SEVERITY_LINE = /(?:^|\n)\s*Severity:[ \t]*([A-Za-z_]+)/;

function readSarif(r: z.infer<typeof sarifSchema>): ScanReport {
  const findings: Finding[] = [];
  const digestSources: unknown[] = [];
  const times: (string | undefined)[] = [];
  const names = new Set<string>();
  for (const run of r.runs) {
    if (run.tool.driver.name.trim().toLowerCase() === "grype") {
      throw new ScanReportError(
        "grype's SARIF names no image digest and gives its fix only in help text: attach grype's JSON instead (grype <image>@<digest> -o json)",
      );
    }
    names.add([run.tool.driver.name, run.tool.driver.version].filter(Boolean).join(" "));
    const props = (run.properties ?? {}) as Record<string, unknown>;
    for (const key of ["repoDigests", "imageDigest", "digest"]) {
      const v = props[key];
      digestSources.push(...(Array.isArray(v) ? v : [v]));
    }
    for (const inv of run.invocations ?? []) times.push(isoTime(inv.endTimeUtc ?? inv.startTimeUtc));
    for (const res of run.results ?? []) {
      // Only failures are findings (§3.27.9: kind defaults to "fail"); a result the baseline marks
      // "absent" is one this scan no longer found (§3.27.24).
      const kind = res.kind ?? "fail";
      if (kind === "pass" || kind === "notApplicable" || kind === "informational" || res.baselineState === "absent")
        continue;
      const rule = sarifRuleOf(run, res);
      const text = res.message?.text ?? "";
      // Trivy writes "Fixed Version: <v>" into the message; SARIF itself has no fix field.
      const fixed = /Fixed Version:[ \t]*(\S*)/.exec(text);
      findings.push({
        id: rule?.id ?? res.rule?.id ?? res.ruleId ?? "(no rule id)",
        severity: sarifSeverity(rule, res.properties as Record<string, unknown> | undefined, text, res.level),
        fix: fixed ? (fixed[1] ? "yes" : "no") : "unknown",
        package: /Package:[ \t]*(\S+)/.exec(text)?.[1],
      });
    }
  }
  return {
    format: "sarif",
    scanner: [...names].join(", "),
    digests: digestsIn(digestSources),
    scannedAt: latest(times),
    findings,
  };
}

/**
 * A SARIF result's severity: the word the producer writes (rule tags, then "Severity:" in the
 * message or the rule's help), then the `security-severity` score (the result's, then the rule's;
 * 0.0 places nothing), then the level (the result's, else the rule's default, else "warning").
 */
function sarifSeverity(
  rule: SarifRule | undefined,
  resultProps: Record<string, unknown> | undefined,
  message: string,
  level: string | undefined,
): Severity {
  const props = (rule?.properties ?? {}) as Record<string, unknown>;
  const tags = [
    ...(Array.isArray(resultProps?.tags) ? resultProps.tags : []),
    ...(Array.isArray(props.tags) ? props.tags : []),
  ];
  for (const tag of tags) {
    const s = placeWord(tag);
    if (s !== undefined) return s;
  }
  for (const text of [message, rule?.help?.text ?? ""]) {
    const s = placeWord(SEVERITY_LINE.exec(text)?.[1]);
    if (s !== undefined) return s;
  }
  for (const raw of [resultProps?.["security-severity"], props["security-severity"]]) {
    if (raw === undefined || raw === null || raw === "") continue;
    const score = Number(raw);
    if (Number.isFinite(score)) return severityFromScore(score);
  }
  // SARIF levels carry no CVSS meaning; map them conservatively so that an error never passes as low.
  const effective = level ?? rule?.defaultConfiguration?.level ?? "warning";
  if (effective === "error") return "high";
  if (effective === "warning") return "medium";
  if (effective === "note") return "low";
  return "unknown";
}

function readEcr(r: z.infer<typeof ecrSchema>): ScanReport {
  const f = r.imageScanFindings;
  const status = r.imageScanStatus?.status;
  if (status && status !== "COMPLETE" && status !== "ACTIVE") {
    throw new ScanReportError(
      `the ECR scan has status ${status}, not COMPLETE: wait for the scan to finish and export the findings again`,
    );
  }
  if ((r.nextToken !== undefined && r.nextToken !== null) || (r.NextToken !== undefined && r.NextToken !== null)) {
    throw new ScanReportError(
      "this ECR answer has a nextToken, so it is one page of the findings, not the whole scan: export every page with `aws ecr describe-image-scan-findings --repository-name <repo> --image-id imageDigest=<digest> --output json` without --max-items, --page-size or --no-paginate (the AWS CLI then fetches all pages)",
    );
  }
  if (f.findingSeverityCounts) {
    const listed = new Map<string, number>();
    for (const x of [...(f.findings ?? []), ...(f.enhancedFindings ?? [])]) {
      const word = (x.severity ?? "UNDEFINED").toUpperCase();
      listed.set(word, (listed.get(word) ?? 0) + 1);
    }
    const words = [
      ...new Set([...listed.keys(), ...Object.keys(f.findingSeverityCounts).map((k) => k.toUpperCase())]),
    ].sort();
    const said = (w: string) =>
      Object.entries(f.findingSeverityCounts!)
        .filter(([k]) => k.toUpperCase() === w)
        .reduce((n, [, v]) => n + v, 0);
    const off = words.filter((w) => said(w) !== (listed.get(w) ?? 0));
    if (off.length > 0) {
      throw new ScanReportError(
        `this ECR report is inconsistent: findingSeverityCounts says ${off.map((w) => `${w} ${said(w)}`).join(", ")}, but it lists ${off.map((w) => `${listed.get(w) ?? 0} ${w}`).join(", ")}; export it again, whole and unedited`,
      );
    }
  }
  const basic = (f.findings ?? []).map((x): Finding => ({
    id: x.name,
    severity: severityWord(x.severity),
    fix: "unknown",
  }));
  const enhanced = (f.enhancedFindings ?? []).map((x): Finding => {
    const pkg = x.packageVulnerabilityDetails?.vulnerablePackages?.[0];
    return {
      id: x.packageVulnerabilityDetails?.vulnerabilityId ?? x.title ?? "(no id)",
      severity: severityWord(x.severity),
      // PARTIAL: some of the affected packages have a fixed version, which is a fix to take.
      fix:
        x.fixAvailable === "YES" || x.fixAvailable === "PARTIAL" ? "yes" : x.fixAvailable === "NO" ? "no" : "unknown",
      package: pkg?.name && (pkg.version ? `${pkg.name} ${pkg.version}` : pkg.name),
    };
  });
  return {
    format: "ecr",
    scanner: enhanced.length > 0 ? "Amazon Inspector (ECR enhanced scanning)" : "Amazon ECR basic scanning",
    digests: digestsIn([r.imageId.imageDigest]),
    scannedAt: isoTime(f.imageScanCompletedAt),
    findings: [...basic, ...enhanced],
  };
}

function readOccurrences(r: z.infer<typeof occurrencesSchema>): ScanReport {
  const list = (Array.isArray(r) ? r : r.occurrences).filter((o) => o.kind === undefined || o.kind === "VULNERABILITY");
  if (list.length === 0) {
    throw new ScanReportError(
      "an empty list of occurrences does not say which image it is about; export it with `gcloud artifacts docker images describe <image>@<digest> --show-package-vulnerability --format=json` instead",
    );
  }
  const findings = list.map((o): Finding => {
    const v = o.vulnerability;
    // proto3 JSON leaves out a false boolean, so no fixAvailable is "no fix"; a fixed version of
    // kind MAXIMUM means none exists yet, one of kind NORMAL with a name is a fix.
    const fixed =
      v.fixAvailable === true ||
      (v.packageIssue ?? []).some(
        (p) => p.fixAvailable === true || (p.fixedVersion?.kind === "NORMAL" && !!p.fixedVersion.name),
      );
    // The distro's own severity (effectiveSeverity) when it gives one, else the note's, else the CVSS score.
    const placed = [v.effectiveSeverity, ...(v.packageIssue ?? []).map((p) => p.effectiveSeverity), v.severity]
      .map(placeWord)
      .find((x) => x !== undefined && x !== "unknown");
    return {
      id: o.noteName?.split("/").pop() ?? v.shortDescription ?? "(no id)",
      severity: placed ?? (v.cvssScore !== undefined ? severityFromScore(v.cvssScore) : "unknown"),
      fix: fixed ? "yes" : "no",
      package: v.packageIssue?.[0]?.affectedPackage,
    };
  });
  return {
    format: "artifact-analysis",
    scanner: "Artifact Analysis",
    digests: digestsIn(list.map((o) => o.resourceUri)),
    scannedAt: latest(list.map((o) => isoTime(o.updateTime ?? o.createTime))),
    findings,
  };
}

/** `gcloud artifacts docker images describe --show-package-vulnerability --format=json`: occurrences grouped by severity. */
const describeSchema = z.looseObject({
  image_summary: z.looseObject({ digest: z.string(), fully_qualified_digest: str }),
  package_vulnerability_summary: z
    .looseObject({ vulnerabilities: z.record(z.string(), z.array(occurrenceSchema)).optional() })
    .optional(),
});

function readDescribe(r: z.infer<typeof describeSchema>): ScanReport {
  const occurrences = Object.values(r.package_vulnerability_summary?.vulnerabilities ?? {}).flat();
  const digests = digestsIn([r.image_summary.digest, r.image_summary.fully_qualified_digest]);
  const base =
    occurrences.length > 0
      ? readOccurrences(occurrences)
      : { format: "artifact-analysis" as const, scanner: "Artifact Analysis", digests, findings: [] };
  const stray = base.digests.filter((d) => !digests.includes(d));
  if (stray.length > 0)
    throw new ScanReportError(
      `the report's occurrences name ${stray.join(", ")}, not the described image ${digests.join(", ")}`,
    );
  return { ...base, digests };
}

const READERS: readonly {
  format: ReportFormat;
  detect: (raw: Record<string, unknown> | unknown[]) => boolean;
  read: (raw: unknown) => ScanReport;
}[] = [
  {
    format: "trivy",
    detect: (r) => !Array.isArray(r) && "SchemaVersion" in r && ("Results" in r || "ArtifactName" in r),
    read: (raw) => readTrivy(trivySchema.parse(raw)),
  },
  {
    format: "grype",
    detect: (r) => !Array.isArray(r) && "matches" in r,
    read: (raw) => readGrype(grypeSchema.parse(raw)),
  },
  {
    format: "sarif",
    detect: (r) => !Array.isArray(r) && "runs" in r && "version" in r,
    read: (raw) => readSarif(sarifSchema.parse(raw)),
  },
  {
    format: "ecr",
    detect: (r) => !Array.isArray(r) && "imageScanFindings" in r,
    read: (raw) => readEcr(ecrSchema.parse(raw)),
  },
  {
    format: "artifact-analysis",
    detect: (r) => !Array.isArray(r) && "image_summary" in r,
    read: (raw) => readDescribe(describeSchema.parse(raw)),
  },
  {
    format: "artifact-analysis",
    detect: (r) => Array.isArray(r) || "occurrences" in r,
    read: (raw) => readOccurrences(occurrencesSchema.parse(raw)),
  },
];

/**
 * Reads a parsed JSON report of any supported format (detected from its shape, or forced with
 * `format`). Throws a {@link ScanReportError} that says what was expected when the report is
 * of no known format or lacks fields its format requires.
 */
export function readScanReport(raw: unknown, format?: ReportFormat): ScanReport {
  if (raw === null || typeof raw !== "object")
    throw new ScanReportError(`a scan report must be a JSON object or array; formats read: ${FORMATS.join(", ")}`);
  const shape = raw as Record<string, unknown> | unknown[];
  const reader = READERS.find((r) => (format ? r.format === format && r.detect(shape) : r.detect(shape)));
  if (!reader) {
    throw new ScanReportError(
      format
        ? `this is not a ${format} report (its top-level fields do not match)`
        : `not a scan report of a known format (${FORMATS.join(", ")}): top-level fields ${Array.isArray(raw) ? "(an array)" : Object.keys(raw).slice(0, 8).join(", ") || "(none)"}`,
    );
  }
  try {
    return reader.read(raw);
  } catch (e) {
    if (e instanceof z.ZodError) {
      const issue = e.issues[0];
      throw new ScanReportError(
        `not a valid ${reader.format} report: ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
      );
    }
    throw e;
  }
}
