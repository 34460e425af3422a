// What the guard watches in a MariaDB/MySQL database, read from information_schema (never from
// the application's models): base tables, their keys, insertable columns and engine.
import { MIGRATION_TABLES } from '../postgres/catalog.ts'
import { matchesAny } from '../patterns.ts'
import { ident } from './connection.ts'

export { MIGRATION_TABLES }

/** A watched table. */
export interface TableInfo {
  /** The table's name, as messages show it. */
  name: string
  /** Quoted name for SQL. */
  sql: string
  /** Quoted primary key columns; empty when the table has none. */
  pk: string[]
  /** Quoted insertable columns (generated ones left out). */
  columns: string[]
  /** `InnoDB`, `Aria`, `MyISAM`, `MEMORY`… */
  engine: string
}

/** The watched part of a database. */
export interface Catalog {
  tables: TableInfo[]
}

interface ColumnRow {
  t: string
  c: string
  k: string
  x: string
  e: string | null
}

/** Base tables of the session's database (read through `run`, one round trip) not matching `exclude` (globs over `db.table` or `table`). */
export async function readCatalog(run: (sql: string) => Promise<unknown[]>, exclude: readonly string[]): Promise<Catalog> {
  const [colRows, dbRows] = await run(
    `select c.table_name as t, c.column_name as c, c.column_key as k, c.extra as x, t.engine as e
     from information_schema.columns c join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = database() and t.table_type = 'BASE TABLE'
     order by c.table_name, c.ordinal_position; select database() as d`,
  )
  const cols = colRows as ColumnRow[]
  const db = (dbRows as { d: string }[])[0]?.d ?? ''
  const byName = new Map<string, TableInfo>()
  for (const r of cols) {
    if (matchesAny(`${db}.${r.t}`, exclude) || matchesAny(r.t, exclude)) continue
    let t = byName.get(r.t)
    if (!t) {
      t = { name: r.t, sql: ident(r.t), pk: [], columns: [], engine: r.e ?? '' }
      byName.set(r.t, t)
    }
    if (r.k === 'PRI') t.pk.push(ident(r.c))
    if (!/GENERATED/i.test(r.x)) t.columns.push(ident(r.c))
  }
  return { tables: [...byName.values()] }
}
