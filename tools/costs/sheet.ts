import * as fs from "node:fs";
import { z } from "zod";

/**
 * The price sheet `npm run costs` prices with: one entry per price, each with the page it was read
 * from and when. A price the page did not show is an entry with `value: null` and a note saying
 * so, never a guess; the table then says "price not found" for what it prices.
 *
 * A sheet may name a reference region per cloud (`referenceRegions`, e.g. us-east-1 and
 * us-central1, the regions public listings quote). When the stack's own region has no figure, the
 * reference region's figure prices the item and the table marks it; a figure for the stack's own
 * region always wins.
 *
 * Prices come from the provider's own pricing pages (aws.amazon.com, cloud.google.com). A
 * third-party page is accepted only when the entry's note says it is a third-party listing of the
 * provider's list price, so a reader knows which figures to check first.
 */

/** A bad price sheet, or one that lacks a price the stacks need; names the sheet. */
export class PriceSheetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceSheetError";
  }
}

const entrySchema = z.strictObject({
  /** What is priced, e.g. `aws.rds.postgres.instance:db.m7g.large`. */
  item: z
    .string()
    .regex(/^(aws|gcp)\.[a-z0-9.-]+(:[A-Za-z0-9.-]+)?$/, "must look like <aws|gcp>.<service>.<what>[:<size>]"),
  /** The cloud region the price holds in, or `global`. */
  region: z.string().regex(/^(global|[a-z]+(-[a-z]+)+-?\d+)$/, "must be a region such as eu-west-1, or global"),
  /** USD per unit; null when the pricing page did not show it (say why in `note`). */
  value: z.number().nonnegative().nullable(),
  /** What one unit is, e.g. "instance-hour", "GB-month". */
  unit: z.enum(["instance-hour", "node-hour", "GB-month", "GB-hour", "vCPU-hour", "key-month", "key-version-month"]),
  /** The pricing page. */
  url: z.url({ protocol: /^https$/ }),
  /** The day it was read, YYYY-MM-DD. */
  read: z.iso.date(),
  note: z.string().optional(),
});

const regionSchema = z.string().regex(/^[a-z]+(-[a-z]+)+-?\d+$/, "must be a region such as us-east-1");

const sheetSchema = z.strictObject({
  currency: z.literal("USD"),
  /** Hours in a month, as the providers' pricing pages count them. */
  hoursPerMonth: z.literal(730),
  /** Per cloud, the region whose figure prices an item the stack's own region has no figure for. */
  referenceRegions: z.strictObject({ aws: regionSchema.optional(), gcp: regionSchema.optional() }).optional(),
  prices: z.array(entrySchema).min(1),
});

/** The clouds a sheet prices; an item's name starts with one of them. */
export type Cloud = "aws" | "gcp";

/** The providers' own pricing sites; a page elsewhere is a third-party listing and its note must say so. */
export const OFFICIAL_HOSTS: readonly string[] = ["aws.amazon.com", "cloud.google.com"];

/** What a third-party entry's note must contain. */
export const THIRD_PARTY_NOTE = /third-party listing of (the )?(AWS|Google Cloud|Google|provider)('s)? list price/i;

/** Whether `url` is on one of the providers' own pricing sites. */
export function isOfficial(url: string): boolean {
  return OFFICIAL_HOSTS.includes(new URL(url).hostname);
}

/** One price of the sheet. */
export type PriceEntry = z.infer<typeof entrySchema>;

/** A price sheet, checked, with the file it came from. */
export interface PriceSheet {
  readonly file: string;
  readonly hoursPerMonth: number;
  /** Per cloud, the region whose figures price what the stack's own region has no figure for. */
  readonly referenceRegions?: Readonly<Partial<Record<Cloud, string>>>;
  readonly prices: readonly PriceEntry[];
}

/** Reads and checks a price sheet; every problem names the sheet and the entry. */
export function readPriceSheet(file: string, label = file): PriceSheet {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new PriceSheetError(`${label}: not a readable JSON price sheet: ${(e as Error).message}`);
  }
  const parsed = sheetSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const where = i.path.length ? i.path.join(".") : "(top level)";
      return `  ${where}: ${i.message}`;
    });
    throw new PriceSheetError(`${label}: not a valid price sheet:\n${lines.join("\n")}`);
  }
  const seen = new Set<string>();
  for (const p of parsed.data.prices) {
    const key = `${p.item}@${p.region}`;
    if (seen.has(key)) throw new PriceSheetError(`${label}: ${p.item} in ${p.region} is priced twice`);
    seen.add(key);
    if (p.value === null && !p.note)
      throw new PriceSheetError(`${label}: ${p.item} in ${p.region} has no value and no note saying why`);
    if (!isOfficial(p.url) && !THIRD_PARTY_NOTE.test(p.note ?? ""))
      throw new PriceSheetError(
        `${label}: ${p.item} in ${p.region} is read from ${p.url}, which is not the provider's own pricing page (${OFFICIAL_HOSTS.join(", ")}): its note must say it is a "third-party listing of the AWS list price" (or Google Cloud's)`,
      );
  }
  return {
    file: label,
    hoursPerMonth: parsed.data.hoursPerMonth,
    referenceRegions: parsed.data.referenceRegions,
    prices: parsed.data.prices,
  };
}

/** The entry for `item` in `region`, or a global one. */
function entryFor(sheet: PriceSheet, item: string, region: string): PriceEntry | undefined {
  return (
    sheet.prices.find((p) => p.item === item && p.region === region) ??
    sheet.prices.find((p) => p.item === item && p.region === "global")
  );
}

/** A price found for an item: its entry, and the reference region it was read in when that stood in for the stack's region. */
export interface FoundPrice {
  readonly entry: PriceEntry;
  readonly referenceRegion?: string;
}

/**
 * The price of `item` in `region` (or a global one). When that has no figure (null or absent) and
 * the sheet names a reference region for the item's cloud, the reference region's figure is used
 * and returned with that region; a figure for `region` itself always wins. Throws naming the item
 * and the sheet when neither region has an entry.
 */
export function priceOf(sheet: PriceSheet, item: string, region: string): FoundPrice {
  const own = entryFor(sheet, item, region);
  if (own && own.value !== null) return { entry: own };
  const cloud = item.split(".")[0] as Cloud;
  const refRegion = sheet.referenceRegions?.[cloud];
  const ref = refRegion && refRegion !== region ? entryFor(sheet, item, refRegion) : undefined;
  if (ref && ref.value !== null && ref.region !== "global") return { entry: ref, referenceRegion: ref.region };
  const found = own ?? ref;
  if (!found) {
    const [, size] = item.split(":");
    const where = refRegion && refRegion !== region ? `${region} (nor in the reference region ${refRegion})` : region;
    throw new PriceSheetError(
      `${sheet.file} has no price for ${size ? `"${size}" (${item})` : item} in ${where}: add an entry { "item": "${item}", "region": "${region}", "value": <USD or null with a note>, "unit", "url", "read" } read from the provider's pricing page`,
    );
  }
  return { entry: found };
}
