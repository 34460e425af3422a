// Connections and URLs for the PostgreSQL guard: the guard's own session, the maintenance
// session used for CREATE/DROP DATABASE, connecting on a loaded machine (attempts that time out
// are tried again, longer), and telling "the server went away" from a SQL error.
import { connectPg, type PgClient } from '../../drivers/pg.ts'
import { connectWaitMs } from '../connect-wait.ts'

/** The database name in a `postgres://` URL (`postgres` when absent). */
export function databaseOf(url: string): string {
  const u = new URL(url)
  return decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres'
}

/** `url` pointing at another database of the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(database)}`
  return u.toString()
}

/** The URL without password or query, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    u.search = ''
    return u.toString()
  } catch {
    return url
  }
}

/**
 * The database to run CREATE/DROP DATABASE from: never the one being replaced. `template1` is
 * only used when the target is `postgres`, because a session on template1 blocks plain
 * CREATE DATABASE elsewhere.
 */
export function maintenanceUrl(url: string): string {
  return withDatabase(url, databaseOf(url) === 'postgres' ? 'template1' : 'postgres')
}

/** Quotes an identifier the way `quote_ident` does when it must. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Quotes a string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** SQLSTATE of a driver error, if any. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/**
 * True when `err` means the server or the connection is gone (refused, reset, terminated,
 * shutting down) rather than a problem with a statement.
 */
export function isConnectionError(err: unknown): boolean {
  const state = sqlState(err)
  // 08P01 (protocol violation) is a bug of the caller, not a lost connection.
  if (state) return (state.startsWith('08') && state !== '08P01') || state === '57P01' || state === '57P02' || state === '57P03' || state === '3D000'
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true
  const msg = err instanceof Error ? err.message : String(err)
  return /connection (terminated|refused|ended)|Client has encountered a connection error|not queryable|ECONNREFUSED|ECONNRESET|timeout expired/i.test(msg)
}

/** The first attempt's timeout; each further one waits twice as long, within the whole wait. */
const FIRST_ATTEMPT_MS = 5_000
/** Refused (or "starting up") this long: the server is not coming, whatever the wait allows. */
const REFUSED_WAIT_MS = 3_000

export { connectWaitMs, DEFAULT_CONNECT_WAIT_MS } from '../connect-wait.ts'

/** Options of {@link connectGuard}. */
export interface ConnectOptions {
  /** The whole wait, all attempts together (ms). */
  waitMs?: number
  /** The first attempt's timeout (ms); each further one waits twice as long. */
  firstAttemptMs?: number
  /** How long a server that refuses connections is tried (ms); 0: give up at the first refusal. */
  refusedMs?: number
  /** Told of every failed attempt that is tried again. */
  onRetry?: (attempt: number, err: unknown) => void
}

/** The guard could not connect within its wait: names the database, the wait and what to do. */
export class GuardConnectError extends Error {
  readonly code = 'RIG_GUARD_CONNECT_FAILED'
  /** Attempts made. */
  readonly attempts: number
  /** The server refused connections (not running, starting up): waiting longer does not help. */
  readonly refused: boolean
  constructor(message: string, attempts: number, cause: unknown, refused = false) {
    super(message, { cause })
    this.name = 'GuardConnectError'
    this.attempts = attempts
    this.refused = refused
  }
}

type Failure = 'timeout' | 'refused' | 'busy' | 'fatal'

