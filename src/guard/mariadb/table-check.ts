// The full half of a check, run when the counters moved. Which tables changed: InnoDB counts
// row modifications per table (MODIFIED_COUNTER of its table statistics), which narrows the
// check to the tables written to, in one cheap read. That counter is reset when statistics
// are recalculated, so it is only trusted where that cannot happen behind rig's back
// (automatic recalculation off, persistent statistics); elsewhere, and after DDL, every table
// is compared by CHECKSUM TABLE. Candidate tables are then compared with their baseline: row
// counts, and for seeded tables the rows that differ from the shadow copy (by primary key, or
// by whole row for a table without one).
import type { Change } from '../adapter.ts'
import type { Catalog, TableInfo } from './catalog.ts'

/** Per-table figures recorded at the clean state. */
export interface TableMarks {
  /** Rows per table. */
  rows: Map<string, number>
  /** CHECKSUM TABLE per table. */
  checksums: Map<string, string>
  /** AUTO_INCREMENT per table (null: none). */
  autoinc: Map<string, string | null>
  /** InnoDB's modification counter per table. */
  modified: Map<string, bigint>
}

/** The per-table modification counters of the session's database. */
export function modifiedCountersSql(flavor: 'mariadb' | 'mysql'): string {
  const view = flavor === 'mysql' ? 'innodb_tablestats' : 'innodb_sys_tablestats'
  return `select substring(name, char_length(database()) + 2) as t, modified_counter as m, stats_initialized as s
    from information_schema.${view} where name like concat(replace(database(), '_', '\\_'), '/%')`
}

/** Base table names, engines, options and AUTO_INCREMENT of the session's database. */
export const TABLES_SQL = `select table_name as t, auto_increment as ai, create_options as o from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'`

/** Parses {@link modifiedCountersSql} rows; tables whose statistics are not initialised are left out (they count nothing). */
export function parseModified(rows: readonly Record<string, unknown>[]): Map<string, bigint> {
  const out = new Map<string, bigint>()
  // MariaDB says 1, MySQL 'Initialized'.
  for (const r of rows) if (String(r.s) === '1' || /^init/i.test(String(r.s))) out.set(String(r.t), BigInt(String(r.m)))
  return out
}

/**
 * Whether InnoDB's counter of `t` can be trusted to have moved if the table was written:
 * statistics that are persistent and never recalculated automatically are never reset.
 */
export function countersTrusted(t: TableInfo, options: string, autoRecalc: boolean, persistent: boolean): boolean {
  if (t.engine.toLowerCase() !== 'innodb') return false
  const o = options.toLowerCase()
  const tablePersistent = o.includes('stats_persistent=1') || (persistent && !o.includes('stats_persistent=0'))
  const tableRecalc = o.includes('stats_auto_recalc=1') || (autoRecalc && !o.includes('stats_auto_recalc=0'))
  return tablePersistent && !tableRecalc
}

const eqAll = (t: TableInfo, a: string, b: string): string => (t.columns.length > 0 ? t.columns.map((c) => `${a}.${c} <=> ${b}.${c}`).join(' and ') : '1')
const eqKey = (t: TableInfo, a: string, b: string): string => t.pk.map((c) => `${a}.${c} = ${b}.${c}`).join(' and ')

/**
 * One statement comparing `tables` with their baseline: `n` rows now, and for seeded tables
 * `a` rows only in the table, `b` rows only in the shadow copy, `c` rows whose key is in both
 * with other values (tables with a primary key).
 */
export function compareSql(tables: readonly TableInfo[], shadows: ReadonlyMap<string, string>): string {
  return tables
    .map((t, i) => {
      const s = shadows.get(t.name)
      if (!s) return `select ${i} as i, (select count(*) from ${t.sql}) as n, 0 as a, 0 as b, 0 as c`
      if (t.pk.length === 0) {
        return `select ${i} as i, (select count(*) from ${t.sql}) as n,
          (select count(*) from ${t.sql} x where not exists (select 1 from ${s} s where ${eqAll(t, 's', 'x')})) as a,
          (select count(*) from ${s} s where not exists (select 1 from ${t.sql} x where ${eqAll(t, 'x', 's')})) as b, 0 as c`
      }
      return `select ${i} as i, (select count(*) from ${t.sql}) as n,
        (select count(*) from ${t.sql} x where not exists (select 1 from ${s} s where ${eqKey(t, 's', 'x')})) as a,
        (select count(*) from ${s} s where not exists (select 1 from ${t.sql} x where ${eqKey(t, 'x', 's')})) as b,
        (select count(*) from ${t.sql} x join ${s} s on ${eqKey(t, 's', 'x')} where not (${eqAll(t, 'x', 's')})) as c`
    })
    .join('\nunion all ')
}

const rowsText = (n: number): string => `${n} row${n === 1 ? '' : 's'}`

/** Changes of one table from its {@link compareSql} row. */
export function tableChange(t: TableInfo, seeded: boolean, hasKey: boolean, r: { n: number; a: number; b: number; c: number }): Change | undefined {
  let added: number
  let removed: number
  let changed: number
  if (!seeded) [added, removed, changed] = [r.n, 0, 0]
  else if (hasKey) [added, removed, changed] = [r.a, r.b, r.c]
  else {
    // Without a key, a row that differs is one row only in the table and one only in the copy.
    changed = Math.min(r.a, r.b)
    ;[added, removed] = [r.a - changed, r.b - changed]
  }
  const count = added + removed + changed
  if (count === 0) return undefined
  const parts = [added > 0 ? `+${rowsText(added)}` : '', removed > 0 ? `-${rowsText(removed)}` : '', changed > 0 ? `${rowsText(changed)} changed` : ''].filter(Boolean)
  return { subject: t.name, kind: added > 0 ? 'added' : removed > 0 ? 'removed' : 'changed', count, leak: true, text: `${t.name} ${parts.join(', ')}` }
}

/** `CHECKSUM TABLE` of every table (one result row each, `Table` = `db.name`). */
export function checksumSql(catalog: Catalog): string | undefined {
  return catalog.tables.length > 0 ? `checksum table ${catalog.tables.map((t) => t.sql).join(', ')}` : undefined
}

/** Parses CHECKSUM TABLE rows into name → checksum. */
export function parseChecksums(rows: readonly Record<string, unknown>[]): Map<string, string> {
  return new Map(rows.map((r) => [String(r.Table).slice(String(r.Table).indexOf('.') + 1), String(r.Checksum)]))
}

/** A seeded table's change known only by its row count and checksum (no shadow copy: a store rig may not write to). */
export function blindChange(t: TableInfo, deltaRows: number): Change {
  const n = Math.abs(deltaRows)
  const text = deltaRows === 0 ? `${t.name} rows changed` : `${t.name} ${deltaRows > 0 ? '+' : '-'}${n} row${n === 1 ? '' : 's'}`
  return { subject: t.name, kind: deltaRows > 0 ? 'added' : deltaRows < 0 ? 'removed' : 'changed', count: Math.max(n, 1), leak: true, text }
}
