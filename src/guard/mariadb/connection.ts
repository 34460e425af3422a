// Sessions, names and quoting for the MariaDB/MySQL guard, and telling "the server went away"
// from an error in a statement.
import { createHash } from 'node:crypto'
import { connectMysql, type MysqlConnection, type MysqlResult, resultsOf } from '../../drivers/mysql.ts'

/** Quotes an identifier: `` `name` ``. */
export function ident(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

/** Quotes a string literal (backslashes too: the default SQL mode treats them as escapes). */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

/** The database in a `mysql://` URL (empty when absent). */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''))
}

/** `url` pointing at another database of the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${encodeURIComponent(database)}`
  return u.toString()
}

/** Database names are at most 64 characters: keep long ones unique with a hash. */
export function databaseName(prefix: string, parts: readonly string[]): string {
  const name = `${prefix}_${parts.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_')
  if (name.length <= 64) return name
  return `${name.slice(0, 53)}_${createHash('sha1').update(name).digest('hex').slice(0, 10)}`
}

/**
 * True when `err` means the server or the connection is gone (refused, reset, killed, shutting
 * down, unknown database) rather than a problem with a statement.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; fatal?: unknown } | null
  if (e?.fatal === true) return true
  if (typeof e?.code === 'string' && (/^E[A-Z]+$/.test(e.code) || e.code === 'PROTOCOL_CONNECTION_LOST')) return true
  // 1049 unknown database, 1053 shutdown in progress, 1927 connection killed, 2006/2013 server gone.
  return typeof e?.errno === 'number' && [1049, 1053, 1927, 2006, 2013].includes(e.errno)
}

/** The server error number of a driver error, if any. */
export function errnoOf(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | null)?.errno
  return typeof n === 'number' ? n : undefined
}

/**
 * A session for the guard: several statements per round trip, every statement sees the last
 * commit (READ COMMITTED), and lock waits are short so a lock a test holds surfaces fast.
 */
export async function openGuardSession(url: string, lockTimeoutS = 2): Promise<MysqlConnection> {
  const conn = await connectMysql(url, { timeoutMs: 5000, multipleStatements: true })
  await conn.query(
    `SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET SESSION innodb_lock_wait_timeout = ${lockTimeoutS}; ` +
      `SET SESSION lock_wait_timeout = ${lockTimeoutS}; SET SESSION foreign_key_checks = 0; SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'`,
  )
  return conn
}

/** Runs a multi-statement query and returns every result. */
export async function many<R = Record<string, unknown>>(conn: MysqlConnection, sql: string): Promise<MysqlResult<R>[]> {
  const [res] = await conn.query<R>(sql)
  return resultsOf(res)
}

/** Rows of one statement. */
export async function rows<R = Record<string, unknown>>(conn: MysqlConnection, sql: string, values?: readonly unknown[]): Promise<R[]> {
  const [res] = await conn.query<R>(sql, values)
  const all = resultsOf(res)
  const last = all.findLast((r): r is R[] => Array.isArray(r))
  return last ?? []
}
