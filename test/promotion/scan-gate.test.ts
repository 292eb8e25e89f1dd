import * as fs from "node:fs";
import * as path from "node:path";
import { buildStages } from "../../promotion/stages";
import {
  digest,
  drain,
  harness,
  HOUR,
  PODINFO,
  releaseVerifiedInDev,
  removeTempProjects,
  type Harness,
} from "./fixtures";

afterAll(removeTempProjects);

const GATED = `stages:
  dev: {}
  staging:
    from: [dev]
    vulnerabilities:
      max: { critical: 0 }
      maxFixable: { high: 0 }
      maxAge: 7d
`;

/** A Trivy JSON report about `PODINFO@digest(c)`, scanned `scannedAt`, with the given findings. */
function trivyReport(
  h: Harness,
  name: string,
  c: string,
  scannedAt: Date,
  vulns: { id: string; severity: string; fixed?: string }[],
): string {
  const file = path.join(h.dir, name);
  fs.writeFileSync(
    file,
    JSON.stringify({
      SchemaVersion: 2,
      CreatedAt: scannedAt.toISOString(),
      ArtifactName: `${PODINFO}@${digest(c)}`,
      Metadata: { RepoDigests: [`${PODINFO}@${digest(c)}`] },
      Results: [
        {
          Target: "podinfo (alpine 3.17.0)",
          Vulnerabilities: vulns.map((v) => ({
            VulnerabilityID: v.id,
            PkgName: "libssl3",
            InstalledVersion: "3.0.7-r0",
            FixedVersion: v.fixed ?? "",
            Severity: v.severity,
          })),
        },
      ],
    }),
  );
  return file;
}

