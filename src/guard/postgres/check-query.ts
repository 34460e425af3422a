// The per-test check in ONE round trip: a row count per table, a count of rows written since
// the last clean state (the content fingerprint), every sequence, a fingerprint of the catalog
// (tables created or dropped) and the transactions left open.
//
// "Written since" compares each row's xmin with the transaction horizon recorded after the
// baseline: any INSERT or UPDATE after it creates a row version with a newer xmin, a DELETE
// lowers the count. It costs a scan of each table, no triggers and no copy of the data.
import type { Catalog } from './catalog.ts'
import { userRelations } from './catalog.ts'

/** `xmin` is a 32-bit, wrapping transaction id: compare in modulo-2^32 space. Ids ≤ 2 are frozen/bootstrap. */
export function newerThan(mark: bigint): string {
  const m = mark % 4294967296n
  return `(xmin::text::int8 > 2 and ((xmin::text::int8 - ${m} + 4294967296) % 4294967296) < 2147483648)`
}

/** One row of the check's result. */
export interface CheckRow {
  /** `t` table, `s` sequence, `c` catalog fingerprint, `x` open transaction. */
  k: string
  i: string
  a: string | null
  b: string | null
}

/**
 * Builds the check statement. Only tables with baseline rows need the fingerprint; for the
 * others any row is an added one.
 */
export function buildCheckSql(catalog: Catalog, seeded: ReadonlySet<number>, mark: bigint, shadowSchema: string, ignorePids: readonly number[]): string {
  const parts: string[] = []
  catalog.tables.forEach((t, i) => {
    const changed = seeded.has(t.oid) ? `count(*) filter (where ${newerThan(mark)})` : '0'
    parts.push(`select 't'::text as k, ${i}::int8 as i, count(*)::int8 as a, ${changed}::int8 as b from ${t.sql}`)
  })
  catalog.sequences.forEach((s, i) => parts.push(`select 's' as k, ${i} as i, last_value as a, case when is_called then 1 else 0 end as b from ${s.sql}`))
  parts.push(`select 'c' as k, 0 as i, count(*) as a, coalesce(sum(c.oid::int8), 0) as b from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${userRelations(`'r', 'p'`, shadowSchema)}`)
  const ignore = ignorePids.length > 0 ? ` and pid not in (${ignorePids.join(', ')})` : ''
  parts.push(
    `select 'x' as k, pid as i, (extract(epoch from clock_timestamp() - xact_start) * 1000)::int8 as a, 0 as b from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%'${ignore}`,
  )
  return parts.join('\nunion all ')
}
