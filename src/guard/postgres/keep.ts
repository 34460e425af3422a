// keepOnFailure for PostgreSQL: the tables a failed test changed or created are copied, as the
// test left them, into a schema `rig_kept_<n>` that the guard never watches (see catalog.ts),
// before the restore puts the database back. A copy, not a rename: the restore and the next
// test see the database exactly as without keeping. The next run's start drops them.
import type { PgClient } from '../../drivers/pg.ts'
import type { KeepOptions, KeptData } from '../adapter.ts'

/** Schemas of kept data: `rig_kept_1`, `rig_kept_2`, … */
export const KEPT_SCHEMA = /^rig_kept_\d+$/

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`

/** A table to copy: its quoted name and how messages show it. */
export interface KeepTable {
  sql: string
  display: string
}

/** A name under 64 bytes, unique among `taken`: `public.job`, or a shortened one with its index. */
function tableName(display: string, i: number, taken: Set<string>): string {
  let name = display
  if (Buffer.byteLength(name) > 63 || taken.has(name)) {
    const tail = `_${i}`
    name = display
    while (Buffer.byteLength(name + tail) > 63) name = name.slice(0, -1)
    name += tail
  }
  taken.add(name)
  return name
}

/** Copies `tables` into the next free `rig_kept_<n>`, unless `max` sets are kept already. */
export async function keepTables(client: PgClient, tables: readonly KeepTable[], options: KeepOptions): Promise<KeptData> {
  if (tables.length === 0) return { note: 'no table to keep (only sequences or dropped tables changed)' }
  const res = await client.query<{ n: number }>(`select coalesce(max(substring(nspname from '^rig_kept_([0-9]+)$')::int), 0) + 1 as n from pg_namespace where nspname ~ '^rig_kept_[0-9]+$'`)
  const n = Number((Array.isArray(res) ? res.at(-1)?.rows : res.rows)?.[0]?.n ?? 1)
  if (n > options.max) return { note: `not kept: ${options.max} failed tests' data kept already in this run (keepOnFailure.max)` }
  const schema = `rig_kept_${n}`
  const taken = new Set<string>()
  const names = tables.map((t, i) => tableName(t.display, i + 1, taken))
  const statements = [
    'begin',
    `create schema ${quote(schema)}`,
    `comment on schema ${quote(schema)} is ${literal(`rig kept what "${options.label}" left, ${new Date().toISOString()}`)}`,
    ...tables.map((t, i) => `create table ${quote(schema)}.${quote(names[i] as string)} as table ${t.sql}`),
    'commit',
  ]
  try {
    await client.query(statements.join(';\n'))
  } catch (err) {
    await client.query('rollback').catch(() => {})
    throw err
  }
  const shown = tables.slice(0, 3).map((t) => t.display).join(', ')
  return { where: `schema ${schema} (${tables.length} table${tables.length === 1 ? '' : 's'}: ${shown}${tables.length > 3 ? ` and ${tables.length - 3} more` : ''})` }
}

/** Drops every `rig_kept_<n>` schema; returns how many. */
export async function dropKeptSchemas(client: PgClient): Promise<number> {
  const res = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname ~ '^rig_kept_[0-9]+$'`)
  const rows: Array<{ nspname: string }> = (Array.isArray(res) ? res.at(-1)?.rows : res.rows) ?? []
  const names = rows.map((r) => r.nspname)
  if (names.length > 0) await client.query(names.map((s: string) => `drop schema ${quote(s)} cascade`).join(';\n'))
  return names.length
}

/** The database's user schemas (not PostgreSQL's own). */
export async function schemaNames(client: PgClient): Promise<Set<string>> {
  const res = await client.query<{ n: string }>(`select nspname as n from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'`)
  const rows: Array<{ n: string }> = (Array.isArray(res) ? res.at(-1)?.rows : res.rows) ?? []
  return new Set(rows.map((r) => r.n))
}
