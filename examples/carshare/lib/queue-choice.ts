// Which billing queue the deployment uses, decided where the services are declared
// (rig.config.ts) and by the demo script:
//
//   CARSHARE_QUEUE=redis     Redis lists (needs redis-server)
//   CARSHARE_QUEUE=postgres  the `billing_jobs` table, no Redis at all
//   unset                    Redis when redis-server is installed, else PostgreSQL
//
// Only Node built-ins here: the config and the demo load it before anything is started.
import fs from 'node:fs'
import path from 'node:path'
import type { QueueKind } from './queue.ts'

export interface QueueChoice {
  kind: QueueKind
  /** Why: `CARSHARE_QUEUE=…`, `redis-server found`, or `redis-server not found`. */
  reason: string
}

/**
 * True when `redis-server` is where rig's `redis()` looks for it: `RIG_REDIS_BIN_DIR`, then
 * every PATH entry, then /usr/local/bin and /opt/homebrew/bin.
 */
export function redisServerInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = [env.RIG_REDIS_BIN_DIR, ...(env.PATH ?? '').split(path.delimiter), '/usr/local/bin', '/opt/homebrew/bin']
  return dirs.some((dir) => {
    if (!dir) return false
    const file = path.join(dir, 'redis-server')
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return fs.statSync(file).isFile()
    } catch {
      return false
    }
  })
}

/** Reads `CARSHARE_QUEUE`; throws on a value other than `redis`, `postgres` or empty. */
export function chooseQueue(env: NodeJS.ProcessEnv = process.env): QueueChoice {
  const asked = env.CARSHARE_QUEUE
  if (asked === 'redis' || asked === 'postgres') return { kind: asked, reason: `CARSHARE_QUEUE=${asked}` }
  if (asked !== undefined && asked !== '') throw new Error(`CARSHARE_QUEUE must be "redis" or "postgres" (or unset), not "${asked}"`)
  return redisServerInstalled(env) ? { kind: 'redis', reason: 'redis-server found' } : { kind: 'postgres', reason: 'redis-server not found' }
}
