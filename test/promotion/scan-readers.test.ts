import * as fs from "node:fs";
import * as path from "node:path";
import { countFindings, evaluateGate, type ScanSummary, type VulnerabilityGate } from "../../promotion/scan/gate";
import { readScanReport, ScanReportError, type ScanReport } from "../../promotion/scan/report";

/** Outputs published by the scanners themselves (see upstream/README.md), and fixtures written here. */
const UPSTREAM = path.join(__dirname, "fixtures", "scan", "upstream");
const LOCAL = path.join(__dirname, "fixtures", "scan");
const PODINFO = "sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";
const NOW = new Date("2026-11-29T12:00:00Z").getTime();

const load = (dir: string, name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as Record<string, unknown>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The summary the gate would read of a report. */
function summaryOf(r: ScanReport, scannedAt = "2026-11-29T00:00:00Z"): ScanSummary {
  return {
    digest: PODINFO,
    format: r.format,
    scanner: r.scanner,
    scannedAt: r.scannedAt ?? scannedAt,
    counts: countFindings(r.findings),
    top: r.findings,
  };
}
const criticalZero: VulnerabilityGate = { max: { critical: 0 }, maxFixable: {} };
const fixableHighZero: VulnerabilityGate = { max: {}, maxFixable: { high: 0 } };
const judge = (gate: VulnerabilityGate, r: ScanReport) =>
  evaluateGate(gate, { web: PODINFO }, () => [summaryOf(r)], NOW)[0].problems;

/** A SARIF report with one run, as a scanner that names the digest writes it. */
function sarif(run: Record<string, unknown>): Record<string, unknown> {
  return { version: "2.1.0", runs: [{ properties: { repoDigests: [`ghcr.io/x/web@${PODINFO}`] }, ...run }] };
}
const rule98 = { id: "CVE-2024-3094", properties: { "security-severity": "9.8" } };

describe("SARIF 2.1.0 as the specification reads it", () => {
  it("finds the rule of a result that names it only by ruleIndex (§3.27.6), so a 9.8 finding is critical and fails critical: 0", () => {
    const r = readScanReport(
      sarif({
        tool: { driver: { name: "Scanner", rules: [{ id: "CVE-0000-0001" }, rule98] } },
        results: [{ ruleIndex: 1, level: "error", message: { text: "x" } }],
      }),
    );
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([["CVE-2024-3094", "critical"]]);
    expect(judge(criticalZero, r)).toEqual(["1 findings at critical or above (at most 0): CVE-2024-3094"]);
  });

  it("finds the rule through a result's rule object, by index, id or guid (§3.27.7, §3.52)", () => {
    const byIndex = readScanReport(
      sarif({ tool: { driver: { name: "Scanner", rules: [{ id: "A" }, rule98] } }, results: [{ rule: { index: 1 } }] }),
    );
    const byId = readScanReport(
      sarif({
        tool: { driver: { name: "Scanner", rules: [{ id: "A" }, rule98] } },
        results: [{ rule: { id: "CVE-2024-3094" } }],
      }),
    );
    const byGuid = readScanReport(
      sarif({
        tool: {
          driver: {
            name: "Scanner",
            rules: [{ id: "A" }, { ...rule98, guid: "1b7a2c1e-0d2f-4c3a-9e8f-0a1b2c3d4e5f" }],
          },
        },
        results: [{ rule: { guid: "1B7A2C1E-0D2F-4C3A-9E8F-0A1B2C3D4E5F" } }],
      }),
    );
    expect(byIndex.findings[0].severity).toBe("critical");
    expect(byId.findings[0].severity).toBe("critical");
    expect(byGuid.findings[0].severity).toBe("critical");
  });

  it("finds rules that live in tool.extensions, by the result's toolComponent", () => {
    const r = readScanReport(
      sarif({
        tool: {
          driver: { name: "Scanner", rules: [] },
          extensions: [{ name: "plugin", rules: [{ id: "P" }, rule98] }],
        },
        results: [{ rule: { index: 1, toolComponent: { index: 0 } } }, { ruleId: "CVE-2024-3094" }],
      }),
    );
    expect(r.findings.map((f) => f.severity)).toEqual(["critical", "critical"]);
  });

  it('takes a missing level from the rule\'s defaultConfiguration.level, and only then "warning" (§3.27.10)', () => {
    const r = readScanReport(
      sarif({
        tool: {
          driver: { name: "Scanner", rules: [{ id: "E", defaultConfiguration: { level: "error" } }, { id: "W" }] },
        },
        results: [{ ruleId: "E" }, { ruleId: "W" }, { ruleId: "E", level: "note" }],
      }),
    );
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([
      ["E", "high"],
      ["W", "medium"],
      ["E", "low"],
    ]);
  });

  it("counts only failures: pass, notApplicable and absent-from-baseline results are no findings", () => {
    const r = readScanReport(
      sarif({
        tool: { driver: { name: "Scanner", rules: [rule98] } },
        results: [
          { ruleId: "CVE-2024-3094", kind: "pass" },
          { ruleId: "CVE-2024-3094", kind: "notApplicable" },
          { ruleId: "CVE-2024-3094", baselineState: "absent" },
          { ruleId: "CVE-2024-3094", kind: "fail" },
        ],
      }),
    );
    expect(r.findings).toHaveLength(1);
  });

  it("reads Trivy's own SARIF golden file: severity from its tags, fix from the message, four results of two rules", () => {
    const r = readScanReport(load(UPSTREAM, "trivy-alpine-310.sarif.json"));
    expect(r.scanner).toBe("Trivy dev");
    expect(r.findings.map((f) => [f.id, f.severity, f.fix, f.package])).toEqual([
      ["CVE-2019-1549", "medium", "yes", "libcrypto1.1"],
      ["CVE-2019-1551", "medium", "yes", "libcrypto1.1"],
      ["CVE-2019-1549", "medium", "yes", "libssl1.1"],
      ["CVE-2019-1551", "medium", "yes", "libssl1.1"],
    ]);
    // Scanned from a local tarball: no repo digest, so it cannot be attached to any release.
    expect(r.digests).toEqual([]);
  });

  it("reads the severity word Trivy writes before its score: CRITICAL with a CVSS of 7.5 is critical", () => {
    const golden = load(UPSTREAM, "trivy-alpine-310.sarif.json") as {
      runs: { tool: { driver: { rules: { properties: { tags: string[]; "security-severity": string } }[] } } }[];
    };
    const edited = clone(golden);
    edited.runs[0].tool.driver.rules[0].properties.tags = ["vulnerability", "security", "CRITICAL"];
    edited.runs[0].tool.driver.rules[0].properties["security-severity"] = "7.5";
    expect(
      readScanReport(edited)
        .findings.filter((f) => f.id === "CVE-2019-1549")
        .map((f) => f.severity),
    ).toEqual(["critical", "critical"]);
  });
});

describe("scores and words that mean unknown", () => {
  it('reads Trivy\'s UNKNOWN (tag UNKNOWN, security-severity "0.0", as its SARIF writer emits) as unknown, never negligible', () => {
    const r = readScanReport(
      sarif({
        tool: {
          driver: {
            name: "Trivy",
            rules: [
              {
                id: "CVE-2026-1",
                properties: { tags: ["vulnerability", "security", "UNKNOWN"], "security-severity": "0.0" },
              },
            ],
          },
        },
        results: [
          { ruleId: "CVE-2026-1", level: "note", message: { text: "Package: a\nSeverity: UNKNOWN\nFixed Version: 1" } },
        ],
      }),
    );
    expect(r.findings[0].severity).toBe("unknown");
    expect(judge(criticalZero, r)).toEqual([
      "1 findings at critical or above (at most 0), 1 of them of unknown severity (counted against every limit): CVE-2026-1",
    ]);
  });

  it("reads a bare 0.0 score with no word beside it as unknown", () => {
    const r = readScanReport(
      sarif({
        tool: { driver: { name: "Scanner", rules: [{ id: "X", properties: { "security-severity": "0.0" } }] } },
        results: [{ ruleId: "X", level: "note" }],
      }),
    );
    expect(r.findings[0].severity).toBe("unknown");
  });

  it("lets an unknown finding through only where the stage says in so many words what it counts as", () => {
    const r = readScanReport(
      sarif({
        tool: { driver: { name: "Scanner", rules: [{ id: "X", properties: { "security-severity": "0.0" } }] } },
        results: [{ ruleId: "X" }],
      }),
    );
    expect(judge({ ...criticalZero, unknownAs: "low" }, r)).toEqual([]);
    expect(judge({ max: { low: 0 }, maxFixable: {}, unknownAs: "low" }, r)).toEqual([
      "1 findings at low or above (at most 0), 1 of them of unknown severity (counted as low): X",
    ]);
  });
});

describe("grype", () => {
  it("refuses grype's SARIF (no image digest, fix only in help text), pointing to its JSON output", () => {
    expect(() => readScanReport(load(UPSTREAM, "grype-image.sarif.json"))).toThrow(ScanReportError);
    expect(() => readScanReport(load(UPSTREAM, "grype-image.sarif.json"))).toThrow(
      /grype's SARIF names no image digest.*-o json/,
    );
  });

  it("reads grype's own JSON golden file: its manifest digest, Low and Critical, a fixed and an unknown fix state, no scan time", () => {
    const r = readScanReport(load(UPSTREAM, "grype-image.json"));
    expect(r.digests).toContain("sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5");
    expect(r.findings.map((f) => [f.id, f.severity, f.fix])).toEqual([
      ["CVE-1999-0001", "low", "yes"],
      ["CVE-1999-0002", "critical", "unknown"],
    ]);
    expect(r.scannedAt).toBeUndefined();
    // A stage with maxAge cannot judge a report that does not say when it ran.
    const problems = evaluateGate(
      { max: {}, maxFixable: {}, maxAgeMs: 86_400_000, maxAge: "1d" },
      { web: PODINFO },
      () => [{ ...summaryOf(r), scannedAt: undefined }],
      NOW,
    )[0].problems;
    expect(problems).toEqual([
      "the grype report does not say when it was scanned, and the stage needs one younger than 1d",
    ]);
  });

  it("counts matches an ignore rule set aside (ignoredMatches): a waiver is not a scanner setting", () => {
    const golden = load(UPSTREAM, "grype-image.json") as { matches: unknown[]; ignoredMatches?: unknown[] };
    const edited = clone(golden);
    edited.ignoredMatches = edited.matches.splice(1, 1);
    const r = readScanReport(edited);
    expect(r.findings.map((f) => f.id)).toEqual(["CVE-1999-0001", "CVE-1999-0002"]);
    expect(judge(criticalZero, r)).toEqual(["1 findings at critical or above (at most 0): CVE-1999-0002"]);
  });
});

describe("Trivy JSON", () => {
  it("counts findings a .trivyignore or VEX statement set aside (ExperimentalModifiedFindings)", () => {
    const report = load(LOCAL, "trivy.json") as {
      Results: { Vulnerabilities: { Severity: string }[] | null; ExperimentalModifiedFindings?: unknown[] }[];
    };
    const edited = clone(report);
    const vulns = edited.Results[1].Vulnerabilities!;
    const [critical] = vulns.splice(
      vulns.findIndex((v) => v.Severity === "CRITICAL"),
      1,
    );
    edited.Results[1].ExperimentalModifiedFindings = [
      { Type: "vulnerability", Status: "ignored", Statement: "accepted", Source: ".trivyignore", Finding: critical },
    ];
    expect(countFindings(readScanReport(edited).findings).critical.total).toBe(
      countFindings(readScanReport(report).findings).critical.total,
    );
    expect(countFindings(readScanReport(edited).findings).critical.total).toBe(1);
  });
});

describe("ECR describe-image-scan-findings", () => {
  it("reads the AWS CLI's documented example output", () => {
    const r = readScanReport(load(UPSTREAM, "ecr-aws-cli-example.json"));
    expect(r.digests).toEqual(["sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6"]);
    expect(r.scannedAt).toBe("2020-01-24T04:11:45.000Z");
    expect(r.findings).toEqual([{ id: "CVE-2019-5188", severity: "medium", fix: "unknown" }]);
  });

  it("refuses one page of a paginated answer (nextToken, or the CLI's NextToken), saying how to get every page", () => {
    const page = { ...load(UPSTREAM, "ecr-aws-cli-example.json"), nextToken: "eyJ..." };
    expect(() => readScanReport(page)).toThrow(
      /nextToken, so it is one page of the findings, not the whole scan: .*without --max-items/,
    );
    const cliPage = { ...load(UPSTREAM, "ecr-aws-cli-example.json"), NextToken: "eyJ..." };
    expect(() => readScanReport(cliPage)).toThrow(/one page/);
  });

  it("refuses a report whose findingSeverityCounts disagree with its findings", () => {
    const edited = load(UPSTREAM, "ecr-aws-cli-example.json") as {
      imageScanFindings: { findingSeverityCounts: Record<string, number>; findings: unknown[] };
    };
    edited.imageScanFindings.findings = [];
    expect(() => readScanReport(edited)).toThrow(
      /inconsistent: findingSeverityCounts says MEDIUM 1, but it lists 0 MEDIUM/,
    );
    const more = load(UPSTREAM, "ecr-aws-cli-example.json") as typeof edited;
    more.imageScanFindings.findingSeverityCounts = { MEDIUM: 1, CRITICAL: 2 };
    expect(() => readScanReport(more)).toThrow(/CRITICAL 2, but it lists 0 CRITICAL/);
  });
});

describe("Artifact Analysis occurrences (proto3 JSON)", () => {
  const occurrence = (vulnerability: Record<string, unknown>) => [
    {
      kind: "VULNERABILITY",
      resourceUri: `https://europe-west1-docker.pkg.dev/p/r/web@${PODINFO}`,
      noteName: "projects/goog-vulnz/notes/CVE-2026-7",
      updateTime: "2026-11-29T00:00:00Z",
      vulnerability,
    },
  ];

  it("reads a left-out fixAvailable as false: a high finding nobody can fix passes maxFixable: { high: 0 }", () => {
    const r = readScanReport(occurrence({ effectiveSeverity: "HIGH", packageIssue: [{ affectedPackage: "openssl" }] }));
    expect(r.findings[0].fix).toBe("no");
    expect(judge(fixableHighZero, r)).toEqual([]);
  });

  it("reads a fixed version of kind MAXIMUM as no fix, and a NORMAL one or fixAvailable: true as a fix that blocks", () => {
    expect(
      readScanReport(
        occurrence({
          effectiveSeverity: "HIGH",
          packageIssue: [{ affectedPackage: "a", fixedVersion: { kind: "MAXIMUM" } }],
        }),
      ).findings[0].fix,
    ).toBe("no");
    const normal = readScanReport(
      occurrence({
        effectiveSeverity: "HIGH",
        packageIssue: [{ affectedPackage: "a", fixedVersion: { kind: "NORMAL", name: "3.0.8" } }],
      }),
    );
    expect(normal.findings[0].fix).toBe("yes");
    expect(judge(fixableHighZero, normal)).toEqual([
      "1 findings with a fix available at high or above (at most 0): CVE-2026-7",
    ]);
    expect(readScanReport(occurrence({ effectiveSeverity: "HIGH", fixAvailable: true })).findings[0].fix).toBe("yes");
  });

  it("takes the note's severity or the CVSS score when the distro's effectiveSeverity is SEVERITY_UNSPECIFIED", () => {
    expect(
      readScanReport(occurrence({ effectiveSeverity: "SEVERITY_UNSPECIFIED", severity: "CRITICAL" })).findings[0]
        .severity,
    ).toBe("critical");
    expect(
      readScanReport(occurrence({ effectiveSeverity: "SEVERITY_UNSPECIFIED", cvssScore: 9.1 })).findings[0].severity,
    ).toBe("critical");
    expect(readScanReport(occurrence({ effectiveSeverity: "SEVERITY_UNSPECIFIED" })).findings[0].severity).toBe(
      "unknown",
    );
  });
});
