import * as fs from "node:fs";
import * as path from "node:path";
import { NAMESPACE, parsePlatform, type PlatformConfig } from "../../config/load";
import { listStacks, readProject, readStackConfig } from "../../lib/project";
import { writeFileAtomic } from "../../lib/files";
import { fillSecretPlaceholders } from "../offline/placeholders";
import { parseCommandLine, UsageError, userPath } from "../offline/cli";
import { COLUMNS, price, total, type PricedCharge } from "./model";
import { PriceSheetError, readPriceSheet, type PriceSheet } from "./sheet";

/**
 * `npm run costs`: the monthly cost of every shipped environment's managed services and shared data
 * resources, from the platform stacks' config (read by the program's own loader, so defaults and
 * validation are the program's) and the checked-in price sheet. Prints the markdown table the
 * README embeds between its `costs` markers; `--write` puts it there.
 */

/** The project folder. */
const ROOT = path.resolve(__dirname, "..", "..");

/** The shipped price sheet, relative to the project. */
export const PRICE_SHEET = "tools/costs/prices.json";

/** The README markers around the table. */
export const BEGIN =
  "<!-- costs: begin (written by `npm run costs -- --write`; edit the stacks or tools/costs/prices.json, not this) -->";
export const END = "<!-- costs: end -->";

const USAGE = `usage: npm run costs [-- --prices <sheet.json>] [--write]

Prints the monthly cost table of the shipped platform stacks, priced from ${PRICE_SHEET}.
  --prices <file>  another price sheet (same format)
  --write          replace the table between the README's costs markers`;

const HEADERS: Record<(typeof COLUMNS)[number], string> = {
  postgres: "Postgres",
  cache: "cache",
  platform: "data key, backups",
};

/** Marks a figure priced at the sheet's reference region instead of the stack's own. */
export const REFERENCE_MARK = "†";

function usd(n: number): string {
  return `$${n.toFixed(2)}`;
}

function cell(charges: readonly PricedCharge[]): string {
  if (charges.length === 0) return "none";
  return charges
    .map((c) => {
      const what = c.text.replace(/\|/g, "\\|");
      if (c.monthly === "included") return what;
      if (c.monthly === "usage") return `${what}: usage-based`;
      if (c.monthly === "not found") return `${what}: price not found`;
      return `${what}: ${usd(c.monthly)}${c.referenceRegion ? REFERENCE_MARK : ""}`;
    })
    .join("; ");
}

/** The platform stacks of a project, parsed by the program's own loader (production last). */
export function platformConfigs(projectDir: string): PlatformConfig[] {
  const project = readProject(projectDir);
  return listStacks(project)
    .filter((s) => s.endsWith(".platform"))
    .map((stack) => {
      const cfg = readStackConfig(project, stack);
      // External services' URLs and similar secrets are encrypted; their values do not change a price.
      fillSecretPlaceholders(cfg, NAMESPACE);
      return parsePlatform(cfg.config, stack, project.name, new Set(cfg.secretKeys));
    })
    .sort((a, b) => Number(a.production) - Number(b.production) || a.environment.localeCompare(b.environment));
}

/** The markdown table (and its footnote) for these environments at these prices. */
export function costTable(envs: readonly PlatformConfig[], sheet: PriceSheet): string {
  // "<reference region> for <stack region>" pairs, in the order the rows use them, for the footnotes.
  const substitutions = new Map<string, { reference: string; region: string }>();
  const rows = envs.map((env) => {
    const priced = price(env, sheet);
    const region = env.cluster.cloud === "aws" ? env.cluster.aws?.region : env.cluster.gcp?.region;
    const sum = total(priced);
    const cells = COLUMNS.map((col) => cell(priced.filter((c) => c.column === col)));
    const references = [...new Set(priced.flatMap((c) => (c.referenceRegion ? [c.referenceRegion] : [])))];
    for (const reference of references)
      substitutions.set(`${reference} ${region ?? "global"}`, { reference, region: region ?? "global" });
    const atReference =
      sum.atReference === 0
        ? ""
        : ` (${sum.atReference} item${sum.atReference > 1 ? "s" : ""} at ${references.join(", ")} list price${REFERENCE_MARK})`;
    const notFound = sum.unpriced === 0 ? "" : ` + ${sum.unpriced} price${sum.unpriced > 1 ? "s" : ""} not found`;
    const totalCell = `**${usd(sum.usd)}**${atReference}${notFound}`;
    return `| ${env.environment}${region ? ` (${region})` : ""} | ${cells.join(" | ")} | ${totalCell} |`;
  });
  const read = [...new Set(sheet.prices.map((p) => p.read))].sort().join(", ");
  const notFound = sheet.referenceRegions
    ? "no citable page showed that price when the sheet was written, for the stack's region or for the reference region"
    : "the pricing page did not show that price when it was read";
  const footnotes = [...substitutions.values()].map(
    (s) =>
      `${REFERENCE_MARK} priced at ${s.reference} list price: the stack's region ${s.region} was not found in a citable source; ` +
      "regional prices differ, so the figure for the stack's region may be higher or lower.",
  );
  return [
    `| stack | ${COLUMNS.map((c) => HEADERS[c]).join(" | ")} | per month |`,
    `|---|${COLUMNS.map(() => "---|").join("")}---|`,
    ...rows,
    "",
    ...footnotes.flatMap((f) => [f, ""]),
    `Monthly, in USD, on-demand list prices from \`${sheet.file}\` (each price with its pricing page, read ${read}). ` +
      `"price not found": ${notFound}, so none is guessed and the total leaves it out. Usage-based charges (backup ` +
      "storage beyond the free allowance, snapshots, I/O, data transfer) depend on the data and are not estimated.",
  ].join("\n");
}

/** The text between the README's markers, or undefined when they are missing. */
export function readmeBlock(readme: string): string | undefined {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme
    .slice(start + BEGIN.length, end)
    .replace(/^\n/, "")
    .replace(/\n$/, "");
}

/**
 * Why the README's table is not `table` (missing markers, or other text), naming the command that
 * writes it; undefined when they agree.
 */
export function readmeCostProblem(readme: string, table: string): string | undefined {
  const block = readmeBlock(readme);
  if (block === undefined)
    return `README.md has no cost table between "${BEGIN}" and "${END}"; add the markers and run \`npm run costs -- --write\``;
  if (block !== table)
    return "README.md's cost table is not what `npm run costs` prints for the stacks and price sheet as they are: run `npm run costs -- --write` and commit README.md";
  return undefined;
}

/** The README with its block replaced by `table`. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${BEGIN}" ... "${END}" block`);
  return `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

function main(argv: readonly string[]): number {
  const { values, positionals } = parseCommandLine(
    argv,
    { help: { type: "boolean" }, prices: { type: "string" }, write: { type: "boolean" } },
    false,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const sheetFile = values.prices ? userPath(values.prices, ["costs"]) : path.join(ROOT, PRICE_SHEET);
  const sheet = readPriceSheet(sheetFile, values.prices ? path.relative(process.cwd(), sheetFile) : PRICE_SHEET);
  const table = costTable(platformConfigs(ROOT), sheet);
  if (values.write) {
    const file = path.join(ROOT, "README.md");
    writeFileAtomic(file, withTable(fs.readFileSync(file, "utf8"), table));
    console.log(`README.md: cost table written (${sheet.file})`);
    return 0;
  }
  console.log(table);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof PriceSheetError || (e as Error).name === "ConfigError") {
      console.error((e as Error).message);
      process.exitCode = 1;
    } else throw e;
  }
}
