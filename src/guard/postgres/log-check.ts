// One check on the change-log path: read the changes since the clean state, find out what DDL did
// when someone wrote to pg_class, and turn it all into the guard's changes and a restore plan.
// Every query here is sized by what the test did, never by the number of tables.
import type { PgClient } from '../../drivers/pg.ts'
import type { Change } from '../adapter.ts'
import { matchesAny } from '../patterns.ts'
import { type Catalog, type TableInfo, userRelations } from './catalog.ts'
import { newerThan } from './check-query.ts'
import type { ChangeLog, LogRead } from './change-log.ts'
import { type KeyValues, logChanges, tallyLog } from './log-diff.ts'

/** A table a test created: dropped by the restore. */
export interface CreatedTable {
  oid: number
  sql: string
  display: string
}

/** What a check needs to know beyond the log. */
export interface LogCheckInput {
  log: ChangeLog
  /** A session for the catalog and count queries. */
  session: PgClient
  catalog: Catalog
  /** Oids of the seeded tables (a set, or the map of their shadow copies). */
  seeded: Pick<ReadonlySet<number>, 'has'>
  baseRows: ReadonlyMap<number, number>
  /** `last_value/is_called` per sequence oid at the baseline. */
  baseSequences: ReadonlyMap<number, string>
  /** Transaction horizon of the clean state (rows and catalog entries written since are newer). */
  markXid: bigint
  /** Globs of tables not watched, migration tables included. */
  exclude: readonly string[]
  shadowSchema: string
  keyLimit: number
  /** Transactions not to report as left open. */
  ignorePids: readonly number[]
  /** What the log said, when it was read already (the fused check of the restore session). */
  read?: LogRead
}

/** The result of {@link logCheck}. */
export interface LogCheck {
  changes: Change[]
  tables: number[]
  sequences: number[]
  created: CreatedTable[]
  dropped: TableInfo[]
  openPids: number[]
  writtenRows: number
  keys: Map<number, KeyValues[]>
  /** The catalog with renamed tables and re-created sequence files updated (the same object when nothing moved). */
  catalog: Catalog
  /** What was read: the restore clears exactly these entries. */
  read: LogRead
}

const xidParam = (mark: bigint): string => String(mark % 4294967296n)

/**
 * Reads and interprets the changes since the clean state. Undefined when rig's triggers were
 * touched (disabled, dropped): the log may have missed writes, the rows must be counted.
 */
export async function logCheck(input: LogCheckInput): Promise<LogCheck | undefined> {
  const read = input.read ?? (await input.log.read(input.ignorePids))
  if (read.triggersTouched && !(await input.log.intact(input.markXid, input.catalog.tables.map((t) => t.oid)))) return undefined
  const moved = new Set<number>()
  for (const [oid, v] of read.unloggedSequences) if (v !== input.baseSequences.get(oid)) moved.add(oid)
  const out: LogCheck = { changes: [], tables: [], sequences: [], created: [], dropped: [], openPids: [...read.open.keys()], writtenRows: 0, keys: new Map(), catalog: input.catalog, read }
  // A sequence given a new file (TRUNCATE … RESTART IDENTITY) writes to pg_class too.
  if (read.catalogTouched) {
    const delta = await catalogDelta(input)
    // A partition attached to a watched table has no trigger yet: rows written to it directly went unlogged.
    if (delta.partitions) return undefined
    Object.assign(out, { created: delta.created, dropped: delta.dropped, catalog: delta.catalog })
    // A sequence given a new file in a transaction writes no record under wal_level = minimal.
    for (const oid of delta.resetSequences) moved.add(oid)
  }
  const tallies = tallyLog(read, out.catalog, input.seeded, input.keyLimit)
  for (const d of out.dropped) tallies.delete(d.oid)
  const truncated = [...tallies.values()].filter((s) => s.truncated)
  const rowsNow = new Map<number, number>()
  if (truncated.length > 0) {
    const res = await input.session.query<{ oid: string; n: string }>(truncated.map((s) => `select ${s.t.oid}::text as oid, count(*)::text as n from ${s.t.sql}`).join(' union all '))
    for (const r of res.rows) rowsNow.set(Number(r.oid), Number(r.n))
  }
  const { changes, plan } = logChanges(tallies, out.catalog, input.baseRows, rowsNow)
  Object.assign(out, { tables: plan.tables, keys: plan.keys, writtenRows: plan.writtenRows })
  const byNode = new Map(out.catalog.sequences.map((s) => [s.filenode, s.oid]))
  for (const node of read.sequences) if (byNode.has(node)) moved.add(byNode.get(node) as number)
  const seqChanges: Change[] = []
  for (const s of out.catalog.sequences) {
    if (!moved.has(s.oid)) continue
    out.sequences.push(s.oid)
    seqChanges.push({ subject: s.display, kind: 'sequence', count: 1, leak: false, text: `${s.display} advanced` })
  }
  out.changes = [
    ...changes,
    ...seqChanges,
    ...[...read.open].map(([pid, ms]): Change => ({ subject: `pid ${pid}`, kind: 'open-transaction', count: 1, leak: true, text: `transaction left open (pid ${pid}, ${(ms / 1000).toFixed(1)} s)` })),
    ...out.dropped.map((t): Change => ({ subject: t.display, kind: 'dropped', count: 1, leak: true, text: `${t.display} dropped` })),
    ...out.created.map((t): Change => ({ subject: t.display, kind: 'created', count: 1, leak: true, text: `${t.display} created` })),
  ]
  return out
}

