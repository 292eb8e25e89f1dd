import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { DIGEST } from "../../lib/images";
import { Refusal, UsageError } from "../errors";
import { writeNewFile } from "../../lib/files";
import { canonicalJson } from "../../lib/json";
import { countFindings, type ScanSummary } from "./gate";
import { FORMATS, readScanReport, ScanReportError, SEVERITIES, type ReportFormat } from "./report";

/** Reports larger than this are refused: a whole-image Trivy report of a large image is a few MB. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
/** How many of the worst findings a stored summary keeps; the counts cover all of them. */
export const TOP_FINDINGS = 20;
/** A scan time later than now by more than this is refused (clock skew between CI and scanner). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

const severity = z.enum(SEVERITIES);
const summarySchema = z.strictObject({
  /** The lane that attached it: a lane's gate reads only its own lane's scans. */
  lane: z.string().min(1),
  digest: z.string().regex(DIGEST),
  format: z.enum(FORMATS),
  scanner: z.string(),
  scannedAt: z.iso.datetime().optional(),
  attachedAt: z.iso.datetime(),
  attachedBy: z.string().min(1),
  report: z.strictObject({
    file: z.string(),
    sha256: z.string().regex(/^[a-f0-9]{64}$/),
    bytes: z.number().int().min(0),
  }),
  counts: z.record(severity, z.strictObject({ total: z.number().int().min(0), fixable: z.number().int().min(0) })),
  top: z
    .array(
      z.strictObject({
        id: z.string(),
        severity,
        fix: z.enum(["yes", "no", "unknown"]),
        package: z.string().optional(),
      }),
    )
    .max(TOP_FINDINGS),
});

/** A stored scan summary: the gate's input, plus where it came from. Never the report itself. */
export type StoredScan = z.infer<typeof summarySchema> & ScanSummary;

/** The hash a stored summary's file is named by: of its canonical JSON, so an edited summary no longer matches its name. */
export function summaryHash(scan: z.infer<typeof summarySchema>): string {
  return createHash("sha256").update(canonicalJson(scan)).digest("hex");
}

/**
 * One lane's scan summaries by image digest (`stacks/scans/<lane>/<64 hex>/<summary hash>.json`).
 * A digest is scanned again over time as new vulnerabilities are published, so it has one file per
 * report; files are written once and never rewritten, and each is named by the hash of its content,
 * so an edit (zeroed counts, a shorter `top`) is refused where the summary is read. A lane's gate
 * rests only on the scans its own lane attached: another lane attaching a report about the same
 * digest changes nothing for it. Every release of the lane that carries the digest shares them.
 */
export class ScanStore {
  constructor(
    readonly dir: string,
    readonly lane: string,
  ) {}

  private folder(digest: string): string {
    return path.join(this.dir, this.lane, digest.slice("sha256:".length));
  }

  /** Every scan this lane attached to a digest. A file that is not a valid, unedited summary is refused, naming it. */
  scansOf(digest: string): StoredScan[] {
    if (!DIGEST.test(digest)) return [];
    const folder = this.folder(digest);
    if (!fs.existsSync(folder)) return [];
    return fs
      .readdirSync(folder)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => this.read(path.join(folder, f), digest));
  }

  private read(file: string, digest: string): StoredScan {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${file} is not valid JSON (${(e as Error).message}); restore it from git or remove it and attach the report again`,
      );
    }
    const parsed = summarySchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${file} is not a scan summary: ${issue.path.join(".") || "(root)"} ${issue.message}; restore it from git or remove it and attach the report again`,
      );
    }
    if (parsed.data.digest !== digest)
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${file} is about ${parsed.data.digest} but is filed under ${digest}: it was moved by hand; remove it and attach the report again`,
      );
    if (parsed.data.lane !== this.lane)
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${file} was attached by lane ${parsed.data.lane} but is filed under lane ${this.lane}: it was moved by hand; remove it and attach the report again`,
      );
    if (path.basename(file) !== `${summaryHash(parsed.data).slice(0, 16)}.json`) {
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${file} was edited after it was attached (its content no longer hashes to its name): restore it from git (git checkout -- ${file}), or remove it and attach the report again`,
      );
    }
    return parsed.data as StoredScan;
  }

  /**
   * Reads a report file, checks that it is about `digest` and was not scanned in the future, and
   * stores its summary. Returns the summary and whether it was new (the same report attached twice
   * is stored once).
   */
  attach(
    reportFile: string,
    digest: string,
    now: Date,
    actor: string,
    format?: ReportFormat,
    shownAs = reportFile,
  ): { scan: StoredScan; created: boolean } {
    if (!DIGEST.test(digest)) throw new UsageError(`"${digest}" is not an image digest (sha256:<64 hex>)`);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(reportFile);
    } catch {
      throw new UsageError(`--report ${shownAs}: no such file`);
    }
    if (!stat.isFile()) throw new UsageError(`--report ${shownAs}: not a regular file`);
    if (stat.size > MAX_REPORT_BYTES)
      throw new UsageError(
        `--report ${shownAs}: ${stat.size} bytes, more than the ${MAX_REPORT_BYTES} a scan report may have`,
      );
    const bytes = fs.readFileSync(reportFile);
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString("utf8"));
    } catch (e) {
      throw new UsageError(
        `--report ${shownAs}: not JSON (${(e as Error).message}); formats read: ${FORMATS.join(", ")}`,
      );
    }
    let report;
    try {
      report = readScanReport(raw, format);
    } catch (e) {
      if (e instanceof ScanReportError) throw new UsageError(`--report ${shownAs}: ${e.message}`);
      throw e;
    }
    if (!report.digests.includes(digest)) {
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${shownAs} is a ${report.format} report about ${report.digests.join(", ") || "no digest at all"}, not ${digest}: scan the image by digest (e.g. trivy image <repo>@${digest})`,
      );
    }
    if (report.scannedAt && Date.parse(report.scannedAt) > now.getTime() + MAX_FUTURE_SKEW_MS) {
      throw new Refusal(
        undefined,
        "vulnerabilities",
        `${shownAs} says it was scanned at ${report.scannedAt}, in the future (now ${now.toISOString()}): check the scanner's clock`,
      );
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const order = (s: string) => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
    const top = [...report.findings]
      .sort(
        (a, b) =>
          order(a.severity) - order(b.severity) ||
          (a.fix === "yes" ? 0 : 1) - (b.fix === "yes" ? 0 : 1) ||
          a.id.localeCompare(b.id),
      )
      .slice(0, TOP_FINDINGS)
      .map((f) => ({
        id: f.id.slice(0, 200),
        severity: f.severity,
        fix: f.fix,
        ...(f.package ? { package: f.package.slice(0, 200) } : {}),
      }));
    const existing = this.scansOf(digest).find((x) => x.report.sha256 === sha256);
    if (existing) return { scan: existing, created: false };
    const scan: StoredScan = {
      lane: this.lane,
      digest,
      format: report.format,
      scanner: report.scanner.slice(0, 200),
      ...(report.scannedAt ? { scannedAt: report.scannedAt } : {}),
      attachedAt: now.toISOString(),
      attachedBy: actor,
      report: { file: path.basename(reportFile), sha256, bytes: stat.size },
      counts: countFindings(report.findings),
      top,
    };
    const file = path.join(this.folder(digest), `${summaryHash(scan).slice(0, 16)}.json`);
    if (!writeNewFile(file, `${JSON.stringify(scan, null, 2)}\n`))
      return { scan: this.read(file, digest), created: false };
    return { scan, created: true };
  }
}
