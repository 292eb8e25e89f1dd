import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_DIR, stackConfig, withEdits, type KeyPath } from "../helpers/program";
import { parsePlatform, type PlatformConfig } from "../../config/load";
import { costTable, platformConfigs, PRICE_SHEET, readmeCostProblem, withTable } from "../../tools/costs/cli";
import { memorystoreCapacityTier, price, total } from "../../tools/costs/model";
import {
  isOfficial,
  PriceSheetError,
  readPriceSheet,
  THIRD_PARTY_NOTE,
  type PriceEntry,
  type PriceSheet,
} from "../../tools/costs/sheet";

const shipped = () => readPriceSheet(path.join(PROJECT_DIR, PRICE_SHEET), PRICE_SHEET);

/** The shipped sheet with every price set to a test value (1 USD per unit) plus `extra` items at 2: test data, not prices. */
function testSheet(extra: ReadonlyArray<readonly [string, string]> = []): PriceSheet {
  const base = shipped();
  const filled: PriceEntry[] = base.prices.map((p) => ({ ...p, value: p.value ?? 1 }));
  for (const [item, region] of extra) filled.push({ ...filled[1], item, region, value: 2 });
  return { ...base, file: "test-sheet.json", prices: filled };
}

/** A shipped platform stack with edits, parsed by the program's loader. */
function platform(stack: string, edits: ReadonlyArray<readonly [KeyPath, unknown]> = []): PlatformConfig {
  const cfg = withEdits(stackConfig(stack), edits);
  return parsePlatform(cfg.config, stack, "blueprint", new Set(cfg.secretKeys));
}

const monthly = (env: PlatformConfig, sheet: PriceSheet) => total(price(env, sheet));
const db = (...k: string[]): KeyPath => ["blueprint:teams", "shop", "services", "db", ...k];
const cache = (...k: string[]): KeyPath => ["blueprint:teams", "shop", "services", "cache", ...k];