interface DeltaRow {
  k: string
  oid: string
  schema: string | null
  name: string | null
  node: string | null
}

/**
 * Someone wrote to pg_class: tables created, dropped
 * or renamed, sequences given a new file (TRUNCATE … RESTART IDENTITY). Reads only the catalog
 * entries written since the clean state, and looks the watched oids up by index.
 */
async function catalogDelta(input: LogCheckInput): Promise<Pick<LogCheck, 'created' | 'dropped' | 'catalog'> & { partitions: boolean; resetSequences: number[] }> {
  const { catalog } = input
  const tableOids = catalog.tables.map((t) => t.oid)
  const seqOids = catalog.sequences.map((s) => s.oid)
  const newer = newerThan('$3::text::xid', 'c')
  const res = await input.session.query<DeltaRow>(
    `select 'gone' as k, o::text as oid, null as schema, null as name, null as node from unnest($1::oid[]) as o where not exists (select from pg_class where oid = o)
     union all select 'moved', c.oid::text, n.nspname, c.relname, null
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = any($1::oid[]) and ${newer}
     union all select 'seq', c.oid::text, null, null, pg_relation_filenode(c.oid)::text from pg_class c where c.oid = any($2::oid[]) and ${newer}
     union all select 'part', c.oid::text, null, null, null from pg_class c where ${newer} and c.relispartition and c.relkind = 'r' and pg_partition_root(c.oid) = any($1::oid[])
     union all select 'new', c.oid::text, n.nspname, c.relname, null from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where ${newer} and c.oid <> all($1::oid[]) and ${userRelations(`'r', 'p'`, input.shadowSchema)}`,
    [tableOids, seqOids, xidParam(input.markXid)],
  )
  const gone = new Set(res.rows.filter((r) => r.k === 'gone').map((r) => Number(r.oid)))
  const moved = new Map(res.rows.filter((r) => r.k === 'moved').map((r) => [Number(r.oid), r]))
  const renamed = (t: TableInfo, m: DeltaRow | undefined): boolean => m !== undefined && m.schema !== null && m.name !== null && `${m.schema}.${m.name}` !== t.display
  const nodes = new Map(res.rows.filter((r) => r.k === 'seq').map((r) => [Number(r.oid), Number(r.node)]))
  const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`
  const created = res.rows
    .filter((r) => r.k === 'new' && r.schema !== null && r.name !== null)
    .filter((r) => !matchesAny(`${r.schema}.${r.name}`, input.exclude) && !matchesAny(r.name as string, input.exclude))
    .map((r) => ({ oid: Number(r.oid), sql: `${quote(r.schema as string)}.${quote(r.name as string)}`, display: `${r.schema}.${r.name}` }))
    .sort((a, b) => a.display.localeCompare(b.display))
  let changed = nodes.size > 0
  const tables = catalog.tables.map((t) => {
    const m = moved.get(t.oid)
    if (!m || !renamed(t, m)) return t
    changed = true
    return { ...t, display: `${m.schema}.${m.name}`, sql: `${quote(m.schema as string)}.${quote(m.name as string)}` }
  })
  const sequences = catalog.sequences.map((s) => (nodes.has(s.oid) ? { ...s, filenode: nodes.get(s.oid) as number } : s))
  return {
    partitions: res.rows.some((r) => r.k === 'part'),
    resetSequences: [...nodes.keys()],
    created,
    dropped: catalog.tables.filter((t) => gone.has(t.oid)),
    catalog: changed ? { ...catalog, tables, sequences } : catalog,
  }
}
