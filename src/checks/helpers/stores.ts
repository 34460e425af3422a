// expectPostgres and expectRedis: the data stores, reached the way the application reaches them.
import { pgQuery } from '../../drivers/pg.ts'
import { respCommand, type RespValue } from '../../drivers/resp.ts'
import { ProbeFailure } from '../../probes/probe.ts'
import { redisTlsOptions } from '../../tls/client-trust.ts'
import { note, signalFor } from '../context.ts'
import { failure } from './_fail.ts'

const clip = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s)

/** Hides the password of a connection URL in messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.href
  } catch {
    return '(unparsable url)'
  }
}

/** Options of {@link expectPostgres}. */
export interface ExpectPostgresOptions {
  params?: readonly unknown[]
  /** Predicate on the rows; fails with reason `assertion` when it returns false. */
  rows?: (rows: Record<string, unknown>[]) => boolean | void
  signal?: AbortSignal
}

/**
 * Connects to `url` (needs the `pg` package), runs `sql` and checks the rows; resolves with them.
 *
 * @example
 * check('orders readable', () => expectPostgres(env.DATABASE_URL, 'select count(*)::int as n from orders', { rows: (r) => r[0]?.n >= 0 }))
 */
export async function expectPostgres(url: string | undefined, sql = 'select 1', options: ExpectPostgresOptions = {}): Promise<Record<string, unknown>[]> {
  if (!url) throw new ProbeFailure('assertion', 'expectPostgres() got no URL: is the variable set for this target?')
  const signal = signalFor(options.signal)
  let rows: Record<string, unknown>[]
  try {
    const res = await pgQuery(url, sql, { ...(signal ? { signal } : {}), ...(options.params ? { params: options.params } : {}) })
    rows = res.rows
  } catch (err) {
    const code = (err as { code?: unknown }).code
    // Errors of the RIG_* kind (driver missing) keep their message; SQL errors name the query.
    if (typeof code === 'string' && code.startsWith('RIG_')) throw err
    throw failure(`postgres ${redact(url)} "${clip(sql)}"`, err)
  }
  if (options.rows && options.rows(rows) === false) throw new ProbeFailure('assertion', `postgres "${clip(sql)}": rows did not satisfy the predicate: ${clip(JSON.stringify(rows))}`)
  note(`${rows.length} row(s)`)
  return rows
}

/** Options of {@link expectRedis}. */
export interface ExpectRedisOptions {
  /** A key that must exist. */
  key?: string
  signal?: AbortSignal
}

/** PINGs Redis at `url` (and checks that `key` exists); no client library needed. `rediss://` goes over TLS, verified. */
export async function expectRedis(url: string | undefined, options: ExpectRedisOptions = {}): Promise<void> {
  if (!url) throw new ProbeFailure('assertion', 'expectRedis() got no URL: is the variable set for this target?')
  const u = new URL(url)
  const pre: string[][] = []
  if (u.password) pre.push(u.username ? ['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)] : ['AUTH', decodeURIComponent(u.password)])
  const db = u.pathname.replace(/^\//, '')
  if (db) pre.push(['SELECT', db])
  const where = `redis ${redact(url)}`
  const secure = redisTlsOptions(u)
  const send = async (cmd: string[]): Promise<RespValue> => {
    try {
      return await respCommand(u.hostname || '127.0.0.1', Number(u.port || 6379), [...pre, cmd], signalFor(options.signal), secure)
    } catch (err) {
      throw failure(where, err)
    }
  }
  const pong = await send(['PING'])
  if (pong !== 'PONG') throw new ProbeFailure('assertion', `${where}: PING answered ${JSON.stringify(pong)}`)
  if (options.key !== undefined) {
    const n = await send(['EXISTS', options.key])
    if (n !== 1) throw new ProbeFailure('assertion', `${where}: key "${options.key}" does not exist`)
  }
  note(options.key !== undefined ? `PONG, key "${options.key}" exists` : 'PONG')
}
