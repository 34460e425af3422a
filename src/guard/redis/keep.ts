// keepOnFailure for Redis: the keys a failed test added or changed are copied, as the test left
// them and without a TTL, under `rig:kept:<n>:<key>`, a prefix the guard never watches, before
// the restore puts the database back. The next run's start deletes them.
import { BUFFER_REPLIES, type RedisClient } from '../../drivers/redis.ts'
import type { KeepOptions, KeptData } from '../adapter.ts'
import { keyArg, type KeyBytes, scanKeys } from './key-space.ts'

/** Everything kept, and the counter that numbers the sets. */
export const KEPT_PATTERN = 'rig:kept:*'
const COUNTER = 'rig:kept:next'

/** Copies `keys` under the next `rig:kept:<n>:`, unless `max` sets are kept already. */
export async function keepKeys(client: RedisClient, keys: readonly KeyBytes[], options: KeepOptions): Promise<KeptData> {
  const dumps = await Promise.all(keys.map((k) => client.sendCommand<Buffer | null>(['DUMP', keyArg(k)], BUFFER_REPLIES)))
  if (!dumps.some(Boolean)) return { note: 'no key to keep (the test only removed keys)' }
  const n = Number(await client.sendCommand<number>(['INCR', COUNTER]))
  if (n > options.max) return { note: `not kept: ${options.max} failed tests' data kept already in this run (keepOnFailure.max)` }
  const prefix = `rig:kept:${n}:`
  const sends: Promise<unknown>[] = [client.sendCommand(['SET', `${prefix}test`, options.label])]
  keys.forEach((k, i) => {
    const dump = dumps[i]
    if (dump) sends.push(client.sendCommand(['RESTORE', Buffer.concat([Buffer.from(prefix), Buffer.from(k, 'latin1')]), '0', dump, 'REPLACE']))
  })
  await Promise.all(sends)
  const copied = sends.length - 1
  return { where: `keys ${prefix}* (${copied} key${copied === 1 ? '' : 's'}, the test's name in ${prefix}test)` }
}

/** Deletes every kept key and the counter; returns how many sets there were. */
export async function dropKeptKeys(client: RedisClient): Promise<number> {
  const keys = await scanKeys(client, [KEPT_PATTERN], [])
  const sets = new Set(keys.map((k) => /^rig:kept:(\d+):/.exec(k)?.[1]).filter(Boolean)).size
  for (let i = 0; i < keys.length; i += 500) await client.sendCommand(['UNLINK', ...keys.slice(i, i + 500).map(keyArg)])
  return sets
}
