import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Refusal, UsageError } from "../../promotion/errors";
import { countFindings, evaluateGate, type ScanSummary, type VulnerabilityGate } from "../../promotion/scan/gate";
import { readScanReport, ScanReportError, type ScanReport } from "../../promotion/scan/report";
import { MAX_REPORT_BYTES, ScanStore, TOP_FINDINGS } from "../../promotion/scan/store";

const FIXTURES = path.join(__dirname, "fixtures", "scan");
const PODINFO = "sha256:4a72d3ce7eda670b78baadd8995384db29483dfc76e12f81a24e1fc1256c0a8e";
const OTHER = `sha256:${"b".repeat(64)}`;
const NOW = new Date("2026-11-29T12:00:00Z");

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
}

function tally(report: ScanReport): Record<string, string> {
  const c = countFindings(report.findings);
  return Object.fromEntries(
    Object.entries(c)
      .filter(([, v]) => v.total > 0)
      .map(([s, v]) => [s, `${v.total}/${v.fixable}`]),
  );
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "scan-"));
}

describe("scan reports of every supported format", () => {
  it("reads a Trivy JSON report: digests from RepoDigests, fix from FixedVersion, null result lists", () => {
    const r = readScanReport(fixture("trivy.json"));
    expect(r.format).toBe("trivy");
    expect(r.digests).toEqual([PODINFO]);
    expect(r.scannedAt).toBe("2026-11-28T09:12:44.118Z");
    // total/fixable per severity: the HIGH without a FixedVersion is not fixable.
    expect(tally(r)).toEqual({ critical: "1/1", high: "2/1", medium: "1/1", unknown: "1/1" });
  });

  it("reads a Grype JSON report: fix states fixed, not-fixed, wont-fix and unknown", () => {
    const r = readScanReport(fixture("grype.json"));
    expect(r.format).toBe("grype");
    expect(r.scanner).toBe("grype 0.86.1");
    expect(r.digests).toEqual([PODINFO]);
    expect(tally(r)).toEqual({ high: "2/1", medium: "1/1", negligible: "1/0" });
    expect(r.findings.find((f) => f.id === "GHSA-vvpx-j8f3-3w6h")?.fix).toBe("unknown");
  });

  it("reads SARIF: severity from security-severity, then tags; fix from the message when the scanner writes it", () => {
    const r = readScanReport(fixture("sarif.json"));
    expect(r.format).toBe("sarif");
    expect(r.scanner).toBe("Trivy 0.58.1");
    expect(r.digests).toEqual([PODINFO]);
    expect(r.scannedAt).toBe("2026-11-28T09:12:44.000Z");
    expect(r.findings.map((f) => [f.id, f.severity, f.fix])).toEqual([
      ["CVE-2022-41723", "critical", "yes"],
      ["CVE-2023-0464", "high", "no"],
      ["CVE-2023-0465", "medium", "unknown"],
    ]);
  });

  it("reads ECR basic scanning findings, whose fix availability is unknown", () => {
    const r = readScanReport(fixture("ecr-basic.json"));
    expect(r.format).toBe("ecr");
    expect(r.digests).toEqual([PODINFO]);
    expect(r.scannedAt).toBe("2026-11-27T18:30:00.000Z");
    expect(tally(r)).toEqual({ high: "1/1", negligible: "1/1" });
  });

  it("reads ECR enhanced findings: PARTIAL counts as a fix, epoch-second scan times", () => {
    const r = readScanReport(fixture("ecr-enhanced.json"));
    expect(r.scanner).toMatch(/Inspector/);
    expect(r.scannedAt).toBe("2026-11-27T18:30:00.000Z");
    expect(tally(r)).toEqual({ critical: "1/1", high: "2/1" });
  });

  it("reads Artifact Analysis occurrences (effectiveSeverity wins, MINIMAL is negligible) and gcloud's describe output", () => {
    const list = readScanReport(fixture("artifact-analysis.json"));
    expect(list.format).toBe("artifact-analysis");
    expect(list.digests).toEqual([PODINFO]);
    expect(list.scannedAt).toBe("2026-11-28T07:45:10.000Z");
    // proto3 JSON leaves out a false fixAvailable: the MINIMAL finding without one has no fix.
    expect(tally(list)).toEqual({ critical: "1/1", high: "1/0", negligible: "1/0" });
    expect(list.findings[0].id).toBe("CVE-2022-41723");
    const described = readScanReport(fixture("artifact-analysis-describe.json"));
    expect(described.digests).toEqual([PODINFO]);
    expect(tally(described)).toEqual({ high: "1/0" });
  });

  it("refuses what is no report, naming the formats it reads", () => {
    expect(() => readScanReport({ items: [] })).toThrow(
      /not a scan report of a known format \(trivy, grype, sarif, ecr, artifact-analysis\): top-level fields items/,
    );
    expect(() => readScanReport(null)).toThrow(ScanReportError);
    expect(() => readScanReport("CRITICAL: 0")).toThrow(/must be a JSON object or array/);
    expect(() => readScanReport({ SchemaVersion: 2, Results: [{ Vulnerabilities: [{ Severity: "HIGH" }] }] })).toThrow(
      /not a valid trivy report: Results\.0\.Vulnerabilities\.0\.VulnerabilityID/,
    );
    expect(() => readScanReport(fixture("grype.json"), "trivy")).toThrow(/this is not a trivy report/);
  });

  it("refuses an empty occurrence list, which names no image, and a describe output mixing images", () => {
    expect(() => readScanReport([])).toThrow(/empty list of occurrences does not say which image/);
    const mixed = fixture("artifact-analysis-describe.json") as {
      package_vulnerability_summary: { vulnerabilities: { HIGH: { resourceUri: string }[] } };
    };
    mixed.package_vulnerability_summary.vulnerabilities.HIGH[0].resourceUri = `https://europe-west1-docker.pkg.dev/p/r/x@${OTHER}`;
    expect(() => readScanReport(mixed)).toThrow(/occurrences name sha256:b{64}, not the described image/);
  });

  it("refuses an ECR scan that has not completed", () => {
    const pending = fixture("ecr-basic.json") as { imageScanStatus: { status: string } };
    pending.imageScanStatus.status = "IN_PROGRESS";
    expect(() => readScanReport(pending)).toThrow(/status IN_PROGRESS, not COMPLETE/);
  });
});

