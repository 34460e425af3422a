// The per-test check in at most two round trips. The probe reads the transaction horizon,
// every sequence, a fingerprint of the catalog (tables created or dropped) and the
// transactions left open. When no transaction id was handed out since the clean state,
// nothing can have been written and the check stops there. Otherwise the table statement
// counts the rows of every table and, for seeded tables, the rows written since the clean
// state (the content fingerprint).
//
// "Written since" compares each row's xmin with the horizon recorded at the clean state: any
// INSERT or UPDATE after it creates a row version with a newer xmin, a DELETE lowers the
// count. It costs a scan of each table, no triggers and no copy of the data.
//
// Both statements are prepared once per connection: planning a 50-branch UNION costs more
// than running it.
import type { Catalog } from './catalog.ts'
import { userRelations } from './catalog.ts'

/**
 * Condition "this row version was written at or after transaction id `mark`" (an SQL boolean).
 * `age(xmin)` is how many transaction ids ago the row version was written, counted from the
 * next id to hand out; the mark's own age is the same count for the clean state. Both wrap
 * like `xid` does, and frozen rows have the largest age. Cheaper per row than comparing
 * `xmin` as a number, which goes through text. `mark` is an SQL expression of type `xid`;
 * `alias` qualifies `xmin` when the statement reads more than one table.
 */
export function newerThan(mark: string, alias?: string): string {
  return `age(${alias ? `${alias}.` : ''}xmin) <= (select age(${mark}))`
}

/** A 64-bit transaction id (`txid_current()` style) as an SQL `xid` literal of its low 32 bits. */
export function xidLiteral(txid: bigint): string {
  return `'${txid % 4294967296n}'::xid`
}

/** One row of the check's result. */
export interface CheckRow {
  /** `t` table, `s` sequence, `c` catalog fingerprint, `x` open transaction, `m` horizon now. */
  k: string
  i: string
  a: string | null
  b: string | null
}

const HORIZON = 'txid_snapshot_xmax(txid_current_snapshot())'


/** The two statements of a check. */
export interface CheckSql {
  /** Horizon, sequences, catalog fingerprint, open transactions. `$1`: pids to leave alone. */
  probe: string
  /** Row counts and written rows per table; `$1`: the clean state's horizon as an `xid` (its low 32 bits, when a table is seeded). */
  tables: string | undefined
}

/** Builds the check statements. Only seeded tables need the fingerprint; in the others any row is an added one. */
export function buildCheckSql(catalog: Catalog, seeded: ReadonlySet<number>, shadowSchema: string): CheckSql {
  const probe: string[] = [`select 'm'::text as k, 0::int8 as i, ${HORIZON} as a, cardinality($1::int[])::int8 as b`]
  catalog.sequences.forEach((s, i) => probe.push(`select 's', ${i}, last_value, case when is_called then 1 else 0 end from ${s.sql}`))
  probe.push(`select 'c', 0, count(*), coalesce(sum(c.oid::int8), 0) from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${userRelations(`'r', 'p'`, shadowSchema)}`)
  probe.push(
    `select 'x', pid, (extract(epoch from clock_timestamp() - xact_start) * 1000)::int8, 0 from pg_stat_activity
     where datname = current_database() and pid <> pg_backend_pid() and state like 'idle in transaction%' and pid <> all($1::int[])`,
  )
  const tables = catalog.tables.map((t, i) => {
    const changed = seeded.has(t.oid) ? `count(*) filter (where ${newerThan('$1::text::xid')})` : '0'
    return `select 't'::text as k, ${i}::int8 as i, count(*)::int8 as a, ${changed}::int8 as b from ${t.sql}`
  })
  return { probe: probe.join('\nunion all '), tables: tables.length > 0 ? tables.join('\nunion all ') : undefined }
}
