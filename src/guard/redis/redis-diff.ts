// Compares a Redis key space with its baseline and says it the way the leak message reads:
// the keys themselves (the first few, then a count), and for added keys which never expire and
// when each of the others does, since a 30 s lock and a key that stays forever are not the same
// kind of leak.
import type { Change } from '../adapter.ts'
import { displayKey, keyGroup, type KeyBytes, type KeyState } from './key-space.ts'

/** What restore needs to undo. */
export interface RedisInternal {
  added: KeyBytes[]
  /** Removed or changed keys, to put back. */
  restore: KeyBytes[]
}

/** Keys named in a message per group before "and N more". */
export const KEYS_SHOWN = 3
/** Longest key shown whole; longer ones keep their start and end around `…`. */
export const KEY_CHARS = 60

const keys = (n: number): string => `${n} key${n === 1 ? '' : 's'}`

function groups(list: readonly KeyBytes[]): string {
  const g = [...new Set(list.map(keyGroup))]
  return g.length > 3 ? `${g.slice(0, 3).join(', ')}, …` : g.join(', ')
}

/** A key as a message shows it: escaped (see {@link displayKey}) and cut to {@link KEY_CHARS}. */
export function shortKey(key: KeyBytes): string {
  const text = [...displayKey(key)]
  if (text.length <= KEY_CHARS) return text.join('')
  const tail = Math.floor(KEY_CHARS / 4)
  return `${text.slice(0, KEY_CHARS - tail - 1).join('')}…${text.slice(-tail).join('')}`
}

/** A remaining time to live: `350 ms`, `28 s`, `12 min`, `3 h`, `2 d`. */
export function formatTtl(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} d`
}

const byName = new Intl.Collator('en', { numeric: true })

/** The first {@link KEYS_SHOWN} of `items`, then `and N more`. */
function named(items: readonly string[]): string {
  const shown = items.slice(0, KEYS_SHOWN).join(', ')
  return items.length > KEYS_SHOWN ? `${shown} and ${items.length - KEYS_SHOWN} more` : shown
}

/** Keys by name, numbers in order (`job:2` before `job:10`), for stable messages. */
function sorted(list: readonly KeyBytes[]): Array<{ key: KeyBytes; text: string }> {
  return list.map((key) => ({ key, text: shortKey(key) })).sort((a, b) => byName.compare(a.text, b.text))
}

/**
 * `3 keys added: 1 without TTL (session:2), 2 with a TTL (session:1 28 s, session:3 60 s)`;
 * keys with a TTL soonest first.
 */
function addedText(added: readonly KeyBytes[], now: ReadonlyMap<KeyBytes, KeyState>, time: number): string {
  const all = sorted(added)
  const forever = all.filter((k) => now.get(k.key)?.expireAt === undefined).map((k) => k.text)
  const expiring = all
    .flatMap((k) => {
      const at = now.get(k.key)?.expireAt
      return at === undefined ? [] : [{ text: k.text, ttl: at - time }]
    })
    .sort((a, b) => a.ttl - b.ttl)
    .map((k) => `${k.text} ${formatTtl(k.ttl)}`)
  if (expiring.length === 0) return `${keys(added.length)} added without TTL: ${named(forever)}`
  if (forever.length === 0) return `${keys(added.length)} added with a TTL: ${named(expiring)}`
  return `${keys(added.length)} added: ${forever.length} without TTL (${named(forever)}), ${expiring.length} with a TTL (${named(expiring)})`
}

/** How far two reads of one expiry may differ and still be the same TTL (each is the reply's arrival time plus PTTL). */
export const TTL_SLACK_MS = 1000

/** A TTL given, removed, or moved by more than {@link TTL_SLACK_MS} (EXPIRE, PERSIST, SET without KEEPTTL on the same value). */
function ttlMoved(b: KeyState, v: KeyState): boolean {
  if (b.expireAt === undefined || v.expireAt === undefined) return b.expireAt !== v.expireAt
  return Math.abs(b.expireAt - v.expireAt) > TTL_SLACK_MS
}

/** The changes between `base` and `now`. Keys whose baseline TTL ran out are not blamed. */
export function compareKeys(base: ReadonlyMap<KeyBytes, KeyState>, now: ReadonlyMap<KeyBytes, KeyState>): { changes: Change[]; internal: RedisInternal } {
  const added: KeyBytes[] = []
  const removed: KeyBytes[] = []
  const changed: KeyBytes[] = []
  const time = Date.now()
  for (const [k, v] of now) {
    const b = base.get(k)
    if (!b) added.push(k)
    else if (!b.dump.equals(v.dump) || ttlMoved(b, v)) changed.push(k)
  }
  for (const [k, b] of base) if (!now.has(k) && !(b.expireAt !== undefined && b.expireAt <= time)) removed.push(k)
  const changes: Change[] = []
  const list = (l: readonly KeyBytes[]): string => named(sorted(l).map((k) => k.text))
  if (added.length > 0) changes.push({ subject: groups(added), kind: 'added', count: added.length, leak: true, text: addedText(added, now, time) })
  if (removed.length > 0) changes.push({ subject: groups(removed), kind: 'removed', count: removed.length, leak: true, text: `${keys(removed.length)} removed: ${list(removed)}` })
  if (changed.length > 0) changes.push({ subject: groups(changed), kind: 'changed', count: changed.length, leak: true, text: `${keys(changed.length)} changed: ${list(changed)}` })
  return { changes, internal: { added, restore: [...removed, ...changed] } }
}
