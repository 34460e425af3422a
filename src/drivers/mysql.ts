// The subset of `mysql2` (its promise API) rig calls for MariaDB and MySQL; rig never imports the
// driver's own types, so the package stays an optional peer loaded on first use.
import { MissingDriverError } from '../errors.ts'
import { loadDriver } from './load-driver.ts'

/** What a statement that returns no rows answers. */
export interface MysqlOk {
  affectedRows: number
  insertId: number
}

/** One result of a query: rows for a SELECT, an OK packet otherwise. */
export type MysqlResult<R> = R[] | MysqlOk

/** A connected session. */
export interface MysqlConnection {
  /** Runs `sql` (several statements when the connection allows them: one result per statement). */
  query<R = Record<string, unknown>>(sql: string, values?: readonly unknown[]): Promise<[MysqlResult<R> | MysqlResult<R>[], unknown]>
  end(): Promise<void>
  /** Closes the socket at once, without a goodbye (a frozen or dead server never answers one). */
  destroy(): void
  on(event: 'error', listener: (err: Error) => void): unknown
  /** The server's id for this session (`CONNECTION_ID()`). */
  readonly threadId: number | null
}

interface ConnectionConfig {
  host: string
  port: number
  user: string
  password?: string
  database?: string
  connectTimeout: number
  multipleStatements: boolean
  /** Values compared and copied as the server prints them: no Date/number conversions. */
  dateStrings: boolean
  supportBigNumbers: boolean
  bigNumberStrings: boolean
}

interface Mysql2Promise {
  createConnection(config: ConnectionConfig): Promise<MysqlConnection>
}

/** Where a `mysql://user:password@host:port/database` URL points. */
export interface MysqlAddress {
  host: string
  port: number
  user: string
  password: string
  database: string
}

/** Parses a `mysql://` (or `mariadb://`) URL; the database is empty when absent. */
export function parseMysqlUrl(url: string): MysqlAddress {
  const u = new URL(url)
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  }
}

async function driver(): Promise<Mysql2Promise> {
  try {
    const mod = await loadDriver<Mysql2Promise & { default?: Mysql2Promise }>('mysql2/promise', 'MariaDB/MySQL')
    return mod.default ?? mod
  } catch (err) {
    throw err instanceof MissingDriverError ? new MissingDriverError('mysql2', 'MariaDB/MySQL (probes and guard)', err.cause) : err
  }
}

/** Opens a session to `url`; gives up when `signal` aborts while connecting. */
export async function connectMysql(url: string, options: { signal?: AbortSignal; timeoutMs?: number; multipleStatements?: boolean } = {}): Promise<MysqlConnection> {
  const mysql = await driver()
  const a = parseMysqlUrl(url)
  const pending = mysql.createConnection({
    host: a.host,
    port: a.port,
    user: a.user,
    ...(a.password ? { password: a.password } : {}),
    ...(a.database ? { database: a.database } : {}),
    connectTimeout: options.timeoutMs ?? 5000,
    multipleStatements: options.multipleStatements ?? false,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  })
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(options.signal?.reason ?? new Error('aborted'))
  })
  aborted.catch(() => {})
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const conn = await Promise.race([pending, aborted])
    conn.on('error', () => {})
    return conn
  } catch (err) {
    // A connection that completes after the abort must not stay open.
    void pending.then((c) => c.destroy(), () => {})
    throw err
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

const isOk = (r: unknown): r is MysqlOk => typeof r === 'object' && r !== null && !Array.isArray(r) && 'affectedRows' in r && 'fieldCount' in r

/** Every result of a query, one per statement (a single statement gives a list of one). */
export function resultsOf<R>(result: MysqlResult<R> | MysqlResult<R>[]): MysqlResult<R>[] {
  if (!Array.isArray(result)) return [result]
  const first: unknown = result[0]
  return result.length > 0 && (Array.isArray(first) || isOk(first)) ? (result as MysqlResult<R>[]) : [result as R[]]
}

/** The rows of the last result that has rows. */
export function rowsOf<R>(result: MysqlResult<R> | MysqlResult<R>[]): R[] {
  const sets = resultsOf(result).filter((r): r is R[] => Array.isArray(r))
  return sets.at(-1) ?? []
}

/** Runs one query on a short-lived connection; an abort rejects at once, even on a frozen server. */
export async function queryMysql<R = Record<string, unknown>>(url: string, sql: string, options: { signal?: AbortSignal } = {}): Promise<R[]> {
  const conn = await connectMysql(url, options)
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(options.signal?.reason ?? new Error('aborted'))
  })
  aborted.catch(() => {})
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const [result] = await Promise.race([conn.query<R>(sql), aborted])
    return rowsOf(result)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    if (options.signal?.aborted) conn.destroy()
    else await conn.end().catch(() => conn.destroy())
  }
}
