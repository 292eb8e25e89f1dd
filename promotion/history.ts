import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { Refusal } from "./errors";
import { writeNewFile } from "../lib/files";
import { fileIdentity, ReadCache } from "./readcache";
import { canonicalJson, RELEASE_ID } from "./release";

/** How far in the future a record's time may be (clocks of different machines differ a little). */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** The largest record file read or written: a record holds a summary of its evidence, never the evidence. */
export const MAX_RECORD_BYTES = 32 * 1024;
/** Problems a verification record keeps (the rest are counted), and the length of each. */
export const MAX_PROBLEMS = 20;
export const MAX_PROBLEM_CHARS = 300;

const HASH = /^[0-9a-f]{64}$/;

const base = {
  /** The lane (team) the record is about: its folder says the same. */
  lane: z.string().regex(/^[a-z0-9][-a-z0-9]{0,62}$/),
  stage: z.string(),
  /** The release the record is about. */
  release: z.string().regex(RELEASE_ID),
  at: z.iso.datetime(),
  /** Who: `BLUEPRINT_ACTOR`, or git's user.name <user.email>, normalised. */
  by: z.string().min(1).max(300),
  reason: z.string().max(2000).optional(),
  /** Position in the stage's chain, from 1. */
  seq: z.number().int().min(1).max(999_999),
  /** SHA-256 of the record before it in the stage's chain (null for the first). */
  prev: z.string().regex(HASH).nullable(),
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
  /** The scan each image's vulnerability gate was judged on: its digest and the report's sha256. */
  scans: z
    .record(
      z.string(),
      z.strictObject({
        digest: z.string(),
        report: z.string().regex(/^[a-f0-9]{64}$/),
        format: z.string(),
        scannedAt: z.string().optional(),
        summary: z
          .string()
          .regex(/^[a-f0-9]{64}$/)
          .optional(),
      }),
    )
    .optional(),
  /** Findings the vulnerability gate let through by `--accept-vulnerabilities`: which, why (in `reason`), until when. */
  accepted: z.strictObject({ ids: z.array(z.string().max(200)).min(1).max(100), expires: z.iso.datetime() }).optional(),
});
const rollbackSchema = z.strictObject({
  ...base,
  kind: z.literal("rollback"),
  from: z.string().nullable(),
  before: images,
  images,
  copied: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
});

/** What a verification keeps of one evidence source: where it came from and its size, never its content. */
const evidenceSummarySchema = z.strictObject({
  /** `outputs:<file>`, `pods:<file>`, `live:pulumi`, `live:kubernetes[:context]`. */
  source: z.string().max(300),
  /** SHA-256 of the bytes read, so the file kept elsewhere can be matched to the record. */
  sha256: z.string().regex(HASH),
  bytes: z.number().int().min(0),
  /** The stack and cluster the evidence says it came from. */
  stack: z.string().max(200),
  cluster: z.string().max(300).optional(),
  /** Pods (pods evidence) and image references compared. */
  pods: z.number().int().min(0).optional(),
  images: z.number().int().min(0),
});
const verificationSchema = z.strictObject({
  ...base,
  kind: z.literal("verification"),
  result: z.enum(["passed", "failed"]),
  evidence: z.array(evidenceSummarySchema).min(1).max(20),
  /** The first differences between the evidence and the release (empty when it passed). */
  problems: z.array(z.string().max(MAX_PROBLEM_CHARS)).max(MAX_PROBLEMS),
  /** How many differences there were in all. */
  problemCount: z.number().int().min(0),
});
const approvalSchema = z.strictObject({ ...base, kind: z.literal("approval") });

const recordSchema = z.discriminatedUnion("kind", [
  promotionSchema,
  rollbackSchema,
  verificationSchema,
  approvalSchema,
]);

/** One audit record. */
export type HistoryRecord = z.infer<typeof recordSchema>;
export type PromotionRecord = z.infer<typeof promotionSchema>;
export type RollbackRecord = z.infer<typeof rollbackSchema>;
export type VerificationRecord = z.infer<typeof verificationSchema>;
export type ApprovalRecord = z.infer<typeof approvalSchema>;
export type EvidenceSummary = z.infer<typeof evidenceSummarySchema>;

type WithoutChain<T> = T extends unknown ? Omit<T, "seq" | "prev" | "lane"> : never;
/** A record before it is chained: the store adds its lane, `seq` and `prev`. */
export type NewRecord = WithoutChain<HistoryRecord>;

/** A record read from disk, with its file and hash. */
export interface StoredRecord {
  readonly record: HistoryRecord;
  readonly file: string;
  /** SHA-256 of the record's canonical JSON. */
  readonly hash: string;
}