function summary(
  counts: Partial<Record<"critical" | "high" | "medium", [number, number]>>,
  scannedAt?: string,
): ScanSummary {
  const full = countFindings([]);
  const c = Object.fromEntries(
    Object.entries(full).map(([s, v]) => {
      const given = counts[s as "critical"];
      return [s, given ? { total: given[0], fixable: given[1] } : v];
    }),
  ) as ScanSummary["counts"];
  return {
    digest: PODINFO,
    format: "trivy",
    scanner: "Trivy",
    scannedAt,
    counts: c,
    top: [{ id: "CVE-1", severity: "critical", fix: "yes" }],
  };
}

describe("the vulnerability gate", () => {
  const images = { web: PODINFO };
  const strict: VulnerabilityGate = {
    max: { critical: 0 },
    maxFixable: { high: 0 },
    maxAgeMs: 7 * 86_400_000,
    maxAge: "7d",
  };
  const at = (s: ScanSummary) => () => [s];

  it("passes an image whose only high finding has no fix", () => {
    const [v] = evaluateGate(strict, images, at(summary({ high: [1, 0] }, "2026-11-28T00:00:00Z")), NOW.getTime());
    expect(v.problems).toEqual([]);
  });

  it("refuses a critical finding, and counts a fixable critical against the fixable-high limit too", () => {
    const [v] = evaluateGate(strict, images, at(summary({ critical: [1, 1] }, "2026-11-28T00:00:00Z")), NOW.getTime());
    expect(v.problems).toEqual([
      "1 findings at critical or above (at most 0): CVE-1",
      "1 findings with a fix available at high or above (at most 0): CVE-1",
    ]);
  });

  it("refuses a fixable high finding", () => {
    const [v] = evaluateGate(strict, images, at(summary({ high: [3, 2] }, "2026-11-28T00:00:00Z")), NOW.getTime());
    expect(v.problems).toEqual(["2 findings with a fix available at high or above (at most 0): CVE-1, ..."]);
  });

  it("refuses an unscanned image, a stale report and a report without a scan time", () => {
    expect(evaluateGate(strict, images, () => [], NOW.getTime())[0].problems[0]).toBe("no scan report attached");
    expect(evaluateGate(strict, images, at(summary({}, "2026-11-20T00:00:00Z")), NOW.getTime())[0].problems).toEqual([
      "the newest report (2026-11-20T00:00:00Z) is older than 7d: scan the digest again",
    ]);
    expect(evaluateGate(strict, images, at(summary({})), NOW.getTime())[0].problems[0]).toMatch(
      /does not say when it was scanned/,
    );
  });

  it("judges by the newest scan of the digest", () => {
    const old = summary({ critical: [1, 1] }, "2026-11-20T00:00:00Z");
    const fresh = summary({}, "2026-11-28T00:00:00Z");
    expect(evaluateGate(strict, images, () => [fresh, old], NOW.getTime())[0].problems).toEqual([]);
    // Alone, the older report is judged as it is: stale, with a critical finding that also has a fix.
    expect([...evaluateGate(strict, images, () => [old], NOW.getTime())[0].problems].sort()).toEqual([
      "1 findings at critical or above (at most 0): CVE-1",
      "1 findings with a fix available at high or above (at most 0): CVE-1",
      "the newest report (2026-11-20T00:00:00Z) is older than 7d: scan the digest again",
    ]);
  });
});