describe("npm run costs", () => {
  it("prints exactly the table README.md embeds between its markers", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    const problem = readmeCostProblem(readme, costTable(platformConfigs(PROJECT_DIR), shipped()));
    if (problem) throw new Error(problem);
  });

  it("notices a README whose table differs from the command's output, naming the command to run", () => {
    const table = costTable(platformConfigs(PROJECT_DIR), shipped());
    const readme = withTable(fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8"), table);
    expect(readmeCostProblem(readme, table)).toBeUndefined();
    expect(readmeCostProblem(readme.replace("KMS key: $1.00", "KMS key: $0.50"), table)).toBe(
      "README.md's cost table is not what `npm run costs` prints for the stacks and price sheet as they are: run `npm run costs -- --write` and commit README.md",
    );
    expect(readmeCostProblem("# no table here\n", table)).toMatch(
      /^README.md has no cost table between .* `npm run costs -- --write`/,
    );
  });

  it("prices every shipped environment from the shipped sheet, and says which prices were not found", () => {
    const sheet = shipped();
    const envs = platformConfigs(PROJECT_DIR);
    expect(envs.map((e) => e.environment)).toEqual(["dev", "local", "staging", "prod", "prod-gke"]);
    for (const env of envs) {
      const region = env.cluster.cloud === "aws" ? env.cluster.aws!.region : env.cluster.gcp?.region;
      for (const c of price(env, sheet)) {
        if (c.item === undefined) continue;
        const find = (r: string | undefined) =>
          sheet.prices.find((p) => p.item === c.item && p.region === r) ??
          sheet.prices.find((p) => p.item === c.item && p.region === "global");
        const own = find(region);
        const ref = find(sheet.referenceRegions?.[env.cluster.cloud === "aws" ? "aws" : "gcp"]);
        // The stack's region's figure wins; without one, the reference region's figure, marked;
        // a price no page showed is "not found", never a number.
        if (own?.value != null) {
          expect(c.monthly).toBe(own.value * c.quantity!);
          expect(c.referenceRegion).toBeUndefined();
        } else if (ref?.value != null) {
          expect(c.monthly).toBe(ref.value * c.quantity!);
          expect(c.referenceRegion).toBe(ref.region);
        } else expect(c.monthly).toBe("not found");
      }
    }
    // Each AWS environment with a team has the platform's one KMS key, at AWS's $1 a month.
    expect(
      envs
        .filter((e) => e.cluster.cloud === "aws")
        .map((e) => price(e, sheet).find((c) => c.item === "aws.kms.key")?.monthly),
    ).toEqual([1, 1, 1]);
    // The GKE environment's data key is one SOFTWARE key version, at Google's $0.06 a month.
    expect(
      envs
        .filter((e) => e.cluster.cloud === "gcp")
        .map((e) => price(e, sheet).find((c) => c.item === "gcp.kms.key-version")?.monthly),
    ).toEqual([0.06]);
    for (const p of sheet.prices) {
      // A figure from anywhere but the provider's own page says it is a third-party listing.
      if (!isOfficial(p.url)) expect(p.note).toMatch(THIRD_PARTY_NOTE);
      if (p.value === null) expect(p.note).toMatch(/^not found: /);
    }
  });

  it("costs more when a size in the config is raised: instance class, storage, node type, Multi-AZ, cache capacity", () => {
    const sheet = testSheet([
      ["aws.rds.postgres.instance:db.m7g.xlarge", "eu-west-1"],
      ["aws.elasticache.valkey.node:cache.m7g.xlarge", "eu-west-1"],
      ["gcp.memorystore.redis:standard-M3", "europe-west1"],
    ]);
    const prod = monthly(platform("prod.platform"), sheet).usd;
    // With 1 USD per unit: 2 × 730 instance-hours + 2 × 20 GB + 2 × 730 node-hours + 1 key.
    expect(prod).toBe(2 * 730 + 2 * 20 + 2 * 730 + 1);
    expect(monthly(platform("prod.platform", [[db("storage"), "100Gi"]]), sheet).usd).toBe(prod + 2 * 80);
    // The bigger class and node type cost 2 per hour in this sheet, the shipped ones 1.
    expect(monthly(platform("prod.platform", [[db("instanceClass"), "db.m7g.xlarge"]]), sheet).usd).toBe(
      prod + 2 * 730,
    );
    expect(monthly(platform("prod.platform", [[cache("nodeType"), "cache.m7g.xlarge"]]), sheet).usd).toBe(
      prod + 2 * 730,
    );
    const staging = monthly(platform("staging.platform"), sheet).usd;
    expect(monthly(platform("staging.platform", [[db("highAvailability"), true]]), sheet).usd).toBe(staging + 730 + 20);
    const gke = monthly(platform("prod-gke.platform"), sheet).usd;
    // 12 GB is capacity tier M3 (2 per GB-hour here) instead of 5 GB at M2 (1); the sum carries the
    // key's $0.06, so it is compared to the cent's millionth rather than bit for bit.
    expect(monthly(platform("prod-gke.platform", [[cache("memorySizeGb"), 12]]), sheet).usd).toBeCloseTo(
      gke - 5 * 730 + 12 * 2 * 730,
      8,
    );
  });

  it("counts a Memorystore generation that a rotation keeps until retiredRotation retires it", () => {
    const sheet = testSheet();
    const gke = monthly(platform("prod-gke.platform"), sheet).usd;
    expect(monthly(platform("prod-gke.platform", [[cache("rotation"), 1]]), sheet).usd).toBe(gke + 5 * 730);
    expect(
      monthly(
        platform("prod-gke.platform", [
          [cache("rotation"), 1],
          [cache("retiredRotation"), 0],
        ]),
        sheet,
      ).usd,
    ).toBe(gke);
  });

  it("refuses a class in use that the sheet has no price for, naming the class and the sheet", () => {
    const env = platform("prod.platform", [[db("instanceClass"), "db.r7g.xlarge"]]);
    expect(() => price(env, shipped())).toThrow(
      new PriceSheetError(
        `tools/costs/prices.json has no price for "db.r7g.xlarge" (aws.rds.postgres.instance:db.r7g.xlarge) in eu-west-1 (nor in the reference region us-east-1): add an entry { "item": "aws.rds.postgres.instance:db.r7g.xlarge", "region": "eu-west-1", "value": <USD or null with a note>, "unit", "url", "read" } read from the provider's pricing page`,
      ),
    );
    const gke = platform("prod-gke.platform", [[cache("memorySizeGb"), 40]]);
    expect(() => price(gke, shipped())).toThrow(
      /has no price for "standard-M4" \(gcp.memorystore.redis:standard-M4\) in europe-west1 \(nor in the reference region us-central1\)/,
    );
    // Without reference regions, the message names only the stack's region.
    const noReference: PriceSheet = { ...shipped(), referenceRegions: undefined };
    expect(() => price(env, noReference)).toThrow(
      /has no price for "db.r7g.xlarge" \(aws.rds.postgres.instance:db.r7g.xlarge\) in eu-west-1: add/,
    );
  });

  it("places a cache size in Memorystore's capacity tiers", () => {
    expect([1, 4, 5, 10, 11, 35, 36, 100, 101, 300].map(memorystoreCapacityTier)).toEqual([
      "M1",
      "M1",
      "M2",
      "M2",
      "M3",
      "M3",
      "M4",
      "M4",
      "M5",
      "M5",
    ]);
  });
});