/** A break in a stage's chain: what is wrong, with which file, and how to repair it. */
export interface ChainProblem {
  readonly chain: string;
  readonly file: string;
  /** What is wrong with `file` and how to repair it (without the file name). */
  readonly message: string;
}

/** `<file>: <message>` for each problem, with file names as `shown` prints them. */
export function describeProblems(
  problems: readonly ChainProblem[],
  shown: (file: string) => string = (f) => f,
): string[] {
  return problems.map((p) => `${shown(p.file)}: ${p.message}`);
}

/** Every record, each chain in order, and what is wrong with the chains. */
export interface HistoryView {
  /** Every record, chain by chain, each chain in order. */
  readonly records: readonly HistoryRecord[];
  readonly chains: ReadonlyMap<string, readonly StoredRecord[]>;
  readonly problems: readonly ChainProblem[];
}

/** A record file that cannot be used at all (unreadable, not JSON, not a record, in the wrong place). */
export class HistoryFileError extends Refusal {
  constructor(
    readonly file: string,
    why: string,
  ) {
    super(
      undefined,
      "history",
      `${file}: ${why}. Restore it from git (git log --oneline -- ${file}) or remove it if it was not written by these commands`,
    );
  }
}

const NAME = /^(\d{6})-(promotion|rollback|verification|approval)-(r-[0-9a-f]{12})-([0-9a-f]{12})\.json$/;

/** SHA-256 of a record's canonical JSON: what the next record names as `prev`. */
export function recordHash(record: unknown): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}

/**
 * The append-only audit trail of one lane, one hash chain per stage:
 * `<dir>/<stage>/<seq>-<kind>-<release>-<hash>.json`, `dir` being `stacks/history/<lane>`. Each
 * record names the hash of the one before it, so an edited, deleted, inserted or reordered record
 * breaks the chain, and two branches that each appended to a stage leave two records with the same
 * predecessor (a fork). Each record names its lane, so a record copied into another lane's folder
 * is refused even where it would start a chain.
 */
export class HistoryStore {
  /** `projectDir`, when given, makes file names in messages relative to it (as people type them). */
  constructor(
    readonly dir: string,
    private readonly stageNames: readonly string[] | undefined,
    private readonly projectDir: string | undefined,
    readonly lane: string,
  ) {}