function failure(err: unknown): Failure {
  const state = sqlState(err)
  // 57P03: starting up or shutting down; 53300: too many connections (other workers connecting).
  if (state === '57P03') return 'refused'
  if (state === '53300') return 'busy'
  if (state) return 'fatal'
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return 'refused'
  const msg = err instanceof Error ? err.message : String(err)
  if (/timeout expired|timed out|Connection terminated/i.test(msg) || code === 'ETIMEDOUT') return 'timeout'
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'busy'
  return 'fatal'
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/**
 * Connects to `url` for the guard, retrying what a loaded machine causes: an attempt that times
 * out (each one waits twice as long as the one before, within `waitMs`), a server out of
 * connection slots, a reset. A server that refuses connections (not listening, starting up) is
 * tried for a few seconds only: a server that is not there does not come by waiting. Anything
 * else (a wrong password, a missing database) fails at once.
 */
export async function connectGuard(url: string, options: ConnectOptions = {}): Promise<PgClient> {
  const waitMs = options.waitMs ?? connectWaitMs()
  const deadline = performance.now() + waitMs
  let attemptMs = Math.min(options.firstAttemptMs ?? FIRST_ATTEMPT_MS, waitMs)
  let refusedSince: number | undefined
  for (let attempt = 1; ; attempt++) {
    const timeoutMs = Math.max(1, Math.min(attemptMs, deadline - performance.now()))
    try {
      return await connectPg(url, { timeoutMs })
    } catch (err) {
      const kind = failure(err)
      const now = performance.now()
      if (kind === 'refused') refusedSince ??= now
      else refusedSince = undefined
      const left = deadline - now
      const refusedTooLong = refusedSince !== undefined && now - refusedSince >= Math.min(options.refusedMs ?? REFUSED_WAIT_MS, waitMs)
      if (kind === 'fatal' || left <= 0 || refusedTooLong) throw connectError(url, err, kind, attempt, waitMs, refusedSince === undefined ? 0 : now - refusedSince)
      options.onRetry?.(attempt, err)
      if (kind === 'timeout') attemptMs *= 2
      else await new Promise((r) => setTimeout(r, Math.min(kind === 'refused' ? 100 : 250, left)))
    }
  }
}

function connectError(url: string, err: unknown, kind: Failure, attempts: number, waitMs: number, refusedMs: number): GuardConnectError {
  const db = `database "${databaseOf(url)}" at ${redactUrl(url)}`
  const why = err instanceof Error ? err.message : String(err)
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`
  if (kind === 'fatal') return new GuardConnectError(`could not connect to ${db}: ${why}`, attempts, err)
  if (kind === 'refused') {
    return new GuardConnectError(
      `could not connect to ${db}: refused for ${seconds(refusedMs)} (${tries}: ${why}). ` +
        'The server is not running or not accepting connections: `rig env status` says whether it is up, its log why not.',
      attempts,
      err,
      true,
    )
  }
  return new GuardConnectError(
    `could not connect to ${db} within ${seconds(waitMs)} (${tries}, the last: ${why}). ` +
      'The machine is probably overloaded (or the server frozen): run fewer workers, or wait longer with the store option `connectTimeoutMs` or RIG_GUARD_CONNECT_TIMEOUT_MS (ms).',
    attempts,
    err,
  )
}

/** Opens a session for the guard: short lock waits, so a lock held by a test surfaces fast. */
export async function openGuardSession(url: string, lockTimeoutMs: number, connect: ConnectOptions = {}): Promise<PgClient> {
  const client = await connectGuard(url, connect)
  // Parallel workers cost more to start than the guard's small scans; a generic plan keeps the
  // prepared check from being re-planned for every new horizon. pg_walinspect reads flushed WAL
  // only: the guard's own commits flush (rig's servers commit asynchronously by default).
  try {
    await client.query(
      `set application_name = 'rig-guard'; set lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; ` +
        `set max_parallel_workers_per_gather = 0; set plan_cache_mode = force_generic_plan; set synchronous_commit = on`,
    )
  } catch (err) {
    // A refused setting leaves nobody to close the connection: it would stay open for the run.
    await client.end().catch(() => {})
    throw err
  }
  return client
}

/**
 * True when the server is PGlite (PostgreSQL compiled to WASM, rig's embedded fallback or the
 * application's own PGlite socket server): one session serves every connection, so a setting
 * the guard makes for its session is the application's too. Read from `version()`, since the
 * URL alone does not say it: an application's own PGlite server is an `external()` store, and a
 * store may be handed over without its provider.
 */
export async function servesOneSession(client: PgClient): Promise<boolean> {
  const res = await client.query<{ one: boolean }>(`select version() like '%PGlite%' or version() like '%emscripten%' as one`)
  return res.rows[0]?.one === true
}

/** Runs `fn` with a short-lived maintenance session. */
export async function withMaintenance<T>(url: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await connectGuard(maintenanceUrl(url))
  try {
    await client.query(`set application_name = 'rig-guard'`)
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}
