// Reading a Redis key space: every key matching the watched patterns with its DUMP payload
// and TTL, pipelined (the driver batches commands sent without awaiting each other).
//
// A Redis key is bytes, not text: a key that is not valid UTF-8 must be seen, compared and put
// back exactly. Keys are held as "binary strings" (one char per byte, latin1), which compare
// and key a Map like the bytes themselves, and go back to the server as Buffers.
import { BUFFER_REPLIES, type RedisClient } from '../../drivers/redis.ts'
import { matchesAny } from '../patterns.ts'

/** A key's bytes, one char per byte. */
export type KeyBytes = string

/** One key as recorded: its serialised value and when it expires. */
export interface KeyState {
  dump: Buffer
  /** Absolute expiry in ms since the epoch; undefined when the key has no TTL. */
  expireAt: number | undefined
}

/** The bytes of a key, to send. */
export const keyBuffer = (key: KeyBytes): Buffer => Buffer.from(key, 'latin1')

/**
 * A key as a command argument: ASCII as it is (the same bytes, and the driver sends strings
 * cheaper than Buffers, a measurable share of a check over a few hundred keys), anything else
 * as its bytes.
 */
// eslint-disable-next-line no-control-regex
export const keyArg = (key: KeyBytes): string | Buffer => (/^[\x00-\x7f]*$/.test(key) ? key : keyBuffer(key))

/** A key as received. */
export const keyBytes = (raw: Buffer | string): KeyBytes => (typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw).toString('latin1')

/** A glob over UTF-8 text (what users write) as the bytes it matches. */
const patternBytes = (glob: string): string => Buffer.from(glob, 'utf8').toString('latin1')

/**
 * A key for messages: its text when it is valid UTF-8 (control and format characters as `\u{…}`,
 * a backslash doubled), else ASCII as is with `\xNN` for every other byte.
 */
export function displayKey(key: KeyBytes): string {
  const buf = keyBuffer(key)
  const text = buf.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(buf)) return [...buf].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')
  // Valid text may still hide or reorder what a terminal shows (control, bidi and format characters).
  return /[\p{Cc}\p{Cf}\u2028\u2029\\]/u.test(text) ? text.replace(/[\p{Cc}\p{Cf}\u2028\u2029\\]/gu, (c) => (c === '\\' ? '\\\\' : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`)) : text
}

/** True when rig's matcher reads `glob` as SCAN MATCH does: `*` and `?` only, no `[…]` nor backslash. */
export const plainGlob = (glob: string): boolean => !/[[\]\\]/.test(glob)

/** Those of `keys` that a {@link scanKeys} over `patterns` less `exclude` would list (plain globs only: {@link plainGlob}). */
export function watchedKeys(keys: Iterable<KeyBytes>, patterns: readonly string[], exclude: readonly string[]): KeyBytes[] {
  const take = patterns.map(patternBytes)
  const skip = exclude.map(patternBytes)
  const out: KeyBytes[] = []
  for (const k of keys) if (matchesAny(k, take) && !matchesAny(k, skip)) out.push(k)
  return out
}

/** Keys matching `patterns` and not `exclude` (globs over UTF-8 text, matched byte by byte). */
export async function scanKeys(client: RedisClient, patterns: readonly string[], exclude: readonly string[]): Promise<KeyBytes[]> {
  const keys = new Set<KeyBytes>()
  const skip = exclude.map(patternBytes)
  for (const pattern of patterns) {
    let cursor = '0'
    do {
      const [next, batch] = await client.sendCommand<[Buffer, Buffer[]]>(['SCAN', cursor, 'MATCH', Buffer.from(pattern, 'utf8'), 'COUNT', '1000'], BUFFER_REPLIES)
      cursor = String(next)
      for (const raw of batch) {
        const k = keyBytes(raw)
        if (!matchesAny(k, skip)) keys.add(k)
      }
    } while (cursor !== '0')
  }
  return [...keys]
}

/** DUMP and PTTL of `keys`; keys that vanished meanwhile are left out. */
export async function readKeys(client: RedisClient, keys: readonly KeyBytes[]): Promise<Map<KeyBytes, KeyState>> {
  // A TTL counts from when its reply arrived, not from when the batch was sent: over a large key
  // space the last replies come long after the first, and a TTL compared between two reads
  // (see compareKeys) must not drift by that.
  const replies = await Promise.all(
    keys.map((k) => {
      const key = keyArg(k)
      return Promise.all([client.sendCommand<Buffer | null>(['DUMP', key], BUFFER_REPLIES), client.sendCommand<number>(['PTTL', key]).then((pttl) => (pttl >= 0 ? Date.now() + pttl : undefined))])
    }),
  )
  const out = new Map<KeyBytes, KeyState>()
  keys.forEach((k, i) => {
    const [dump, expireAt] = replies[i] as [Buffer | null, number | undefined]
    if (dump) out.set(k, { dump, expireAt })
  })
  return out
}

/** Puts `state` back under `key` with what remains of its TTL; undefined when it has expired since. */
export function restoreKey(client: RedisClient, key: KeyBytes, state: KeyState): Promise<unknown> | undefined {
  const ttl = state.expireAt === undefined ? 0 : state.expireAt - Date.now()
  if (state.expireAt !== undefined && ttl <= 0) return undefined
  return client.sendCommand(['RESTORE', keyArg(key), String(Math.max(0, Math.round(ttl))), state.dump, 'REPLACE'])
}

/** `rdb_changes_since_last_save`: a server-wide count of writes, the O(1) "did anything change" signal. */
export async function writeCounter(client: RedisClient): Promise<string> {
  const info = await client.sendCommand<string>(['INFO', 'persistence'])
  const m = /rdb_changes_since_last_save:(\d+)/.exec(String(info))
  const saved = /rdb_last_save_time:(\d+)/.exec(String(info))
  // A SAVE resets the counter: include its time so a reset never looks like "no change".
  return `${m?.[1] ?? '?'}@${saved?.[1] ?? '?'}`
}

/** `session:*` for `session:42`: how added keys are grouped in messages. */
export function keyGroup(key: KeyBytes): string {
  const text = displayKey(key)
  const i = text.search(/[:./]/)
  return i > 0 ? `${text.slice(0, i + 1)}*` : text
}