describe("prices at the reference region", () => {
  const DB = "aws.rds.postgres.instance:db.t4g.medium";
  /**
   * The shipped sheet's stack-region entries with every price set to a test value (1 USD per unit),
   * no reference-region entries, and `edit` applied to the rest: test data, not prices.
   */
  function sheetWith(edit: (prices: PriceEntry[]) => PriceEntry[], withReference = true) {
    const base = shipped();
    const refs = new Set(Object.values(base.referenceRegions ?? {}));
    const regional = base.prices.filter((p) => !refs.has(p.region)).map((p) => ({ ...p, value: p.value ?? 1 }));
    return {
      ...base,
      file: "test-sheet.json",
      referenceRegions: withReference ? base.referenceRegions : undefined,
      prices: edit(regional),
    };
  }
  const at = (item: string, region: string, value: number | null): PriceEntry => ({
    item,
    region,
    value,
    unit: "instance-hour",
    url: "https://aws.amazon.com/rds/postgresql/pricing/",
    read: "2026-12-02",
    note: value === null ? "not found: test entry" : "test entry",
  });
  const dbCharge = (sheet: PriceSheet) => price(platform("staging.platform"), sheet).find((c) => c.item === DB)!;

  it("names a reference region per cloud in the shipped sheet", () => {
    expect(shipped().referenceRegions).toEqual({ aws: "us-east-1", gcp: "us-central1" });
  });

  it("prices at the stack's own region when it has a figure, even when the reference region has one too", () => {
    const sheet = sheetWith((ps) => [
      ...ps.map((p) => (p.item === DB ? { ...p, value: 3 } : p)),
      at(DB, "us-east-1", 2),
    ]);
    const c = dbCharge(sheet);
    expect(c.monthly).toBe(3 * 730);
    expect(c.referenceRegion).toBeUndefined();
    expect(total(price(platform("staging.platform"), sheet)).atReference).toBe(0);
    const table = costTable([platform("staging.platform")], sheet);
    expect(table).toContain("RDS db.t4g.medium Single-AZ: $2190.00;");
    expect(table).not.toContain("†");
  });

  it("prices at the reference region, marked, when the stack's region's figure is null", () => {
    const sheet = sheetWith((ps) => [
      ...ps.map((p) => (p.item === DB ? { ...p, value: null, note: "not found: test entry" } : p)),
      at(DB, "us-east-1", 2),
    ]);
    const c = dbCharge(sheet);
    expect(c.monthly).toBe(2 * 730);
    expect(c.referenceRegion).toBe("us-east-1");
    const sum = total(price(platform("staging.platform"), sheet));
    expect(sum).toEqual({ usd: 2 * 730 + 20 + 730 + 1, unpriced: 0, atReference: 1 });
    const table = costTable([platform("staging.platform")], sheet);
    expect(table).toContain("RDS db.t4g.medium Single-AZ: $1460.00†;");
    expect(table).toContain(`**$${(2 * 730 + 20 + 730 + 1).toFixed(2)}** (1 item at us-east-1 list price†) |`);
    expect(table).toContain(
      "† priced at us-east-1 list price: the stack's region eu-west-1 was not found in a citable source; regional prices differ",
    );
  });

  it("prices at the reference region when the stack's region has no entry at all", () => {
    const sheet = sheetWith((ps) => [...ps.filter((p) => p.item !== DB), at(DB, "us-east-1", 2)]);
    expect(dbCharge(sheet)).toMatchObject({ monthly: 2 * 730, referenceRegion: "us-east-1" });
  });

  it("counts every item priced at the reference region in the total", () => {
    const gp3 = "aws.rds.storage:gp3";
    const sheet = sheetWith((ps) => [
      ...ps.map((p) => (p.item === DB || p.item === gp3 ? { ...p, value: null, note: "not found: test entry" } : p)),
      at(DB, "us-east-1", 2),
      { ...at(gp3, "us-east-1", 2), unit: "GB-month" },
    ]);
    expect(total(price(platform("staging.platform"), sheet))).toMatchObject({ atReference: 2, unpriced: 0 });
    expect(costTable([platform("staging.platform")], sheet)).toContain("(2 items at us-east-1 list price†)");
  });

  it("stays not found when the reference region's figure is null too, or the sheet names no reference region", () => {
    const bothNull = sheetWith((ps) => [
      ...ps.map((p) => (p.item === DB ? { ...p, value: null, note: "not found: test entry" } : p)),
      at(DB, "us-east-1", null),
    ]);
    expect(dbCharge(bothNull).monthly).toBe("not found");
    expect(dbCharge(bothNull).referenceRegion).toBeUndefined();
    expect(total(price(platform("staging.platform"), bothNull))).toMatchObject({ atReference: 0, unpriced: 1 });
    const noReference = sheetWith(
      (ps) => [
        ...ps.map((p) => (p.item === DB ? { ...p, value: null, note: "not found: test entry" } : p)),
        at(DB, "us-east-1", 2),
      ],
      false,
    );
    expect(dbCharge(noReference).monthly).toBe("not found");
    const table = costTable([platform("staging.platform")], noReference);
    expect(table).not.toContain("†");
    expect(table).toContain("+ 1 price not found |");
  });

  it("never uses another cloud's reference region", () => {
    // A GCP stack with only an us-east-1 (AWS reference) figure for its item still has no price.
    const item = "gcp.cloudsql.enterprise.vcpu:regional";
    const sheet = sheetWith((ps) => [...ps.filter((p) => p.item !== item), at(item, "us-east-1", 2)]);
    expect(() => price(platform("prod-gke.platform"), sheet)).toThrow(
      `test-sheet.json has no price for "regional" (${item}) in europe-west1 (nor in the reference region us-central1)`,
    );
  });
});

