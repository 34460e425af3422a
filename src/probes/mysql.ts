import { queryMysql } from '../drivers/mysql.ts'
import { ProbeFailure, type Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/**
 * Passes when `sql` runs (default `select 1`) on the service's database, or on `url`: the
 * server accepts this login and answers a query, which an open port does not prove (MariaDB
 * listens before its init file has set the credentials).
 */
export function mysqlQuery(sql = 'select 1', options: { url?: string; timeoutMs?: number; rows?: (rows: Record<string, unknown>[]) => boolean } = {}): Probe {
  return {
    name: `mysql query "${sql}"`,
    timeoutMs: options.timeoutMs ?? 2000,
    async run(ctx) {
      const url = options.url ?? requireTarget(ctx, 'mysqlQuery()').url
      const rows = await queryMysql(url, sql, { signal: ctx.signal })
      if (options.rows && !options.rows(rows)) throw new ProbeFailure('assertion', `rows did not match: ${JSON.stringify(rows).slice(0, 200)}`)
      return { detail: `${rows.length} rows` }
    },
  }
}
