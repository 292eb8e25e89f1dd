import * as fs from "node:fs";
import * as path from "node:path";
import { rootCertificates } from "node:tls";
import { X509Certificate } from "node:crypto";
import {
  bundleDigest,
  parseRdsBundle,
  RDS_CA_IDENTIFIER,
  rdsBundleProblems,
  rdsRegionBundle,
  rdsRootCommonName,
} from "../../lib/rds-ca";
import { RDS_BUNDLE_SOURCE, RDS_GLOBAL_BUNDLE } from "../../lib/rds-ca-bundle";
import { bundleModule } from "../../tools/rds-ca";
import { PROJECT_DIR } from "../helpers/program";

const TODAY = new Date();

describe("the shipped RDS CA bundle", () => {
  const roots = parseRdsBundle(RDS_GLOBAL_BUNDLE);

  it("is what its source record says: the same bytes, as many certificates", () => {
    expect(bundleDigest(RDS_GLOBAL_BUNDLE)).toBe(RDS_BUNDLE_SOURCE.sha256);
    expect(roots).toHaveLength(RDS_BUNDLE_SOURCE.certificates);
    expect(RDS_GLOBAL_BUNDLE.match(/BEGIN CERTIFICATE/g)).toHaveLength(roots.length);
  });

  it("holds only self-signed CA certificates of Amazon RDS roots, none expired today", () => {
    expect(rdsBundleProblems(RDS_GLOBAL_BUNDLE, TODAY)).toEqual([]);
    for (const r of roots) {
      expect(r.cert.ca).toBe(true);
      expect(r.commonName).toMatch(/^Amazon RDS .+ Root CA (RSA2048|RSA4096|ECC384) G1$/);
      expect(r.cert.checkIssued(r.cert)).toBe(true);
      expect(r.cert.verify(r.cert.publicKey)).toBe(true);
      expect(new Date(r.cert.validTo).getTime()).toBeGreaterThan(TODAY.getTime());
    }
  });

  it("has the root of the CA the instances use in each shipped AWS region, and all three algorithms there", () => {
    for (const region of ["eu-west-1", "us-east-1"]) {
      const names = parseRdsBundle(rdsRegionBundle(RDS_GLOBAL_BUNDLE, region)).map((r) => r.commonName);
      expect(names.sort()).toEqual(
        [
          `Amazon RDS ${region} Root CA ECC384 G1`,
          rdsRootCommonName(region),
          `Amazon RDS ${region} Root CA RSA4096 G1`,
        ].sort(),
      );
    }
    expect(RDS_CA_IDENTIFIER).toBe("rds-ca-rsa2048-g1");
  });
});

describe("rdsBundleProblems (what the refresh command refuses to ship)", () => {
  const first = parseRdsBundle(RDS_GLOBAL_BUNDLE)[0].pem;

  it("refuses a CA that is not an Amazon RDS root, naming it", () => {
    const other = rootCertificates.find((p) => new X509Certificate(p).subject.includes("CN=Amazon Root CA 1"))!;
    expect(rdsBundleProblems(`${first}${other}\n`, TODAY)).toEqual([
      'certificate 2 (Amazon Root CA 1) is not an "Amazon RDS <region> Root CA <algorithm> G<n>" root',
    ]);
  });

  it("refuses a bundle whose certificates have expired at the given date", () => {
    const problems = rdsBundleProblems(first, new Date("2200-01-01T00:00:00Z"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^certificate 1 \(Amazon RDS .+ Root CA .+\) expired on /);
  });

  it("refuses a certificate whose signature does not check out, text outside certificates, and an empty file", () => {
    const lines = first.split("\n");
    // One byte of the signature (near the end of the DER) changed.
    const i = lines.length - 4;
    lines[i] = lines[i].slice(0, 10) + (lines[i][10] === "A" ? "B" : "A") + lines[i].slice(11);
    expect(rdsBundleProblems(lines.join("\n"), TODAY).join("\n")).toMatch(/not self-signed|does not parse/);
    expect(rdsBundleProblems(`<html>not a bundle</html>\n${first}`, TODAY)).toEqual([
      'holds text outside the certificates: "<html>not a bundle</html>"',
    ]);
    expect(rdsBundleProblems("<html></html>", TODAY)).toEqual(["holds no PEM certificate"]);
  });

  it("refuses a region the bundle has no root for, naming the refresh command", () => {
    expect(() => rdsRegionBundle(RDS_GLOBAL_BUNDLE, "xx-nowhere-9")).toThrow(
      /has no "Amazon RDS xx-nowhere-9 Root CA RSA2048 G1".*npm run rds-ca -- \/tmp\/global-bundle.pem/,
    );
    // The Beta and Preview roots never stand in for a region's.
    expect(parseRdsBundle(rdsRegionBundle(RDS_GLOBAL_BUNDLE, "us-east-1")).map((r) => r.commonName)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/Beta|Preview/)]),
    );
  });

  it("writes a module that reproduces the shipped one from the same bundle", () => {
    const shipped = fs.readFileSync(path.join(PROJECT_DIR, "lib", "rds-ca-bundle.ts"), "utf8");
    expect(bundleModule(RDS_GLOBAL_BUNDLE, RDS_BUNDLE_SOURCE.read)).toBe(shipped);
    expect(bundleModule(RDS_GLOBAL_BUNDLE, "2000-01-01")).not.toBe(shipped);
  });
});
