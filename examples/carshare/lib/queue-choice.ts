// Which billing queue the deployment uses, decided where the services are declared
// (rig.config.ts) and by the demo script:
//
//   CARSHARE_QUEUE=rabbitmq  rental events on RabbitMQ (needs rabbitmq-server)
//   CARSHARE_QUEUE=redis     Redis lists (needs redis-server)
//   CARSHARE_QUEUE=postgres  the `billing_jobs` table, no broker at all
//   unset                    RabbitMQ when rabbitmq-server is installed, else Redis when
//                            redis-server is, else PostgreSQL
//
// Only Node built-ins here: the config and the demo load it before anything is started.
import fs from 'node:fs'
import path from 'node:path'
import type { QueueKind } from './queue.ts'

export interface QueueChoice {
  kind: QueueKind
  /** Why: `CARSHARE_QUEUE=…`, `rabbitmq-server found`, `redis-server found`, or `neither …`. */
  reason: string
}

const executable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** Every PATH entry, after `envDir`, then `extra`. */
const searchDirs = (env: NodeJS.ProcessEnv, envDir: string | undefined, extra: string[]): string[] => [envDir ?? '', ...(env.PATH ?? '').split(path.delimiter), ...extra].filter(Boolean)

/**
 * True when `redis-server` is where rig's `redis()` looks for it: `RIG_REDIS_BIN_DIR`, then
 * every PATH entry, then /usr/local/bin and /opt/homebrew/bin.
 */
export function redisServerInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  return searchDirs(env, env.RIG_REDIS_BIN_DIR, ['/usr/local/bin', '/opt/homebrew/bin']).some((dir) => executable(path.join(dir, 'redis-server')))
}

/**
 * True when `rabbitmq-server` is where rig's `rabbitmq()` looks for it: `RIG_RABBITMQ_BIN_DIR`,
 * PATH, then the usual install dirs (Debian's versioned one included).
 */
export function rabbitmqServerInstalled(env: NodeJS.ProcessEnv = process.env): boolean {
  let debian: string[] = []
  try {
    debian = fs.readdirSync('/usr/lib/rabbitmq/lib').filter((d) => d.startsWith('rabbitmq_server-')).map((d) => path.join('/usr/lib/rabbitmq/lib', d, 'sbin'))
  } catch {
    // not a Debian package
  }
  const dirs = searchDirs(env, env.RIG_RABBITMQ_BIN_DIR, [...debian, '/usr/local/opt/rabbitmq/sbin', '/opt/homebrew/opt/rabbitmq/sbin', '/opt/rabbitmq/sbin'])
  return dirs.some((dir) => executable(path.join(dir, 'rabbitmq-server')))
}

/** Reads `CARSHARE_QUEUE`; throws on a value other than `rabbitmq`, `redis`, `postgres` or empty. */
export function chooseQueue(env: NodeJS.ProcessEnv = process.env): QueueChoice {
  const asked = env.CARSHARE_QUEUE
  if (asked === 'rabbitmq' || asked === 'redis' || asked === 'postgres') return { kind: asked, reason: `CARSHARE_QUEUE=${asked}` }
  if (asked !== undefined && asked !== '') throw new Error(`CARSHARE_QUEUE must be "rabbitmq", "redis" or "postgres" (or unset), not "${asked}"`)
  if (rabbitmqServerInstalled(env)) return { kind: 'rabbitmq', reason: 'rabbitmq-server found' }
  return redisServerInstalled(env) ? { kind: 'redis', reason: 'redis-server found' } : { kind: 'postgres', reason: 'neither rabbitmq-server nor redis-server found' }
}

/**
 * True when the legacy fleet system can run: a MariaDB server is where rig's `mariadb()` looks
 * (`RIG_MARIADB_BIN_DIR`, PATH, /usr/sbin, …), and `CARSHARE_LEGACY` is not `off`.
 */
export function legacyFleetAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CARSHARE_LEGACY === 'off') return false
  const dirs = searchDirs(env, env.RIG_MARIADB_BIN_DIR, ['/usr/sbin', '/usr/local/mysql/bin', '/usr/local/bin', '/opt/homebrew/bin', '/opt/homebrew/opt/mariadb/bin'])
  return dirs.some((dir) => executable(path.join(dir, 'mariadbd')))
}
