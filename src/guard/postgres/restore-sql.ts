// The restore as one SQL string, sent in one round trip and run in one transaction.
//
// With `session_replication_role = replica` (superuser) foreign-key triggers do not fire, so
// order and cycles do not matter and no cascade can reach a table the test did not touch:
// the row versions written since the clean state are deleted and the missing baseline rows
// put back.
//
// Without it (a role that is not a superuser), every change is made by ONE statement whose
// parts are data-modifying CTEs: foreign keys are checked once, at the end of the statement,
// against the restored state, so neither order nor cycles matter there either. Changed
// baseline rows are updated back in place rather than deleted and re-inserted, so that no
// ON DELETE CASCADE can reach rows the test did not touch.
//
// When the changes were read from the WAL, the keys of the changed rows are known: those rows
// alone are deleted and put back from the shadow copy, whatever the table's size.
import type { Catalog, TableInfo } from './catalog.ts'
import { newerThan, xidLiteral } from './check-query.ts'
import { quoteLiteral } from './connection.ts'
import { referencedFirst, withReferencing } from './fk-order.ts'

/** A sequence value to put back. */
export interface SequenceValue {
  sql: string
  value: string
  called: boolean
}

/** Everything one restore does. */
export interface RestorePlan {
  strategy: 'delete' | 'truncate'
  catalog: Catalog
  /** Oids of the tables that differ from the baseline. */
  changed: readonly number[]
  /** Seeded tables: oid → quoted shadow table holding the baseline rows. */
  shadows: ReadonlyMap<number, string>
  sequences: readonly SequenceValue[]
  /** Quoted names of tables the test created. */
  drop: readonly string[]
  replica: boolean
  /**
   * Each table's statements as its owner when that is not a superuser (replica mode only).
   * False on PGlite: one session, one user in one process, no rights to keep apart.
   * @default true
   */
  asOwners?: boolean
  /** Horizon of the last clean state, for incremental restores of seeded tables with a key. */
  mark: bigint
  /**
   * Changes read from the WAL (replica mode only): tables listed here are restored by these keys
   * (every key the test touched); the other changed tables are emptied and reloaded whole.
   */
  keys?: ReadonlyMap<number, ReadonlyArray<ReadonlyArray<unknown>>>
  /** Statements run first and before COMMIT, and the final statement replacing the horizon query. */
  extra?: { head?: readonly string[]; beforeCommit?: readonly string[]; afterCommit?: string }
}

// OVERRIDING SYSTEM VALUE: identity columns GENERATED ALWAYS get their baseline values back.
const insertFrom = (t: TableInfo, shadow: string, where = ''): string =>
  `insert into ${t.sql} (${t.columns}) overriding system value select ${t.columns} from ${shadow} s${where ? ` where ${where}` : ''}`

const keyOf = (t: TableInfo, alias: string): string => `(${t.pk.map((c) => `${alias}.${c}`).join(', ')})`

/** Baseline rows missing from the table (deleted, or their key changed). */
const missing = (t: TableInfo): string => `not exists (select 1 from ${t.sql} t where ${keyOf(t, 't')} = ${keyOf(t, 's')})`

/** Replica mode: drop the row versions written since the clean state, then put back the missing baseline rows. */
function replicaStatements(t: TableInfo, shadow: string | undefined, mark: string): { deletes: string[]; inserts: string[] } {
  if (shadow && t.pk.length > 0) return { deletes: [`delete from ${t.sql} where ${newerThan(mark)}`], inserts: [insertFrom(t, shadow, missing(t))] }
  return wholeStatements(t, shadow)
}

/** No key to match rows on: empty it and reload the whole baseline. */
const wholeStatements = (t: TableInfo, shadow: string | undefined): { deletes: string[]; inserts: string[] } => ({
  deletes: [`delete from ${t.sql}`],
  inserts: shadow ? [insertFrom(t, shadow)] : [],
})

/** A logged key value as SQL text for its column type's input function. */
const keyText = (v: unknown): string => quoteLiteral(typeof v === 'string' ? v : JSON.stringify(v))

/**
 * The rows with these keys: `key = any(array[…])` for one column (an index scan, cheap to plan),
 * `(a, b) in (values …)` for several.
 */
function keyIn(t: TableInfo, keys: ReadonlyArray<ReadonlyArray<unknown>>, alias?: string): string {
  const cols = t.pk.map((c) => (alias ? `${alias}.${c}` : c))
  if (cols.length === 1) return `${cols[0]} = any(array[${keys.map((k) => keyText(k[0])).join(', ')}]::${t.pkTypes[0] ?? 'text'}[])`
  const rows = keys.map((k) => `(${k.map((v, i) => `${keyText(v)}::${t.pkTypes[i] ?? 'text'}`).join(', ')})`)
  return `(${cols.join(', ')}) in (values ${rows.join(', ')})`
}

/** Replica mode, keys known: delete the touched rows, put back those the baseline had. */
function keyStatements(t: TableInfo, shadow: string | undefined, keys: ReadonlyArray<ReadonlyArray<unknown>>): { deletes: string[]; inserts: string[] } {
  return { deletes: [`delete from ${t.sql} where ${keyIn(t, keys)}`], inserts: shadow ? [insertFrom(t, shadow, keyIn(t, keys, 's'))] : [] }
}

