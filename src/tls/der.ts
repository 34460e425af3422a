// The few DER encodings an X.509 certificate needs (X.690). Only writing: certificates are read
// back by node:crypto's X509Certificate (OpenSSL), never by this file.

/** A tag with its content, length encoded in the shortest form. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length
  let len: number[]
  if (n < 0x80) len = [n]
  else if (n < 0x100) len = [0x81, n]
  else if (n < 0x10000) len = [0x82, n >> 8, n & 0xff]
  else len = [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]
  return Buffer.concat([Buffer.from([tag, ...len]), content])
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(0x30, Buffer.concat(items))
export const set = (...items: Uint8Array[]): Buffer => tlv(0x31, Buffer.concat(items))
export const octets = (b: Uint8Array): Buffer => tlv(0x04, b)
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'))
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]))
/** Context-specific tag `n`: constructed (explicit wrappers, sequences) or primitive (a name's bytes). */
export const ctx = (n: number, content: Uint8Array, constructed = true): Buffer => tlv((constructed ? 0xa0 : 0x80) | n, content)

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
export function uint(bytes: Uint8Array): Buffer {
  let b = Buffer.from(bytes)
  while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.subarray(1)
  if (((b[0] as number) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b])
  return tlv(0x02, b)
}

/** A small INTEGER (0–127): versions, path lengths. */
export const small = (n: number): Buffer => tlv(0x02, Buffer.from([n & 0x7f]))

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number)
  const out = [40 * (parts[0] as number) + (parts[1] as number)]
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f]
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

/** A BIT STRING with no unused bits. */
export const bits = (b: Uint8Array): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]))

/** The named bits of a KeyUsage-style BIT STRING (bit 0 is the most significant), trailing zeros dropped. */
export function namedBits(...set: number[]): Buffer {
  const max = Math.max(...set)
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1)
  for (const i of set) bytes[i >> 3] = (bytes[i >> 3] as number) | (0x80 >> (i & 7))
  return tlv(0x03, Buffer.concat([Buffer.from([7 - (max & 7)]), bytes]))
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`))
}
