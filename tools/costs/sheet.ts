import * as fs from "node:fs";
import { z } from "zod";

/**
 * The price sheet `npm run costs` prices with: one entry per price, each with the page it was read
 * from and when. A price the page did not show is an entry with `value: null` and a note saying
 * so, never a guess; the table then says "price not found" for what it prices.
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

const sheetSchema = z.strictObject({
  currency: z.literal("USD"),
  /** Hours in a month, as the providers' pricing pages count them. */
  hoursPerMonth: z.literal(730),
  prices: z.array(entrySchema).min(1),
});

/** One price of the sheet. */
export type PriceEntry = z.infer<typeof entrySchema>;

/** A price sheet, checked, with the file it came from. */
export interface PriceSheet {
  readonly file: string;
  readonly hoursPerMonth: number;
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
  }
  return { file: label, hoursPerMonth: parsed.data.hoursPerMonth, prices: parsed.data.prices };
}

/** The price of `item` in `region` (or a global one); throws naming the item and the sheet. */
export function priceOf(sheet: PriceSheet, item: string, region: string): PriceEntry {
  const found =
    sheet.prices.find((p) => p.item === item && p.region === region) ??
    sheet.prices.find((p) => p.item === item && p.region === "global");
  if (!found) {
    const [, size] = item.split(":");
    throw new PriceSheetError(
      `${sheet.file} has no price for ${size ? `"${size}" (${item})` : item} in ${region}: add an entry { "item": "${item}", "region": "${region}", "value": <USD or null with a note>, "unit", "url", "read" } read from the provider's pricing page`,
    );
  }
  return found;
}
