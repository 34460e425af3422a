// The subset of `pg` (node-postgres) rig calls; rig never imports the driver's own types.
import { loadDriver } from './load-driver.ts'

/** A query result, as much of it as rig reads. */
export interface PgResult<R = Record<string, unknown>> {
  rows: R[]
  rowCount: number | null
}

/** A connected client. */
export interface PgClient {
  connect(): Promise<unknown>
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<PgResult<R>>
  end(): Promise<void>
  on(event: 'error', listener: (err: Error) => void): unknown
}

interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number; query_timeout?: number }) => PgClient
}

/** Opens a client to `url`; closes it if `signal` aborts while connecting. */
export async function connectPg(url: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<PgClient> {
  const mod = await loadDriver<PgModule & { default?: PgModule }>('pg', 'the PostgreSQL probe')
  const { Client } = mod.default ?? mod
  const client = new Client({ connectionString: url, connectionTimeoutMillis: options.timeoutMs ?? 5000 })
  client.on('error', () => {})
  const onAbort = (): void => void client.end().catch(() => {})
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await client.connect()
    return client
  } catch (err) {
    await client.end().catch(() => {})
    throw err
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

/** Runs one query on a short-lived connection. */
export async function pgQuery<R = Record<string, unknown>>(url: string, sql: string, options: { signal?: AbortSignal; params?: readonly unknown[] } = {}): Promise<PgResult<R>> {
  const client = await connectPg(url, options)
  const onAbort = (): void => void client.end().catch(() => {})
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await client.query<R>(sql, options.params)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await client.end().catch(() => {})
  }
}
