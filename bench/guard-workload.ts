// The guard benchmark's workload: N tables × 100 seeded rows (every other table references the
// previous one, so restores deal with foreign keys), optionally a seeded table of a million rows;
// a "test" inserts a row into one table, inserts a row into another and changes a seeded row of
// it, and (with the big table) changes one of its rows.

/** One column of the benchmark. */
export interface Workload {
  /** Column label: `50`, `200`, `1000`, `1M`. */
  label: string
  tables: number
  rowsPerTable: number
  /** Rows of the extra seeded table `big`; 0 for none. */
  bigRows: number
}

export const tableName = (i: number): string => `t${String(i).padStart(4, '0')}`

/** Creates and seeds the schema. */
export function schemaSql(w: Workload): string {
  const out: string[] = []
  for (let i = 1; i <= w.tables; i++) {
    const ref = i > 1 && i % 2 === 0 ? `, parent_id int references ${tableName(i - 1)}(id)` : ''
    out.push(`create table ${tableName(i)} (id serial primary key, name text not null, n int not null default 0, created_at timestamptz default now()${ref})`)
    out.push(`insert into ${tableName(i)} (name, n${ref ? ', parent_id' : ''}) select 'row ' || g, g${ref ? ', g' : ''} from generate_series(1, ${w.rowsPerTable}) g`)
  }
  if (w.bigRows > 0) {
    out.push(`create table big (id int primary key, name text not null, n int not null)`)
    out.push(`insert into big select g, 'row ' || g, g from generate_series(1, ${w.bigRows}) g`)
  }
  return out.join(';\n')
}

/** The two tables a test writes to: the 10th and the 21st (or the last ones on a small schema). */
function targets(w: Workload): [string, string] {
  return [tableName(Math.min(10, w.tables)), tableName(Math.min(21, w.tables))]
}

/** What test `i` writes. */
export function testWrites(w: Workload, i: number): string {
  const [a, b] = targets(w)
  const parent = Number(a.slice(1)) % 2 === 0 ? `, parent_id` : ''
  const sql = [
    `insert into ${a} (name, n${parent}) values ('new', 1${parent ? ', 5' : ''})`,
    `insert into ${b} (name) values ('new')`,
    `update ${b} set n = n + 1 where id = 7`,
  ]
  if (w.bigRows > 0) sql.push(`update big set n = n + 1 where id = ${bigId(w, i)}`)
  return sql.join('; ')
}

/** The row of `big` test `i` changes: spread over the table. */
const bigId = (w: Workload, i: number): number => ((Math.abs(i) * 7919) % w.bigRows) + 1

/** A hand-written cleanup of test `i`: delete the rows it added, put back the ones it changed (sequences left as they are). */
export function handCleanup(w: Workload, i: number): string {
  const [a, b] = targets(w)
  const sql = [`delete from ${a} where name = 'new'`, `delete from ${b} where name = 'new'`, `update ${b} set n = 7 where id = 7`]
  if (w.bigRows > 0) sql.push(`update big set n = id where id = ${bigId(w, i)}`)
  return sql.join('; ')
}

/** Test writes once TRUNCATE emptied the tables: no parent row to point at, no seeded row to change. */
export function writesOnEmpty(w: Workload): string {
  const [a, b] = targets(w)
  return `insert into ${a} (name) values ('new'); insert into ${b} (name) values ('new')${w.bigRows > 0 ? `; insert into big values (1, 'new', 1) on conflict do nothing` : ''}`
}

/** Every table, for TRUNCATE. */
export function allTables(w: Workload): string {
  return [...Array.from({ length: w.tables }, (_, i) => tableName(i + 1)), ...(w.bigRows > 0 ? ['big'] : [])].join(', ')
}
