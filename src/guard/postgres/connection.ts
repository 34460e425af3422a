// Connections and URLs for the PostgreSQL guard: the guard's own session, the maintenance
// session used for CREATE/DROP DATABASE, and telling "the server went away" from a SQL error.
import { connectPg, type PgClient } from '../../drivers/pg.ts'

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

/** Opens a session for the guard: short lock waits, so a lock held by a test surfaces fast. */
export async function openGuardSession(url: string, lockTimeoutMs: number): Promise<PgClient> {
  const client = await connectPg(url, { timeoutMs: 5000 })
  // Parallel workers cost more to start than the guard's small scans; a generic plan keeps the
  // prepared check from being re-planned for every new horizon. pg_walinspect reads flushed WAL
  // only: the guard's own commits flush (rig's servers commit asynchronously by default).
  await client.query(
    `set application_name = 'rig-guard'; set lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; ` +
      `set max_parallel_workers_per_gather = 0; set plan_cache_mode = force_generic_plan; set synchronous_commit = on`,
  )
  return client
}

/** Runs `fn` with a short-lived maintenance session. */
export async function withMaintenance<T>(url: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await connectPg(maintenanceUrl(url), { timeoutMs: 5000 })
  try {
    await client.query(`set application_name = 'rig-guard'`)
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}
