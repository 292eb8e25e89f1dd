import { pullReferenceFor } from "../../lib/mirrors";

/** A registry mirror: images from `upstream` are pulled from `registry` (host and path prefix) by the same digest. */
export interface RegistryMirror {
  /** Upstream registry host, e.g. `ghcr.io`. */
  readonly upstream: string;
  /** Where this environment pulls them, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr`. */
  readonly registry: string;
}

/**
 * The reference to pull for a released `repo@sha256:<digest>`: the digest never changes, only
 * the registry host (and prefix) of mirrored images does. Images from other registries, and
 * references that are not pinned (refused earlier by validation), are returned unchanged.
 */
export function pullReference(released: string, mirror: RegistryMirror | undefined): string {
  return mirror ? pullReferenceFor(released, { [mirror.upstream]: mirror.registry }) : released;
}

/** Default name of a mirror's repository or prefix: the upstream's first DNS label (`ghcr.io` -> `ghcr`). */
export function mirrorName(upstream: string): string {
  return upstream.split(".")[0].replace(/[^a-z0-9-]/g, "-");
}