describe("the price sheet", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "costs-"));
  const write = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof body === "string" ? body : JSON.stringify(body));
    return file;
  };
  const good = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, PRICE_SHEET), "utf8")) as {
    prices: Record<string, unknown>[];
  };

  it("refuses a file that is not JSON, naming it", () => {
    expect(() => readPriceSheet(write("a.json", "{ not json"))).toThrow(
      new RegExp(`^${path.join(dir, "a.json").replace(/[/.]/g, "\\$&")}: not a readable JSON price sheet`),
    );
  });

  it("refuses an entry without its page or date, or with a price of the wrong kind, naming the entry", () => {
    const bad = structuredClone(good);
    delete bad.prices[0].url;
    bad.prices[1].read = "yesterday";
    bad.prices[2].value = "0.5";
    bad.prices[3].unit = "per month";
    expect(() => readPriceSheet(write("b.json", bad), "b.json")).toThrow(
      /^b.json: not a valid price sheet:\n {2}prices.0.url: .*\n {2}prices.1.read: .*\n {2}prices.2.value: .*\n {2}prices.3.unit: /,
    );
  });

  it("refuses a price given twice for one region, and a missing price that does not say why", () => {
    const twice = structuredClone(good);
    twice.prices.push(twice.prices[0]);
    expect(() => readPriceSheet(write("c.json", twice), "c.json")).toThrow(
      "c.json: aws.kms.key in global is priced twice",
    );
    const silent = structuredClone(good);
    delete silent.prices[1].note;
    expect(() => readPriceSheet(write("d.json", silent), "d.json")).toThrow(
      "d.json: aws.rds.postgres.instance:db.t4g.medium in eu-west-1 has no value and no note saying why",
    );
  });

  it("accepts a third-party page only when the note says it is a third-party listing of the list price", () => {
    const at = good.prices.findIndex((p) => p.value !== null && !isOfficial(p.url as string));
    expect(at).toBeGreaterThanOrEqual(0);
    const silent = structuredClone(good);
    silent.prices[at].note = "read from a blog";
    expect(() => readPriceSheet(write("f.json", silent), "f.json")).toThrow(
      new RegExp(
        `^f\\.json: ${String(silent.prices[at].item).replace(/[.]/g, "\\.")} in us-[a-z]+-?\\d+ is read from https://[^ ]+, which is not the provider's own pricing page \\(aws\\.amazon\\.com, cloud\\.google\\.com\\): its note must say it is a "third-party listing of the AWS list price"`,
      ),
    );
    const noNote = structuredClone(good);
    delete noNote.prices[at].note;
    expect(() => readPriceSheet(write("g.json", noNote), "g.json")).toThrow(/is not the provider's own pricing page/);
    // A look-alike host is not the provider's.
    const lookalike = structuredClone(good);
    lookalike.prices[0].url = "https://aws.amazon.com.example.net/kms/pricing/";
    expect(() => readPriceSheet(write("h.json", lookalike), "h.json")).toThrow(
      /^h\.json: aws\.kms\.key in global is read from https:\/\/aws\.amazon\.com\.example\.net\/kms\/pricing\/, which is not/,
    );
    // Saying so makes it acceptable; the provider's own page needs no such note.
    const said = structuredClone(good);
    said.prices[at].note = "a third-party listing of the Google Cloud list price";
    expect(readPriceSheet(write("i.json", said), "i.json").prices).toHaveLength(good.prices.length);
    const official = structuredClone(good);
    delete official.prices[0].note;
    expect(readPriceSheet(write("j.json", official), "j.json").prices[0].note).toBeUndefined();
  });

  it("refuses a reference region that is not a region or names an unknown cloud", () => {
    const bad = structuredClone(good) as Record<string, unknown>;
    bad.referenceRegions = { aws: "N. Virginia" };
    expect(() => readPriceSheet(write("k.json", bad), "k.json")).toThrow(
      /^k.json: not a valid price sheet:\n {2}referenceRegions.aws: must be a region such as us-east-1/,
    );
    bad.referenceRegions = { azure: "eastus" };
    expect(() => readPriceSheet(write("l.json", bad), "l.json")).toThrow(/referenceRegions: Unrecognized key/);
    delete bad.referenceRegions;
    expect(readPriceSheet(write("m.json", bad), "m.json").referenceRegions).toBeUndefined();
  });

  it("makes the command exit 1 with the sheet's problem, and print the table with a good one", () => {
    const tsx = pathToFileURL(require.resolve("tsx")).href;
    const run = (args: string[]) =>
      spawnSync(process.execPath, ["--import", tsx, path.join(PROJECT_DIR, "tools/costs/cli.ts"), ...args], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, npm_lifecycle_event: undefined, INIT_CWD: undefined },
      });
    const silent = structuredClone(good);
    delete silent.prices[1].note;
    const bad = run(["--prices", write("e.json", silent)]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /e.json: aws.rds.postgres.instance:db.t4g.medium in eu-west-1 has no value and no note saying why/,
    );
    const ok = run([]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`${costTable(platformConfigs(PROJECT_DIR), shipped())}\n`);
  });
});