  private show = (file: string): string => {
    if (!this.projectDir) return file;
    const rel = path.relative(this.projectDir, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
  };

  /** The folder of a stage's chain. */
  chainDir(stage: string): string {
    return path.join(this.dir, stage);
  }

  /**
   * Appends a record at the end of its stage's chain; returns its path. The caller holds the
   * stage's lock. Refuses when the chain is broken, or when the record would be dated before the
   * last one (this machine's clock is behind, or the last record was written by a clock ahead).
   * `view`, when given, is the history as the caller read it under the same lock (not read again).
   */
  append(input: NewRecord, view?: HistoryView): string {
    const chain = view ? [...(view.chains.get(input.stage) ?? [])] : this.readChain(input.stage);
    const problems = checkChain(input.stage, chain, this.show);
    if (problems.length > 0)
      throw new Refusal(
        input.stage,
        "history",
        `the history is broken, nothing recorded:\n  - ${describeProblems(problems, this.show).join("\n  - ")}`,
      );
    const last = chain.at(-1);
    if (last && Date.parse(input.at) < Date.parse(last.record.at)) {
      throw new Refusal(
        input.stage,
        "clock",
        `this machine's clock says ${input.at}, earlier than the last record ${this.show(last.file)} (${last.record.at}); a record may not be dated before the one it follows. Either this clock is behind (fix it), or that record was written by a clock ahead: then it is the last of the chain, and \`git rm ${this.show(last.file)}\` removes it without breaking the chain. Nothing recorded`,
      );
    }
    const { name, text } = chainRecord(input, last, this.lane);
    const file = path.join(this.chainDir(input.stage), name);
    if (!writeNewFile(file, text))
      throw new Refusal(
        input.stage,
        "concurrent",
        `${this.show(file)} exists: another command appended to this stage at the same time; nothing recorded, run the command again`,
      );
    return file;
  }

  /**
   * Every chain, checked. Unusable files throw {@link HistoryFileError}; breaks are in `problems`.
   * `cacheFile`, for reports only (`status`), keeps what reading each record file found, keyed by
   * the file's identity (see {@link ReadCache}): a record file whose inode, size, mtime and ctime
   * are those it had when it was read is taken as read then. Commands that write never pass it, so
   * the rules are always judged on the files themselves.
   */
  read(cacheFile?: string): HistoryView {
    const cache = cacheFile === undefined ? undefined : ReadCache.load<RecordEntry>(cacheFile, isRecordEntry);
    const chains = new Map<string, StoredRecord[]>();
    const problems: ChainProblem[] = [];
    for (const stage of this.stages()) {
      const chain = this.readChain(stage, cache);
      chains.set(stage, chain);
      problems.push(...checkChain(stage, chain, this.show));
    }
    cache?.save();
    return { records: [...chains.values()].flatMap((c) => c.map((s) => s.record)), chains, problems };
  }

  /** Every record (of one stage, when given), in chain order; throws on any break. */
  list(stage?: string): HistoryRecord[] {
    const view = this.read();
    const problems = view.problems.filter((p) => !stage || p.chain === stage);
    if (problems.length > 0) throw new Refusal(stage, "history", describeProblems(problems, this.show).join("\n  - "));
    return stage ? (view.chains.get(stage) ?? []).map((s) => s.record) : [...view.records];
  }

  private stages(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    const found: string[] = [];
    for (const d of fs.readdirSync(this.dir, { withFileTypes: true })) {
      if (d.name.startsWith(".")) continue;
      const where = path.join(this.dir, d.name);
      if (!d.isDirectory())
        throw new HistoryFileError(
          this.show(where),
          `is not in a stage's folder (records of lane ${this.lane} live in ${this.show(path.join(this.dir, "<stage>"))}/)`,
        );
      if (this.stageNames && !this.stageNames.includes(d.name))
        throw new HistoryFileError(
          this.show(where),
          `is not a stage in stages.yaml (stages: ${this.stageNames.join(", ")})`,
        );
      found.push(d.name);
    }
    return found.sort();
  }

  private readChain(stage: string, cache?: ReadCache<RecordEntry>): StoredRecord[] {
    const dir = this.chainDir(stage);
    if (!fs.existsSync(dir)) return [];
    const out: StoredRecord[] = [];
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.name.startsWith(".") && d.name.endsWith(".tmp")) continue;
      const file = path.join(dir, d.name);
      if (!d.isFile()) throw new HistoryFileError(this.show(file), "is not a record file");
      if (!NAME.test(d.name))
        throw new HistoryFileError(
          this.show(file),
          "is not named like a history record (<seq>-<kind>-<release>-<hash>.json)",
        );
      if (!cache) {
        out.push(readRecord(file, this.lane, stage, this.show));
        continue;
      }
      const key = `${stage}/${d.name}`;
      const id = fileIdentity(file);
      const hit = cache.get(key, id);
      if (hit && hit.record.lane === this.lane && hit.record.stage === stage) {
        out.push({ record: hit.record, file, hash: hit.hash });
        continue;
      }
      const stored = readRecord(file, this.lane, stage, this.show);
      cache.set(key, id, { hash: stored.hash, record: stored.record });
      out.push(stored);
    }
    return out.sort((a, b) => a.record.seq - b.record.seq || a.file.localeCompare(b.file));
  }
}

const readBuffer = Buffer.alloc(MAX_RECORD_BYTES + 1);

/** What the read cache keeps of a record file. */
interface RecordEntry {
  readonly hash: string;
  readonly record: HistoryRecord;
}

function isRecordEntry(v: unknown): v is RecordEntry {
  const e = v as Partial<Record<keyof RecordEntry, unknown>> | null;
  return (
    e !== null &&
    typeof e === "object" &&
    typeof e.hash === "string" &&
    HASH.test(e.hash) &&
    e.record !== null &&
    typeof e.record === "object"
  );
}

