// Reading a Redis key space: every key matching the watched patterns with its DUMP payload
// and TTL, pipelined (the driver batches commands sent without awaiting each other).
import { BUFFER_REPLIES, type RedisClient } from '../../drivers/redis.ts'
import { matchesAny } from '../patterns.ts'

/** One key as recorded: its serialised value and when it expires. */
export interface KeyState {
  dump: Buffer
  /** Absolute expiry in ms since the epoch; undefined when the key has no TTL. */
  expireAt: number | undefined
}

/** Keys matching `patterns` and not `exclude`. */
export async function scanKeys(client: RedisClient, patterns: readonly string[], exclude: readonly string[]): Promise<string[]> {
  const keys = new Set<string>()
  for (const pattern of patterns) {
    let cursor = '0'
    do {
      const [next, batch] = await client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])
      cursor = String(next)
      for (const k of batch) if (!matchesAny(k, exclude)) keys.add(String(k))
    } while (cursor !== '0')
  }
  return [...keys]
}

/** DUMP and PTTL of `keys`; keys that vanished meanwhile are left out. */
export async function readKeys(client: RedisClient, keys: readonly string[]): Promise<Map<string, KeyState>> {
  const now = Date.now()
  const replies = await Promise.all(
    keys.map((k) => Promise.all([client.sendCommand<Buffer | null>(['DUMP', k], BUFFER_REPLIES), client.sendCommand<number>(['PTTL', k])])),
  )
  const out = new Map<string, KeyState>()
  keys.forEach((k, i) => {
    const [dump, pttl] = replies[i] as [Buffer | null, number]
    if (dump) out.set(k, { dump, expireAt: pttl >= 0 ? now + pttl : undefined })
  })
  return out
}

/** Puts `state` back under `key` with what remains of its TTL; false when it has expired since. */
export function restoreKey(client: RedisClient, key: string, state: KeyState): Promise<unknown> | undefined {
  const ttl = state.expireAt === undefined ? 0 : state.expireAt - Date.now()
  if (state.expireAt !== undefined && ttl <= 0) return undefined
  return client.sendCommand(['RESTORE', key, String(Math.max(0, Math.round(ttl))), state.dump, 'REPLACE'])
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
export function keyGroup(key: string): string {
  const i = key.search(/[:./]/)
  return i > 0 ? `${key.slice(0, i + 1)}*` : key
}
