import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { isPinned, parsePinnedImage, PINNED_FORM } from "../lib/images";
import { canonicalJson } from "../lib/json";
import { DNS_LABEL } from "../lib/names";
import { Refusal, UsageError } from "./errors";
import { writeNewFile } from "../lib/files";

/** The largest release file read: a release is a handful of image references. */
const MAX_RELEASE_BYTES = 64 * 1024;

/** Release ids: `r-` and the first 12 hex digits of the content hash. */
export const RELEASE_ID = /^r-[0-9a-f]{12}$/;
/** A full git commit id (SHA-1 or SHA-256): short ids are ambiguous and would change the release id. */
export const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const releaseFileSchema = z.strictObject({
  id: z.string().regex(RELEASE_ID),
  images: z.record(z.string(), z.string()),
  commit: z.string().regex(COMMIT),
  created: z.iso.datetime(),
  createdBy: z.string().min(1),
});

/** Re-exported: history records and pointers are compared through it. */
export { canonicalJson };

/** An immutable release: the images CI built, by digest, and the commit they came from. */
export type Release = Readonly<z.infer<typeof releaseFileSchema>>;

/** The id of a release: a hash of its images and commit only (not of its creation time or author). */
export function releaseId(images: Readonly<Record<string, string>>, commit: string): string {
  const hash = createHash("sha256").update(canonicalJson({ commit, images })).digest("hex");
  return `r-${hash.slice(0, 12)}`;
}

/** Every reason a set of images cannot be a release; empty when they can. */
export function imageProblems(images: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (Object.keys(images).length === 0)
    problems.push(`a release needs at least one image (--image <name>=${PINNED_FORM})`);
  for (const [name, ref] of Object.entries(images)) {
    if (!DNS_LABEL.test(name))
      problems.push(`image name "${name}" must be a DNS label (lowercase letters, digits, '-')`);
    const parsed = parsePinnedImage(ref);
    if (!isPinned(parsed)) problems.push(`image ${name} ${parsed.error}`);
  }
  return problems;
}

/** The digests of a release's images, by image name. */
export function releaseDigests(release: Pick<Release, "images">): Record<string, string> {
  return Object.fromEntries(
    Object.entries(release.images).map(([name, ref]) => {
      const parsed = parsePinnedImage(ref);
      if (!isPinned(parsed)) throw new Refusal(undefined, "digest-only", `image ${name} ${parsed.error}`);
      return [name, parsed.digest];
    }),
  );
}

/**
 * The release files in one folder (`stacks/releases/<id>.json`). Files are created once, with an
 * exclusive create, and never rewritten; reading one checks that its id still matches its content.
 */
export class ReleaseStore {
  constructor(readonly dir: string) {}

  file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Ids of every release file, oldest first (by creation time). */
  list(): Release[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => this.read(f.slice(0, -".json".length)))
      .sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  }

  has(id: string): boolean {
    return RELEASE_ID.test(id) && fs.existsSync(this.file(id));
  }

  /** Reads a release named on the command line by `flag`; an unknown id is a usage error. */
  get(id: string, flag = "--release"): Release {
    if (!RELEASE_ID.test(id))
      throw new UsageError(
        `${flag} must be a release id (r- and 12 hex digits, as printed by \`npm run release -- create\`), got "${id}"`,
      );
    if (!fs.existsSync(this.file(id))) {
      const known = fs.existsSync(this.dir)
        ? fs
            .readdirSync(this.dir)
            .filter((f) => f.endsWith(".json"))
            .map((f) => f.slice(0, -5))
        : [];
      throw new UsageError(`${flag} ${id}: no such release in ${this.dir} (known: ${known.join(", ") || "none"})`);
    }
    return this.read(id);
  }

  private read(id: string): Release {
    const file = this.file(id);
    let data: unknown;
    try {
      const size = fs.statSync(file).size;
      if (size > MAX_RELEASE_BYTES)
        throw new Error(`${size} bytes is more than a release file may have (${MAX_RELEASE_BYTES})`);
      data = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Refusal(
        undefined,
        "immutable-release",
        `${file} is not a readable JSON release file: ${(e as Error).message}`,
      );
    }
    const parsed = releaseFileSchema.safeParse(data);
    if (!parsed.success) {
      throw new Refusal(
        undefined,
        "immutable-release",
        `${file} is not a release file: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ")}`,
      );
    }
    const r = parsed.data;
    const problems = imageProblems(r.images);
    if (problems.length > 0) throw new Refusal(undefined, "digest-only", `${file}: ${problems.join("; ")}`);
    const expected = releaseId(r.images, r.commit);
    if (r.id !== id || expected !== id) {
      throw new Refusal(
        undefined,
        "immutable-release",
        `${file} was edited: its images and commit hash to ${expected}, not ${id}. Releases are immutable; create a new one with \`npm run release -- create\``,
      );
    }
    return r;
  }

  /**
   * Creates the release for these images and commit. The same content always gives the same id:
   * when the file already exists it is returned unchanged (`created: false`).
   */
  create(
    images: Readonly<Record<string, string>>,
    commit: string,
    now: Date,
    actor: string,
  ): { release: Release; created: boolean } {
    const problems = imageProblems(images);
    if (problems.length > 0) throw new Refusal(undefined, "digest-only", `release refused: ${problems.join("; ")}`);
    if (!COMMIT.test(commit))
      throw new UsageError(`--commit must be a full git commit id (40 or 64 lowercase hex digits), got "${commit}"`);
    const id = releaseId(images, commit);
    if (this.has(id)) return { release: this.get(id), created: false };
    const sorted = Object.fromEntries(Object.entries(images).sort(([a], [b]) => a.localeCompare(b)));
    const release: Release = { id, images: sorted, commit, created: now.toISOString(), createdBy: actor };
    if (!writeNewFile(this.file(id), `${JSON.stringify(release, null, 2)}\n`))
      return { release: this.get(id), created: false };
    return { release, created: true };
  }
}