/** Without replica mode: the parts (CTE bodies) restoring one table inside a single statement. */
function inPlaceParts(t: TableInfo, shadow: string | undefined, mark: string): string[] {
  if (!shadow) return [`delete from ${t.sql}`]
  if (t.pk.length === 0) return [`delete from ${t.sql}`, insertFrom(t, shadow)]
  const inShadow = `exists (select 1 from ${shadow} s where ${keyOf(t, 't')} = ${keyOf(t, 's')})`
  const parts: string[] = []
  const rest = t.columnList.filter((c) => !t.pk.includes(c))
  if (rest.length > 0) {
    parts.push(
      `update ${t.sql} t set (${rest.join(', ')}) = row(${rest.map((c) => `s.${c}`).join(', ')}) from ${shadow} s ` +
        `where ${keyOf(t, 't')} = ${keyOf(t, 's')} and ${newerThan(mark, 't')}`,
    )
  }
  parts.push(`delete from ${t.sql} t where ${newerThan(mark, 't')} and not ${inShadow}`)
  // The statement's snapshot predates its own changes: `missing` sees the rows as the test left them.
  parts.push(insertFrom(t, shadow, missing(t)))
  return parts
}

/** Joins parts into one statement: each a data-modifying CTE, so constraints are checked once, at its end. */
const oneStatement = (parts: readonly string[]): string[] =>
  parts.length === 0 ? [] : [`with ${parts.map((p, i) => `r${i} as (${p})`).join(',\n  ')}\nselect 1`]

/** A statement of the restore and the role it runs as (the table's owner; undefined: the guard's own). */
interface Step {
  sql: string
  role: string | undefined
}

/**
 * The steps as statements, each table's as its owner (`SET LOCAL ROLE`, replica mode only: the
 * guard is a superuser there): the application's code they reach (a trigger enabled ALWAYS,
 * a generated column, a type's operators) runs with the owner's rights, not the superuser's.
 * The last statement leaves the guard's own role in place for what follows.
 */
function asOwners(steps: readonly Step[], replica: boolean): string[] {
  if (!replica) return steps.map((s) => s.sql)
  const out: string[] = []
  let current: string | undefined
  for (const s of steps) {
    if (s.role !== current) out.push(s.role === undefined ? 'set local role none' : `set local role ${quoteIdent(s.role)}`)
    current = s.role
    out.push(s.sql)
  }
  if (current !== undefined) out.push('set local role none')
  return out
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** The SQL of a restore, wrapped in BEGIN/COMMIT; the tables it touches are returned too. */
export function buildRestoreSql(plan: RestorePlan): { sql: string; touched: TableInfo[] } {
  const byOid = new Map(plan.catalog.tables.map((t) => [t.oid, t]))
  const mark = xidLiteral(plan.mark)
  const head = ['begin', plan.replica ? 'set local session_replication_role = replica' : 'set constraints all deferred', ...(plan.extra?.head ?? [])]
  const body: Step[] = []
  const step = (t: TableInfo | undefined) => (sql: string): Step => ({ sql, role: t?.role })
  let touchedOids: number[]
  if (plan.strategy === 'truncate') {
    // TRUNCATE refuses a table referenced by one left out of the same command, replica or not:
    // take every referencing table along and reload the seeded ones. One command: as the
    // tables' owner when they have one, else as the guard.
    touchedOids = referencedFirst([...withReferencing(plan.changed, plan.catalog.foreignKeys)].filter((o) => byOid.has(o)), plan.catalog.foreignKeys)
    const owners = new Set(touchedOids.map((o) => byOid.get(o)?.role))
    if (touchedOids.length > 0) body.push({ sql: `truncate ${touchedOids.map((o) => byOid.get(o)?.sql).join(', ')}`, role: owners.size === 1 ? [...owners][0] : undefined })
    const reloads = touchedOids.flatMap((oid) => {
      const shadow = plan.shadows.get(oid)
      const t = byOid.get(oid) as TableInfo
      return shadow ? [step(t)(insertFrom(t, shadow))] : []
    })
    body.push(...(plan.replica ? reloads : oneStatement(reloads.map((r) => r.sql)).map(step(undefined))))
  } else if (plan.replica) {
    touchedOids = referencedFirst(plan.changed, plan.catalog.foreignKeys)
    const inserts: Step[] = []
    for (const oid of [...touchedOids].reverse()) {
      const t = byOid.get(oid) as TableInfo
      const keys = plan.keys?.get(oid)
      const s = keys ? keyStatements(t, plan.shadows.get(oid), keys) : plan.keys ? wholeStatements(t, plan.shadows.get(oid)) : replicaStatements(t, plan.shadows.get(oid), mark)
      body.push(...s.deletes.map(step(t)))
      inserts.push(...s.inserts.map(step(t)))
    }
    body.push(...inserts)
  } else {
    touchedOids = referencedFirst(plan.changed, plan.catalog.foreignKeys)
    body.push(...oneStatement(touchedOids.flatMap((oid) => inPlaceParts(byOid.get(oid) as TableInfo, plan.shadows.get(oid), mark))).map(step(undefined)))
  }
  const seqs = plan.sequences.length > 0 ? [`select ${plan.sequences.map((s) => `setval('${s.sql.replace(/'/g, "''")}', ${s.value}, ${s.called})`).join(', ')}`] : []
  const drops = plan.drop.map((d) => `drop table if exists ${d} cascade`)
  const tail = [...(plan.extra?.beforeCommit ?? []), 'commit', plan.extra?.afterCommit ?? 'select txid_snapshot_xmax(txid_current_snapshot())::text as mark']
  const sql = [...head, ...drops, ...asOwners(body, plan.replica && plan.asOwners !== false), ...seqs, ...tail].join(';\n')
  return { sql, touched: touchedOids.map((o) => byOid.get(o) as TableInfo) }
}
