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
  /** A named prepared statement: parsed and planned once per connection (the guard's per-test check). */
  query<R = Record<string, unknown>>(config: { name: string; text: string; values?: readonly unknown[] }): Promise<PgResult<R>>
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
  // client.end() while connecting does not make connect() reject: it would only give up at
  // connectionTimeoutMillis. Reject at once with the signal's reason instead.
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => {
      void client.end().catch(() => {})
      reject(options.signal?.reason ?? new Error('aborted'))
    }
  })
  aborted.catch(() => {})
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await Promise.race([client.connect(), aborted])
    return client
  } catch (err) {
    // Not awaited: ending a half-open connection waits for the connect timeout.
    void client.end().catch(() => {})
    throw err
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

/** Runs one query on a short-lived connection; an abort rejects at once, even on a frozen server. */
export async function pgQuery<R = Record<string, unknown>>(url: string, sql: string, options: { signal?: AbortSignal; params?: readonly unknown[] } = {}): Promise<PgResult<R>> {
  const client = await connectPg(url, options)
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(options.signal?.reason ?? new Error('aborted'))
  })
  aborted.catch(() => {})
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([client.query<R>(sql, options.params), aborted])
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    // A frozen (SIGSTOPped) server never acknowledges the goodbye: do not wait for it then.
    if (options.signal?.aborted) void client.end().catch(() => {})
    else await client.end().catch(() => {})
  }
}
