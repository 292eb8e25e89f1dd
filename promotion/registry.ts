import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { formatPinnedImage, isPinned, parsePinnedImage } from "../lib/images";
import { Refusal } from "./errors";

/** A registry could not be asked (not installed, not reachable, no credentials). */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
}

/** Access to image registries, by digest only. Tests use a fake or real local registries. */
export interface Registry {
  /** Whether the registry holds a manifest with exactly the digest of `ref` (`repo@sha256:...`); gives up after `timeoutMs`. */
  has(ref: string, timeoutMs?: number): Promise<boolean>;
  /** Copies `from` to `to` (same digest, other repository) keeping the digest, every platform. */
  copy(from: string, to: string): Promise<void>;
  /** The command {@link copy} runs, for people to run themselves. */
  copyCommand(from: string, to: string): string;
}

/** `host` and `path` of a repository, with Docker Hub's implicit host and `library/` made explicit. */
export function splitRepository(repository: string): { host: string; path: string } {
  const slash = repository.indexOf("/");
  const first = slash < 0 ? "" : repository.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost")
    return { host: first, path: repository.slice(slash + 1) };
  return { host: "docker.io", path: slash < 0 ? `library/${repository}` : repository };
}

/**
 * The reference a stage pulls: with a registry mapping, `<registry>/<path>@<same digest>`;
 * without one, the release's reference unchanged. The digest never changes.
 */
export function mapImage(ref: string, registry: string | undefined): string {
  if (!registry) return ref;
  const p = parsePinnedImage(ref);
  if (!isPinned(p)) throw new Refusal(undefined, "digest-only", `image ${p.error}`);
  return formatPinnedImage({ repository: `${registry}/${splitRepository(p.repository).path}`, digest: p.digest });
}

/** Loopback registries speak plain HTTP (as Docker assumes for them); everything else is HTTPS with verified TLS. */
export function isLoopback(ref: string): boolean {
  const host = splitRepository(ref.split("@")[0]).host;
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
}

/** Runs a program; resolves with its exit code and output (never rejects on a non-zero exit). */
export type Runner = (
  file: string,
  args: readonly string[],
  timeoutMs: number,
) => Promise<{ code: number | null; stdout: Buffer; stderr: string; missing?: boolean }>;

/** The default {@link Runner}: `child_process.execFile`, no shell. */
export const execRunner: Runner = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { encoding: "buffer", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
        resolve({
          code: e ? (typeof e.code === "number" ? e.code : -1) : 0,
          stdout: stdout ?? Buffer.alloc(0),
          stderr: `${stderr?.toString() ?? ""}${e && typeof e.code !== "number" && !stderr?.length ? e.message : ""}`,
          missing: e?.code === "ENOENT",
        });
      },
    );
  });

/** Registry access through `skopeo`, which uses the same credentials as `skopeo login` / `docker login`. */
export class SkopeoRegistry implements Registry {
  constructor(
    private readonly bin = "skopeo",
    private readonly run: Runner = execRunner,
  ) {}

  async has(ref: string, timeoutMs = 60_000): Promise<boolean> {
    const digest = digestOf(ref);
    const args = ["inspect", "--raw", ...(isLoopback(ref) ? ["--tls-verify=false"] : []), `docker://${ref}`];
    const r = await this.run(this.bin, args, timeoutMs);
    if (r.missing) throw new RegistryError(`${this.bin} is not installed (Debian/Ubuntu: apt-get install -y skopeo)`);
    if (r.code !== 0) {
      if (/manifest unknown|name unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN|repository name not known/i.test(r.stderr))
        return false;
      throw new RegistryError(`cannot read ${ref}: ${lastLine(r.stderr)}`);
    }
    const got = `sha256:${createHash("sha256").update(r.stdout).digest("hex")}`;
    if (got !== digest)
      throw new Refusal(undefined, "digest-only", `the registry returned a manifest with digest ${got} for ${ref}`);
    return true;
  }

  async copy(from: string, to: string): Promise<void> {
    const [file, ...args] = this.copyArgs(from, to);
    const r = await this.run(file, args, 30 * 60_000);
    if (r.missing) throw new RegistryError(`${this.bin} is not installed (Debian/Ubuntu: apt-get install -y skopeo)`);
    if (r.code !== 0) {
      if (/preserve.?digest|digest.*(change|differ)/i.test(r.stderr)) {
        throw new Refusal(
          undefined,
          "digest-only",
          `copying ${from} to ${to} would change the digest: ${lastLine(r.stderr)}`,
        );
      }
      throw new RegistryError(`copy ${from} -> ${to} failed: ${lastLine(r.stderr)}`);
    }
    if (!(await this.has(to)))
      throw new Refusal(
        undefined,
        "digest-only",
        `after the copy, ${to} is not in the registry with digest ${digestOf(to)}`,
      );
  }

  copyCommand(from: string, to: string): string {
    return this.copyArgs(from, to).join(" ");
  }

  private copyArgs(from: string, to: string): string[] {
    if (digestOf(from) !== digestOf(to))
      throw new Refusal(undefined, "digest-only", `a copy must keep the digest: ${from} -> ${to}`);
    return [
      this.bin,
      "copy",
      "--all",
      "--preserve-digests",
      ...(isLoopback(from) ? ["--src-tls-verify=false"] : []),
      ...(isLoopback(to) ? ["--dest-tls-verify=false"] : []),
      `docker://${from}`,
      `docker://${to}`,
    ];
  }
}

function digestOf(ref: string): string {
  const p = parsePinnedImage(ref);
  if (!isPinned(p)) throw new Refusal(undefined, "digest-only", `image ${p.error}`);
  return p.digest;
}

function lastLine(text: string): string {
  const line = text.trim().split("\n").pop() ?? "";
  const msg = /msg="(.*)"/.exec(line)?.[1];
  // skopeo repeats the whole reference before the reason; the caller has already named it.
  return (msg ?? line).replace(/\\"/g, '"').replace(/^Error parsing image name "[^"]*": /, "") || "no output";
}
