import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../lib/files";
import { bundleDigest, parseRdsBundle, rdsBundleProblems, RDS_GLOBAL_BUNDLE_URL } from "../lib/rds-ca";
import { parseCommandLine, UsageError, userPath } from "./offline/cli";

/**
 * `npm run rds-ca -- <global-bundle.pem>`: checks a downloaded copy of AWS's RDS CA bundle (every
 * certificate a self-signed, unexpired `Amazon RDS <region> Root CA`) and writes it into
 * `lib/rds-ca-bundle.ts`, the module the program ships. The bundle is kept in the repository, not
 * fetched at `pulumi up`: what clients trust is then reviewed in git like any other change, and a
 * deploy (or an offline render) does not depend on a download.
 */

const USAGE = `usage: npm run rds-ca -- <global-bundle.pem>

Checks AWS's RDS CA bundle and writes it into lib/rds-ca-bundle.ts. Download it first:
  curl -fsSLo /tmp/global-bundle.pem ${RDS_GLOBAL_BUNDLE_URL}`;

/** The shipped module's text for a checked bundle. */
export function bundleModule(pem: string, read: string): string {
  const text = pem.replace(/\r\n/g, "\n");
  const regions = new Set(parseRdsBundle(text).flatMap((r) => (r.region ? [r.region] : [])));
  return `// Written by \`npm run rds-ca -- <global-bundle.pem>\` (tools/rds-ca.ts); do not edit by hand.

/** Where the bundle below came from, and what it is. */
export const RDS_BUNDLE_SOURCE = {
  url: "${RDS_GLOBAL_BUNDLE_URL}",
  read: "${read}",
  sha256: "${bundleDigest(text)}",
  certificates: ${parseRdsBundle(text).length},
  regions: ${regions.size},
} as const;

/** AWS's RDS CA bundle: the root CAs of every region (checked by \`rdsBundleProblems\`). */
export const RDS_GLOBAL_BUNDLE = \`${text}\`;
`;
}

function main(argv: readonly string[]): number {
  const { values, positionals } = parseCommandLine(argv, { help: { type: "boolean" }, read: { type: "string" } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("give the path of the downloaded bundle");
  const file = userPath(positionals[0], ["rds-ca"]);
  const pem = fs.readFileSync(file, "utf8");
  const problems = rdsBundleProblems(pem, new Date());
  if (problems.length) {
    console.error(`${file}: not an RDS CA bundle to ship:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  const out = path.join(__dirname, "..", "lib", "rds-ca-bundle.ts");
  writeFileAtomic(out, bundleModule(pem, values.read ?? new Date().toISOString().slice(0, 10)));
  console.log(`wrote ${path.relative(process.cwd(), out)} (${parseRdsBundle(pem).length} certificates)`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error((e as Error).message);
      process.exitCode = 1;
    }
  }
}