describe("the vulnerability gate in promotion", () => {
  it("reads a stage's gate from stages.yaml and refuses what is not a gate", () => {
    const stages = buildStages("stages.yaml", {
      dev: {},
      prod: { from: ["dev"], vulnerabilities: { max: { critical: 0 }, maxAge: "7d" } },
    });
    expect(stages.get("prod").vulnerabilities).toEqual({
      max: { critical: 0 },
      maxFixable: {},
      maxAge: "7d",
      maxAgeMs: 7 * 24 * HOUR,
    });
    expect(() => buildStages("stages.yaml", { dev: { vulnerabilities: { max: { severe: 0 } as never } } })).toThrow();
    expect(() => buildStages("stages.yaml", { dev: { vulnerabilities: { maxAge: "a week" } } })).toThrow(
      /must be a duration such as 12h or 7d/,
    );
  });

  it("refuses to promote an unscanned release to a gated stage, saying how to attach a scan", async () => {
    const h = harness(GATED);
    const id = await releaseVerifiedInDev(h);
    drain(h);
    expect(await h.cli("promote", "staging")).toBe(1);
    expect(drain(h)).toContain(
      `does not pass the vulnerability gate of staging: no scan report attached (npm run release -- scan ${id} --lane shop --image podinfo --report <file>)`,
    );
    expect(h.stackText("staging")).not.toContain(id);
  });

  it("attaches a scan by release and image, and then promotes once the scan passes", async () => {
    const h = harness(GATED);
    const id = await releaseVerifiedInDev(h);
    const report = trivyReport(h, "trivy.json", "a", h.clock.now(), [
      { id: "CVE-2023-0464", severity: "HIGH" },
      { id: "CVE-2023-0465", severity: "MEDIUM", fixed: "3.0.8" },
    ]);
    drain(h);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", report)).toBe(0);
    const out = drain(h);
    expect(out).toContain(`attached: trivy scan of ${PODINFO}@${digest("a")}`);
    expect(out).toContain("findings: high 1 (fixable 0), medium 1 (fixable 1)");
    expect(out).toContain("staging: passes the gate");
    expect(await h.cli("promote", "staging")).toBe(0);
    const records = h
      .ws()
      .history.read()
      .records.filter((r) => r.stage === "staging" && r.kind === "promotion");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      scans: { podinfo: { digest: digest("a"), format: "trivy", report: expect.stringMatching(/^[a-f0-9]{64}$/) } },
    });
  });

  it("refuses a fixable high or any critical finding, also under --force, and records an acceptance of the named findings with its reason", async () => {
    const h = harness(GATED);
    const id = await releaseVerifiedInDev(h);
    const report = trivyReport(h, "trivy.json", "a", h.clock.now(), [
      { id: "CVE-2022-41723", severity: "CRITICAL", fixed: "0.7.0" },
      { id: "CVE-2023-0286", severity: "HIGH", fixed: "3.0.8" },
    ]);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", report)).toBe(0);
    expect(drain(h)).toContain(
      "staging: blocked: 1 findings at critical or above (at most 0): CVE-2022-41723; 2 findings with a fix available at high or above (at most 0): CVE-2022-41723, CVE-2023-0286",
    );
    expect(await h.cli("promote", "staging")).toBe(1);
    expect(drain(h)).toContain("CVE-2022-41723");
    expect(await h.cli("promote", "staging", "--force", "--reason", "fix ships tomorrow; exposure reviewed")).toBe(1);
    expect(drain(h)).toContain(
      "--force was given, but it sets aside only order, verification and soak; approvals, the registry and the vulnerability gate cannot be forced",
    );
    expect(
      await h.cli(
        "promote",
        "staging",
        "--accept-vulnerabilities",
        "CVE-2022-41723,CVE-2023-0286",
        "--reason",
        "fix ships tomorrow; exposure reviewed",
        "--expires",
        "2d",
      ),
    ).toBe(0);
    expect(drain(h)).toMatch(/accepted findings recorded, until .*: CVE-2022-41723, CVE-2023-0286: fix ships tomorrow/);
    const [record] = h
      .ws()
      .history.read()
      .records.filter((r) => r.stage === "staging" && r.kind === "promotion");
    expect(record).toMatchObject({
      reason: "fix ships tomorrow; exposure reviewed",
      accepted: { ids: ["CVE-2022-41723", "CVE-2023-0286"] },
    });
  });

  it("refuses a report older than the gate allows, and status shows the gate and the blocker", async () => {
    const h = harness(GATED);
    const id = await releaseVerifiedInDev(h);
    const report = trivyReport(h, "trivy.json", "a", new Date(h.clock.now().getTime() - 8 * 24 * HOUR), []);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", report)).toBe(0);
    drain(h);
    expect(await h.cli("promote", "staging")).toBe(1);
    expect(drain(h)).toMatch(/is older than 7d: scan the digest again/);
    expect(await h.cli("status")).toBe(0);
    const status = drain(h);
    expect(status.replace(/\s+/g, " ")).toMatch(
      /staging .*vulnerabilities critical\+ <= 0, fixable high\+ <= 0, report < 7d/,
    );
    expect(status).toMatch(/blocked by vulnerabilities/);
  });

  it("refuses a report about another digest (exit 1) and an image the release does not have (exit 2), recording nothing", async () => {
    const h = harness(GATED);
    const id = await releaseVerifiedInDev(h);
    const other = trivyReport(h, "other.json", "f", h.clock.now(), []);
    drain(h);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", other)).toBe(1);
    expect(drain(h)).toMatch(
      new RegExp(`refused: .*other\\.json is a trivy report about ${digest("f")}, not ${digest("a")}`),
    );
    expect(await h.cli("release", "scan", id, "--image", "web", "--report", other)).toBe(2);
    expect(drain(h)).toMatch(/--image web: release r-[0-9a-f]{12} has no such image \(images: podinfo\)/);
    expect(await h.cli("release", "scan", id, "--image", "podinfo", "--report", other, "--format", "clair")).toBe(2);
    expect(await h.cli("release", "scan", id, "--report", other)).toBe(2);
    expect(drain(h)).toMatch(/exactly one --image/);
    expect(fs.existsSync(path.join(h.dir, "stacks", "scans"))).toBe(false);
  });
});
