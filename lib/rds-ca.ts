import { createHash, X509Certificate } from "node:crypto";

/**
 * The certificate authorities RDS and Aurora sign their servers' certificates with, as clients need
 * them for `sslmode=verify-full`: AWS's bundle of root CAs (three per region: RSA2048, RSA4096 and
 * ECC384, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), checked
 * here and cut down to one region's roots. No Pulumi import: the program, the refresh command
 * (`npm run rds-ca`) and the tests share it.
 */

/** Where AWS publishes the bundle of every region's roots. */
export const RDS_GLOBAL_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/** The command that refreshes the shipped bundle, for errors and docs. */
export const RDS_CA_REFRESH_COMMAND = `curl -fsSLo /tmp/global-bundle.pem ${RDS_GLOBAL_BUNDLE_URL} && npm run rds-ca -- /tmp/global-bundle.pem`;

/**
 * The CA RDS signs a new instance's certificate with unless told otherwise, and the one this
 * project sets explicitly (`caCertIdentifier`): RSA 2048 / SHA-256, valid until 2061, with
 * automatic server certificate rotation (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html,
 * "Certificate authorities"). Its root in each region is `Amazon RDS <region> Root CA RSA2048 G1`.
 */
export const RDS_CA_IDENTIFIER = "rds-ca-rsa2048-g1";

/** The common name of the root that signs {@link RDS_CA_IDENTIFIER}'s certificates in a region. */
export function rdsRootCommonName(region: string): string {
  return `Amazon RDS ${region} Root CA RSA2048 G1`;
}

/**
 * `Amazon RDS [Beta |Preview ]<region> Root CA <algorithm> G<n>`: what every certificate of the
 * bundle is. The Beta and Preview roots serve RDS's preview environments, never a region's instances.
 */
const ROOT_CN = /^Amazon RDS (Beta |Preview )?([a-z]{2}(?:-[a-z]+)+-\d) Root CA (RSA2048|RSA4096|ECC384) G\d+$/;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----\n?/g;

/** One certificate of the bundle, with the facts the checks and the region cut need. */
export interface RdsRoot {
  readonly pem: string;
  readonly commonName: string;
  /** Whether its common name is that of an RDS root. */
  readonly isRoot: boolean;
  /** The region whose instances it signs (not for the Beta and Preview roots). */
  readonly region?: string;
  readonly cert: X509Certificate;
}

function commonName(dn: string): string {
  return (
    dn
      .split("\n")
      .find((l) => l.startsWith("CN="))
      ?.slice(3) ?? ""
  );
}

/** The certificates of a PEM bundle, in order; throws on a block that is not a certificate. */
export function parseRdsBundle(pem: string): RdsRoot[] {
  const blocks = pem.replace(/\r\n/g, "\n").match(PEM_BLOCK) ?? [];
  return blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (e) {
      throw new Error(`certificate ${i + 1} of the bundle does not parse: ${(e as Error).message}`);
    }
    const cn = commonName(cert.subject);
    const m = ROOT_CN.exec(cn);
    return {
      pem: block.endsWith("\n") ? block : `${block}\n`,
      commonName: cn,
      isRoot: !!m,
      region: m && !m[1] ? m[2] : undefined,
      cert,
    };
  });
}

/**
 * What is wrong with a bundle, one line per problem: no certificate at all, text outside the
 * certificates, a certificate that is not a CA, not an RDS root (self-signed `Amazon RDS <region>
 * Root CA ...`), or expired at `now`. An empty list means the bundle may be shipped.
 */
export function rdsBundleProblems(pem: string, now: Date): string[] {
  const problems: string[] = [];
  let roots: RdsRoot[];
  try {
    roots = parseRdsBundle(pem);
  } catch (e) {
    return [(e as Error).message];
  }
  if (roots.length === 0) return ["holds no PEM certificate"];
  const rest = pem.replace(/\r\n/g, "\n").replace(PEM_BLOCK, "").trim();
  if (rest) problems.push(`holds text outside the certificates: "${rest.slice(0, 40)}"`);
  roots.forEach((r, i) => {
    const which = `certificate ${i + 1} (${r.commonName || r.cert.subject})`;
    if (!r.cert.ca) problems.push(`${which} is not a CA certificate`);
    if (!r.isRoot) problems.push(`${which} is not an "Amazon RDS <region> Root CA <algorithm> G<n>" root`);
    if (r.cert.issuer !== r.cert.subject || !r.cert.verify(r.cert.publicKey))
      problems.push(`${which} is not self-signed (issued by ${commonName(r.cert.issuer)})`);
    if (new Date(r.cert.validTo).getTime() < now.getTime()) problems.push(`${which} expired on ${r.cert.validTo}`);
  });
  return problems;
}

/** SHA-256 of the bundle's text, as the shipped module records it. */
export function bundleDigest(pem: string): string {
  return createHash("sha256").update(pem).digest("hex");
}

/**
 * The roots of one region, as a PEM bundle for `sslrootcert`: all three algorithms, so a later
 * change of the instance's CA (to RSA4096 or ECC384) needs no new bundle. Throws when the bundle
 * has no root of {@link RDS_CA_IDENTIFIER} for the region (a region newer than the bundle).
 */
export function rdsRegionBundle(pem: string, region: string): string {
  const roots = parseRdsBundle(pem).filter((r) => r.region === region);
  if (!roots.some((r) => r.commonName === rdsRootCommonName(region)))
    throw new Error(
      `the shipped RDS CA bundle has no "${rdsRootCommonName(region)}": the region is newer than the bundle; refresh it with ${RDS_CA_REFRESH_COMMAND}`,
    );
  return roots.map((r) => r.pem).join("");
}
