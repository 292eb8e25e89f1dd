import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { Refusal } from "./errors";
import { writeNewFile } from "./files";

const base = {
  stage: z.string(),
  /** The release the record is about. */
  release: z.string(),
  at: z.iso.datetime(),
  /** Who: `BLUEPRINT_ACTOR`, or git's user.name <user.email>. */
  by: z.string().min(1),
  reason: z.string().optional(),
};
const images = z.record(z.string(), z.string());

const promotionSchema = z.strictObject({
  ...base,
  kind: z.literal("promotion"),
  /** The release the stage had before (null when it had none). */
  from: z.string().nullable(),
  /** The upstream stages whose verification allowed this promotion. */
  upstream: z.array(z.string()),
  /** The pointer images before and after. */
  before: images,
  images,
  /** Rules set aside with `--force --reason`; the reason is in `reason`. */
  overridden: z.array(z.object({ rule: z.string(), message: z.string() })).optional(),
  /** Images copied into the stage's registry by digest. */
  copied: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
});
const rollbackSchema = z.strictObject({
  ...base,
  kind: z.literal("rollback"),
  from: z.string().nullable(),
  before: images,
  images,
  copied: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
});
const verificationSchema = z.strictObject({
  ...base,
  kind: z.literal("verification"),
  result: z.enum(["passed", "failed"]),
  /** What was read, e.g. `outputs:file.json`, `pods:pods.json`, `live:stack-outputs`. */
  sources: z.array(z.string()),
  /** Why the evidence did not match (empty when it passed). */
  problems: z.array(z.string()),
});
const approvalSchema = z.strictObject({ ...base, kind: z.literal("approval") });

const recordSchema = z.discriminatedUnion("kind", [promotionSchema, rollbackSchema, verificationSchema, approvalSchema]);

/** One audit record. */
export type HistoryRecord = z.infer<typeof recordSchema>;
export type PromotionRecord = z.infer<typeof promotionSchema>;
export type RollbackRecord = z.infer<typeof rollbackSchema>;
export type VerificationRecord = z.infer<typeof verificationSchema>;
export type ApprovalRecord = z.infer<typeof approvalSchema>;

/**
 * The append-only audit trail: one JSON file per record under `<dir>/<stage>/`, named by time, a
 * sequence number, kind, release and a random suffix. Records are created exclusively and never rewritten, and two
 * branches that each add records never touch the same file, so they merge in git without conflict.
 */
export class HistoryStore {
  constructor(readonly dir: string) {}

  /** Writes a record; returns its path. */
  append(record: HistoryRecord): string {
    const parsed = recordSchema.parse(record);
    const stamp = parsed.at.replace(/[-:]/g, "").replace(".", "");
    const dir = path.join(this.dir, parsed.stage);
    // Orders records written in the same millisecond (the count of records already there).
    const seq = String(fs.existsSync(dir) ? fs.readdirSync(dir).length : 0).padStart(5, "0");
    for (;;) {
      const file = path.join(dir, `${stamp}-${seq}-${parsed.kind}-${parsed.release}-${randomBytes(3).toString("hex")}.json`);
      if (writeNewFile(file, `${JSON.stringify(parsed, null, 2)}\n`)) return file;
    }
  }

  /** Every record (of one stage, when given), oldest first. */
  list(stage?: string): HistoryRecord[] {
    if (!fs.existsSync(this.dir)) return [];
    const stages = stage ? [stage] : fs.readdirSync(this.dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => d.name);
    const out: { file: string; record: HistoryRecord }[] = [];
    for (const s of stages) {
      const dir = path.join(this.dir, s);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".json"))) {
        const file = path.join(dir, f);
        const parsed = recordSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
        if (!parsed.success || parsed.data.stage !== s) {
          throw new Refusal(s, "history", `${file} is not a valid history record${parsed.success ? ` (its stage is "${parsed.data.stage}")` : `: ${parsed.error.issues[0]?.message}`}`);
        }
        out.push({ file: f, record: parsed.data });
      }
    }
    return out.sort((a, b) => a.record.at.localeCompare(b.record.at) || a.file.localeCompare(b.file)).map((x) => x.record);
  }
}
