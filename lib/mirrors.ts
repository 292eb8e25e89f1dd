import { isPinned, parsePinnedImage } from "./images";

/**
 * The reference a cluster pulls for a released `repo@sha256:<digest>`, given its mirrors (upstream
 * registry host -> mirror registry and prefix): the digest never changes, only the registry host
 * (and prefix) of mirrored images does. Images from other registries, and references that are not
 * pinned (refused earlier by validation), are returned unchanged.
 */
export function pullReferenceFor(released: string, mirrors: Readonly<Record<string, string>>): string {
  const parsed = parsePinnedImage(released);
  if (!isPinned(parsed)) return released;
  const slash = released.indexOf("/");
  if (slash < 0 || !Object.hasOwn(mirrors, released.slice(0, slash))) return released;
  return `${mirrors[released.slice(0, slash)]}/${released.slice(slash + 1)}`;
}
