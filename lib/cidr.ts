/**
 * IPv4 CIDR arithmetic for the cluster networks: parse, compare and carve blocks, with no
 * dependency, so the config rules and the cluster components share one implementation.
 * @module
 */

/** An IPv4 block as a 32-bit base address and a prefix length. */
export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n`, normalising host bits away; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(addr / size) * size, prefix };
}

/** Do two blocks share any address? */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** The `index`-th block of `newBits` more prefix bits inside `parent`. */
export function subdivide(parent: Cidr, newBits: number, index: number): Cidr {
  const prefix = parent.prefix + newBits;
  if (prefix > 32 || index >= 2 ** newBits)
    throw new RangeError(`cannot take block ${index} of /${prefix} from /${parent.prefix}`);
  return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}

/** `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((s) => Math.floor(c.base / 2 ** s) % 256);
  return `${o.join(".")}/${c.prefix}`;
}
