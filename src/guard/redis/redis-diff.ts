// Compares a Redis key space with its baseline and says it the way the leak message reads.
import type { Change } from '../adapter.ts'
import { keyGroup, type KeyBytes, type KeyState } from './key-space.ts'

/** What restore needs to undo. */
export interface RedisInternal {
  added: KeyBytes[]
  /** Removed or changed keys, to put back. */
  restore: KeyBytes[]
}

const keys = (n: number): string => `${n} key${n === 1 ? '' : 's'}`

function groups(list: readonly KeyBytes[]): string {
  const g = [...new Set(list.map(keyGroup))]
  return g.length > 3 ? `${g.slice(0, 3).join(', ')}, …` : g.join(', ')
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
    else if (!b.dump.equals(v.dump)) changed.push(k)
  }
  for (const [k, b] of base) if (!now.has(k) && !(b.expireAt !== undefined && b.expireAt <= time)) removed.push(k)
  const noTtl = added.filter((k) => now.get(k)?.expireAt === undefined)
  const changes: Change[] = []
  if (added.length > 0) changes.push({ subject: groups(added), kind: 'added', count: added.length, leak: true, text: `${keys(added.length)} added (${groups(added)})` })
  if (removed.length > 0) changes.push({ subject: groups(removed), kind: 'removed', count: removed.length, leak: true, text: `${keys(removed.length)} removed (${groups(removed)})` })
  if (changed.length > 0) changes.push({ subject: groups(changed), kind: 'changed', count: changed.length, leak: true, text: `${keys(changed.length)} changed (${groups(changed)})` })
  if (noTtl.length > 0) changes.push({ subject: groups(noTtl), kind: 'no-ttl', count: noTtl.length, leak: true, text: `${keys(noTtl.length)} without TTL` })
  return { changes, internal: { added, restore: [...removed, ...changed] } }
}
