import { pgQuery } from '../drivers/pg.ts'
import { ProbeFailure, type Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/**
 * Passes when `sql` runs (default `select 1`) on the service's database, or on `url`.
 * The real answer to "is PostgreSQL ready": it accepts a login and runs a query.
 */
export function postgresQuery(sql = 'select 1', options: { url?: string; timeoutMs?: number; rows?: (rows: Record<string, unknown>[]) => boolean } = {}): Probe {
  return {
    name: `postgres query "${sql}"`,
    timeoutMs: options.timeoutMs ?? 2000,
    async run(ctx) {
      const url = options.url ?? requireTarget(ctx, 'postgresQuery()').url
      const res = await pgQuery(url, sql, { signal: ctx.signal })
      if (options.rows && !options.rows(res.rows)) throw new ProbeFailure('assertion', `rows did not match: ${JSON.stringify(res.rows).slice(0, 200)}`)
      return { detail: `${res.rowCount ?? res.rows.length} rows` }
    },
  }
}
