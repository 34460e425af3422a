// IPv4 ranges: the pool `hostNetwork` names, the /24 one environment takes from it, and the
// check that it overlaps no address or route the machine already has.

/** An IPv4 range. */
export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number
  prefix: number
}

/** The default pool; each environment takes one /24 from it. */
export const DEFAULT_HOST_NETWORK = '10.213.0.0/16'

/** Parses `a.b.c.d/n`; undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim())
  if (!m) return undefined
  const octets = m.slice(1, 5).map(Number)
  const prefix = m[5] === undefined ? 32 : Number(m[5])
  if (octets.some((o) => o > 255) || prefix > 32) return undefined
  const addr = octets.reduce((a, o) => a * 256 + o, 0)
  return { base: mask(addr, prefix), prefix }
}

function mask(addr: number, prefix: number): number {
  return prefix === 0 ? 0 : (addr & (0xffffffff << (32 - prefix))) >>> 0
}

/** Dotted form of a 32-bit address. */
export function dotted(addr: number): string {
  return [24, 16, 8, 0].map((s) => (addr >>> s) & 255).join('.')
}

/** `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
  return `${dotted(c.base)}/${c.prefix}`
}

/** True when the two ranges share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix)
  return mask(a.base, p) === mask(b.base, p)
}

/** The /24 ranges of `pool`, starting at a place that depends on `seed` (so parallel starts rarely try the same one first). */
export function slash24s(pool: Cidr, seed: number): Cidr[] {
  const count = 2 ** (24 - pool.prefix)
  const out: Cidr[] = []
  for (let i = 0; i < count; i++) out.push({ base: (pool.base + ((seed + i) % count) * 256) >>> 0, prefix: 24 })
  return out
}
