/**
 * Registry allow-lists: which registries (a host, optionally followed by a path prefix) an
 * environment may pull images from. Shared by the admission policy, the policy pack and the audit.
 */

/** A registry host (with optional port) and optional path prefix: `ghcr.io`, `europe-west1-docker.pkg.dev/acme/ghcr`. */
export const REGISTRY_PREFIX = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/**
 * The registry an image reference is pulled from: its first path segment when that looks like a
 * host (has a dot or a port, or is `localhost`), else Docker Hub, as container runtimes resolve it.
 */
export function registryHost(image: string): string {
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

/**
 * Is `image` under one of the allowed prefixes? A prefix matches whole path segments only, and a
 * short Docker Hub name (`nginx@sha256:...`) matches nothing: the gates want the registry written
 * out. The admission policy's CEL expression applies the same test.
 */
export function isAllowedImage(image: string, allowed: readonly string[]): boolean {
  return allowed.some((prefix) => image.startsWith(`${prefix}/`));
}

/**
 * The environment's allow-list: where its released images are pulled from (the mirror's registry
 * and prefix when the cluster pulls through one, else the image's registry host), plus the extra
 * prefixes from config. Sorted and without duplicates, so rendered policies are stable.
 */
export function allowedRegistries(
  pullReferences: readonly string[],
  extra: readonly string[] = [],
  mirrorRegistry?: string,
): string[] {
  const source = (ref: string) =>
    mirrorRegistry && ref.startsWith(`${mirrorRegistry}/`) ? mirrorRegistry : registryHost(ref);
  return [...new Set([...extra, ...pullReferences.map(source)])].sort();
}
