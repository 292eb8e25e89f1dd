/** Image references pinned by digest, the only form this blueprint deploys. */

/** `sha256:` followed by 64 lowercase hex digits. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A repository (optionally with registry host and port) followed by `@sha256:<64 hex>`, with no tag. */
const PINNED =
  /^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?\/)*[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)@(sha256:[0-9a-f]{64})$/;

/** An image reference split into its parts. */
export interface PinnedImage {
  /** `registry/path/name` without tag or digest. */
  readonly repository: string;
  /** `sha256:<64 hex>`. */
  readonly digest: string;
}

/** What a pinned image reference looks like, for error messages. */
export const PINNED_FORM = "repo@sha256:<64 hex>";

/** Splits `repo@sha256:<64 hex>`; returns a reason instead when the reference is a tag or malformed. */
export function parsePinnedImage(ref: string): PinnedImage | { readonly error: string } {
  const m = PINNED.exec(ref);
  if (m) return { repository: m[1], digest: m[2] };
  const at = ref.indexOf("@");
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const lastSegment = name.slice(name.lastIndexOf("/") + 1);
  if (lastSegment.includes(":")) {
    return { error: `must be pinned by digest (${PINNED_FORM}), not by tag: got "${ref}"` };
  }
  if (at >= 0 && !DIGEST.test(ref.slice(at + 1))) {
    return { error: `has a malformed digest (expected sha256: and 64 lowercase hex digits): got "${ref}"` };
  }
  return { error: `must be pinned by digest (${PINNED_FORM}): got "${ref}"` };
}

/** Narrowing helper for {@link parsePinnedImage}. */
export function isPinned(p: PinnedImage | { readonly error: string }): p is PinnedImage {
  return "digest" in p;
}

/** `repository@digest`. */
export function formatPinnedImage(p: PinnedImage): string {
  return `${p.repository}@${p.digest}`;
}