function readRecord(file: string, lane: string, stage: string, show: (file: string) => string): StoredRecord {
  let text: string;
  try {
    // One read of at most one byte more than a record may hold: no separate stat, and an oversized
    // file is never read whole.
    const fd = fs.openSync(file, "r");
    let size = 0;
    try {
      for (let n = 1; n > 0 && size < readBuffer.length; size += n)
        n = fs.readSync(fd, readBuffer, size, readBuffer.length - size, size);
    } finally {
      fs.closeSync(fd);
    }
    if (size > MAX_RECORD_BYTES)
      throw new HistoryFileError(
        show(file),
        `is ${fs.statSync(file).size} bytes, more than a record may hold (${MAX_RECORD_BYTES})`,
      );
    text = readBuffer.toString("utf8", 0, size);
  } catch (e) {
    if (e instanceof HistoryFileError) throw e;
    throw new HistoryFileError(
      show(file),
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HistoryFileError(show(file), `is not valid JSON (${(e as Error).message})`);
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    throw new HistoryFileError(
      show(file),
      `is not a history record: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(root)"} ${i.message}`)
        .join("; ")}`,
    );
  }
  if (parsed.data.lane !== lane)
    throw new HistoryFileError(show(file), `is a record of lane "${parsed.data.lane}" in the folder of lane "${lane}"`);
  if (parsed.data.stage !== stage)
    throw new HistoryFileError(
      show(file),
      `is a record of stage "${parsed.data.stage}" in the folder of stage "${stage}"`,
    );
  return { record: parsed.data, file, hash: recordHash(json) };
}

/**
 * The file name and text of `input` as the next record after `last` (undefined: the first of its
 * chain): its `seq` and `prev` filled in, checked against the schema and the size limit.
 */
export function chainRecord(
  input: NewRecord,
  last: StoredRecord | undefined,
  lane: string,
): { name: string; text: string; stored: StoredRecord } {
  const record = { lane, ...input, seq: (last?.record.seq ?? 0) + 1, prev: last?.hash ?? null } as HistoryRecord;
  const parsed = recordSchema.safeParse(record);
  if (!parsed.success)
    throw new Error(
      `internal: record does not match its schema: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  const text = `${JSON.stringify(parsed.data, null, 2)}\n`;
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES)
    throw new Error(
      `internal: a ${record.kind} record of ${Buffer.byteLength(text)} bytes is over the ${MAX_RECORD_BYTES}-byte limit`,
    );
  const hash = recordHash(parsed.data);
  const name = `${String(record.seq).padStart(6, "0")}-${record.kind}-${record.release}-${hash.slice(0, 12)}.json`;
  return { name, text, stored: { record: parsed.data, file: name, hash } };
}

/** Every break in one stage's chain (records in seq order), each naming the file and the repair. */
export function checkChain(
  stage: string,
  chain: readonly StoredRecord[],
  show: (file: string) => string = (f) => f,
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const folder = show(path.dirname(chain[0]?.file ?? stage));
  const add = (file: string, message: string) => problems.push({ chain: stage, file, message });
  const bySeq = new Map<number, StoredRecord[]>();
  for (const s of chain) bySeq.set(s.record.seq, [...(bySeq.get(s.record.seq) ?? []), s]);
  // What the next record must name as prev: the hash in the predecessor's file name (the hash it
  // had when written), so one edited record is reported once, not again for every record after it.
  let prev: { hash: string | null; file?: string } | undefined = { hash: null };
  let expected = 1;
  for (const seq of [...bySeq.keys()].sort((a, b) => a - b)) {
    const here = bySeq.get(seq)!;
    if (seq > expected) {
      const which = seq - 1 > expected ? `records ${expected} to ${seq - 1}` : `record ${expected}`;
      add(
        here[0].file,
        `${which} of stage ${stage}, before this one, ${seq - 1 > expected ? "are" : "is"} missing (deleted?): restore from git (git log --diff-filter=D --name-only -- ${folder})`,
      );
      prev = undefined;
    }
    expected = seq + 1;
    for (const s of here) {
      const [, nameSeq, kind, release, short] = NAME.exec(path.basename(s.file))!;
      if (
        s.hash.slice(0, 12) !== short ||
        Number(nameSeq) !== s.record.seq ||
        kind !== s.record.kind ||
        release !== s.record.release
      ) {
        add(
          s.file,
          `was edited after it was written (its content hashes to ${s.hash.slice(0, 12)}, its name says ${short}): restore it from git (git log -p -- ${show(s.file)})`,
        );
      }
    }
    const following: StoredRecord[] = prev === undefined ? here : here.filter((s) => s.record.prev === prev!.hash);
    if (prev !== undefined) {
      for (const s of here.filter((x) => !following.includes(x))) {
        add(
          s.file,
          `does not follow ${seq === 1 ? "the start of the chain" : `record ${seq - 1}${prev.file ? ` (${show(prev.file)})` : ""}`}: it was inserted, reordered or renumbered by hand. Remove it (git log -- ${show(s.file)} shows who added it) and re-run the command that should have written it`,
        );
      }
    }
    if (following.length > 1) {
      add(
        following[1].file,
        `${following.map((s) => show(s.file)).join(" and ")} ${following.length === 2 ? "both" : "all"} follow record ${seq - 1} of stage ${stage}: two branches each appended to this stage (a fork). Keep one branch's records: \`git rm\` the other branch's records from record ${seq} on, and re-run their commands so they are chained after`,
      );
    }
    const chosen: StoredRecord = following[0] ?? here[0];
    const short = NAME.exec(path.basename(chosen.file))![4];
    prev = {
      hash:
        chosen.hash.slice(0, 12) === short
          ? chosen.hash
          : (bySeq.get(seq + 1)?.find((s) => s.record.prev?.startsWith(short))?.record.prev ?? null),
      file: chosen.file,
    };
  }
  return problems;
}