describe("attaching a report to a digest", () => {
  it("stores a bounded summary, never the report, and stores the same report once", () => {
    const store = new ScanStore(tmp(), "shop");
    const { scan, created } = store.attach(path.join(FIXTURES, "trivy.json"), PODINFO, NOW, "ci@example.com");
    expect(created).toBe(true);
    expect(scan.report.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect(scan.counts.critical).toEqual({ total: 1, fixable: 1 });
    expect(scan.top[0]).toEqual({
      id: "CVE-2022-41723",
      severity: "critical",
      fix: "yes",
      package: "golang.org/x/net v0.4.0",
    });
    expect(store.attach(path.join(FIXTURES, "trivy.json"), PODINFO, NOW, "ci@example.com").created).toBe(false);
    expect(store.scansOf(PODINFO)).toHaveLength(1);
  });

  it("keeps a summary small whatever the report's size", () => {
    const dir = tmp();
    const many = {
      SchemaVersion: 2,
      ArtifactName: `x@${PODINFO}`,
      Results: [
        {
          Vulnerabilities: Array.from({ length: 20_000 }, (_, i) => ({
            VulnerabilityID: `CVE-2026-${i}`,
            PkgName: "p".repeat(500),
            Severity: "HIGH",
            FixedVersion: "1",
          })),
        },
      ],
    };
    const file = path.join(dir, "big.json");
    fs.writeFileSync(file, JSON.stringify(many));
    const store = new ScanStore(path.join(dir, "scans"), "shop");
    const { scan } = store.attach(file, PODINFO, NOW, "ci");
    expect(scan.counts.high).toEqual({ total: 20_000, fixable: 20_000 });
    expect(scan.top).toHaveLength(TOP_FINDINGS);
    const stored = fs.readdirSync(path.join(dir, "scans", "shop", PODINFO.slice(7)));
    expect(fs.statSync(path.join(dir, "scans", "shop", PODINFO.slice(7), stored[0])).size).toBeLessThan(16 * 1024);
  });

  it("refuses a report about another digest, naming what it is about", () => {
    const store = new ScanStore(tmp(), "shop");
    expect(() => store.attach(path.join(FIXTURES, "grype.json"), OTHER, NOW, "ci")).toThrow(Refusal);
    expect(() => store.attach(path.join(FIXTURES, "grype.json"), OTHER, NOW, "ci")).toThrow(
      /is a grype report about sha256:4a72d3ce[0-9a-f]+, not sha256:b{64}/,
    );
    expect(store.scansOf(OTHER)).toEqual([]);
  });

  it("refuses a report dated in the future", () => {
    expect(() =>
      new ScanStore(tmp(), "shop").attach(
        path.join(FIXTURES, "trivy.json"),
        PODINFO,
        new Date("2026-11-01T00:00:00Z"),
        "ci",
      ),
    ).toThrow(/scanned at 2026-11-28T09:12:44.118Z, in the future/);
  });

  it("gives usage errors for a missing, non-JSON, oversized or unknown report", () => {
    const dir = tmp();
    const store = new ScanStore(path.join(dir, "scans"), "shop");
    expect(() => store.attach(path.join(dir, "nope.json"), PODINFO, NOW, "ci")).toThrow(UsageError);
    fs.writeFileSync(path.join(dir, "bad.json"), "{ not json");
    expect(() => store.attach(path.join(dir, "bad.json"), PODINFO, NOW, "ci")).toThrow(/bad\.json: not JSON/);
    fs.writeFileSync(path.join(dir, "other.json"), '{"items":[null]}');
    expect(() => store.attach(path.join(dir, "other.json"), PODINFO, NOW, "ci")).toThrow(
      /not a scan report of a known format/,
    );
    const huge = path.join(dir, "huge.json");
    fs.writeFileSync(huge, "");
    fs.truncateSync(huge, MAX_REPORT_BYTES + 1);
    expect(() => store.attach(huge, PODINFO, NOW, "ci")).toThrow(/more than the \d+ a scan report may have/);
    expect(() => store.attach(dir, PODINFO, NOW, "ci")).toThrow(/not a regular file/);
    expect(fs.existsSync(path.join(dir, "scans"))).toBe(false);
  });

  it("names a stored summary that was edited into something else, or moved to another digest", () => {
    const dir = tmp();
    const store = new ScanStore(dir, "shop");
    store.attach(path.join(FIXTURES, "trivy.json"), PODINFO, NOW, "ci");
    const folder = path.join(dir, "shop", PODINFO.slice(7));
    const [name] = fs.readdirSync(folder);
    const file = path.join(folder, name);
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.replace('"total": 1', '"total": -1'));
    expect(() => store.scansOf(PODINFO)).toThrow(
      new RegExp(`${name.replace(".", "\\.")} is not a scan summary: counts\\.\\w+\\.total`),
    );
    fs.writeFileSync(file, "{");
    expect(() => store.scansOf(PODINFO)).toThrow(/is not valid JSON/);
    fs.mkdirSync(path.join(dir, "shop", OTHER.slice(7)));
    fs.writeFileSync(path.join(dir, "shop", OTHER.slice(7), name), text);
    expect(() => store.scansOf(OTHER)).toThrow(/is about sha256:4a72.* but is filed under sha256:b{64}/);
  });
});
