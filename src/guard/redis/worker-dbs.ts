// Per-worker Redis key spaces: one logical database (SELECT n) per worker when the server has
// enough, else a key prefix per worker in the same database. Each copy starts with the
// baseline keys (COPY, server-side) and carries a marker key saying whose it is, for the sweep.
import os from 'node:os'
import { connectRedis, type RedisClient } from '../../drivers/redis.ts'
import type { StoreInfo, WorkerClone, WorkerCloner } from '../adapter.ts'
import { assertMayClean } from '../safety.ts'
import { keyArg, scanKeys } from './key-space.ts'

/** Key holding the owner of a worker database; the guard never watches it. */
export const WORKER_MARKER = '__rig_worker__'

interface Marker {
  runId: string
  pid: number
  host: string
  createdAt: string
}

/** Options of {@link redisWorkers}. */
export interface RedisWorkerOptions {
  /**
   * `db`: a logical database per worker (URL `redis://host:port/N`); `prefix`: keys prefixed
   * `rig:wN:` in the same database (exported as `RIG_<STORE>_PREFIX`); `auto`: `db` when enough exist.
   * @default 'auto'
   */
  mode?: 'auto' | 'db' | 'prefix'
  /** The CA file a `rediss://` server's certificate is verified against (besides rig's CAs). */
  ca?: string
}

function dbOf(url: string): number {
  return Number(new URL(url).pathname.replace(/^\//, '') || 0)
}

function withDb(url: string, db: number): string {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

const gone = (m: Marker): boolean => {
  if (m.host !== os.hostname()) return false
  try {
    process.kill(m.pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

async function withClient<T>(url: string, fn: (c: RedisClient) => Promise<T>, ca?: string): Promise<T> {
  const c = await connectRedis(url, ca ? { ca } : {})
  try {
    return await fn(c)
  } finally {
    c.destroy()
  }
}

/**
 * Clones the Redis database at `url` for parallel workers. `info` says whose it is: every
 * clone, drop and sweep goes through the guard's safety gate first.
 */
export function redisWorkers(info: StoreInfo, url: string, options: RedisWorkerOptions = {}): WorkerCloner {
  const store = info.name
  const source = dbOf(url)
  const targets = async (c: RedisClient): Promise<number[]> => {
    const reply = await c.sendCommand<string[]>(['CONFIG', 'GET', 'databases'])
    const n = Number(reply[1] ?? 16)
    return Array.from({ length: n }, (_, i) => i).filter((i) => i !== source)
  }
  const marker = (runId: string): string => JSON.stringify({ runId, pid: process.pid, host: os.hostname(), createdAt: new Date().toISOString() } satisfies Marker)
  const readMarker = async (c: RedisClient, db: number): Promise<Marker | undefined> => {
    await c.sendCommand(['SELECT', String(db)])
    const raw = await c.sendCommand<string | null>(['GET', WORKER_MARKER])
    try {
      return raw ? (JSON.parse(raw) as Marker) : undefined
    } catch {
      return undefined
    }
  }
  return {
    prepare: async (count, runId) => {
      assertMayClean(info, {}, 'clone')
      return withClient(url, async (c) => {
        const keys = (await scanKeys(c, ['*'], [WORKER_MARKER])).filter((k) => !k.startsWith('rig:w'))
        const free: number[] = []
        for (const db of await targets(c)) {
          if (free.length === count) break
          if ((await readMarker(c, db)) === undefined && Number(await c.sendCommand(['DBSIZE'])) === 0) free.push(db)
        }
        await c.sendCommand(['SELECT', String(source)])
        const useDb = options.mode === 'db' || (options.mode !== 'prefix' && free.length >= count)
        if (options.mode === 'db' && free.length < count) throw new Error(`redis "${store}": ${count} workers need ${count} empty databases besides ${source}; only ${free.length} are free (raise \`databases\` or use mode 'prefix')`)
        const clones: WorkerClone[] = []
        for (let w = 1; w <= count; w++) {
          if (useDb) {
            const db = free[w - 1] as number
            await Promise.all(keys.map((k) => c.sendCommand(['COPY', keyArg(k), keyArg(k), 'DB', String(db), 'REPLACE'])))
            await c.sendCommand(['SELECT', String(db)])
            await c.sendCommand(['SET', WORKER_MARKER, marker(runId)])
            await c.sendCommand(['SELECT', String(source)])
            clones.push({ worker: w, store, url: withDb(url, db), env: {} })
          } else {
            const prefix = `rig:w${w}:${runId}:`
            await Promise.all([...keys.map((k) => c.sendCommand(['COPY', keyArg(k), keyArg(`${prefix}${k}`), 'REPLACE'])), c.sendCommand(['SET', `${prefix}${WORKER_MARKER}`, marker(runId)])])
            clones.push({ worker: w, store, url, env: { PREFIX: prefix } })
          }
        }
        return clones
      }, options.ca)
    },
    drop: (runId) => sweep(url, (m) => m.runId === runId),
    sweep: ({ maxAgeMs = 24 * 3600_000 } = {}) => sweep(url, (m) => gone(m) || Date.now() - Date.parse(m.createdAt) > maxAgeMs),
  }

  async function sweep(u: string, stale: (m: Marker) => boolean): Promise<number> {
    assertMayClean(info, {}, 'drop worker copies on')
    return withClient(u, async (c) => {
      let n = 0
      for (const db of await targets(c)) {
        const m = await readMarker(c, db)
        if (m && stale(m)) {
          await c.sendCommand(['FLUSHDB'])
          n++
        }
      }
      await c.sendCommand(['SELECT', String(source)])
      for (const k of await scanKeys(c, [`rig:w*:${WORKER_MARKER}`], [])) {
        const prefix = k.slice(0, -WORKER_MARKER.length)
        // rig writes `rig:w<n>:<run>:`: anything else is not one of its markers.
        if (!/^rig:w\d+:[\w-]+:$/.test(prefix)) continue
        const raw = await c.sendCommand<string | null>(['GET', keyArg(k)])
        let m: Marker | undefined
        try {
          m = raw ? (JSON.parse(raw) as Marker) : undefined
        } catch {
          continue
        }
        if (!m || !stale(m)) continue
        const doomed = await scanKeys(c, [`${prefix}*`], [])
        if (doomed.length > 0) await c.sendCommand(['UNLINK', ...doomed.map(keyArg)])
        n++
      }
      return n
    }, options.ca)
  }
}
