// The restore as one SQL string, sent in one round trip and run in one transaction.
//
// With `session_replication_role = replica` (superuser) foreign-key triggers do not fire, so
// order and cycles do not matter and no cascade can reach a table the test did not touch;
// without it, statements follow foreign-key order and deferrable constraints are deferred.
import type { Catalog, TableInfo } from './catalog.ts'
import { newerThan } from './check-query.ts'
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
  /** Horizon of the last clean state, for incremental restores of seeded tables with a key. */
  mark: bigint
}

function reload(t: TableInfo, shadow: string): string {
  // OVERRIDING SYSTEM VALUE: identity columns GENERATED ALWAYS get their baseline values back.
  return `insert into ${t.sql} (${t.columns}) overriding system value select ${t.columns} from ${shadow}`
}

/** The SQL of a restore, wrapped in BEGIN/COMMIT; the tables it touches are returned too. */
export function buildRestoreSql(plan: RestorePlan): { sql: string; touched: TableInfo[] } {
  const byOid = new Map(plan.catalog.tables.map((t) => [t.oid, t]))
  const head = ['begin', plan.replica ? 'set local session_replication_role = replica' : 'set constraints all deferred']
  const deletes: string[] = []
  const inserts: string[] = []
  let touchedOids: number[]
  if (plan.strategy === 'truncate') {
    // TRUNCATE refuses a table referenced by one left out of the same command, replica or not:
    // take every referencing table along and reload the seeded ones.
    touchedOids = referencedFirst([...withReferencing(plan.changed, plan.catalog.foreignKeys)].filter((o) => byOid.has(o)), plan.catalog.foreignKeys)
    if (touchedOids.length > 0) deletes.push(`truncate ${touchedOids.map((o) => byOid.get(o)?.sql).join(', ')}`)
    for (const oid of touchedOids) {
      const shadow = plan.shadows.get(oid)
      if (shadow) inserts.push(reload(byOid.get(oid) as TableInfo, shadow))
    }
  } else {
    touchedOids = referencedFirst(plan.changed, plan.catalog.foreignKeys)
    for (const oid of [...touchedOids].reverse()) {
      const t = byOid.get(oid) as TableInfo
      const shadow = plan.shadows.get(oid)
      if (shadow && t.pk.length > 0) {
        // Incremental: drop the row versions written since the clean state, then put back the
        // baseline rows that are missing (deleted, or updated and just removed).
        deletes.push(`delete from ${t.sql} where ${newerThan(String(plan.mark))}`)
        const key = (alias: string): string => `(${t.pk.map((c) => `${alias}.${c}`).join(', ')})`
        inserts.push(`insert into ${t.sql} (${t.columns}) overriding system value select ${t.columns} from ${shadow} s where not exists (select 1 from ${t.sql} t where ${key('t')} = ${key('s')})`)
      } else {
        // No key to match rows on: empty it and reload the whole baseline.
        deletes.push(`delete from ${t.sql}`)
        if (shadow) inserts.push(reload(t, shadow))
      }
    }
  }
  const seqs = plan.sequences.map((s) => `select setval('${s.sql.replace(/'/g, "''")}', ${s.value}, ${s.called})`)
  const drops = plan.drop.map((d) => `drop table if exists ${d} cascade`)
  const sql = [...head, ...drops, ...deletes, ...inserts, ...seqs, 'commit', 'select txid_snapshot_xmax(txid_current_snapshot())::text as mark'].join(';\n')
  return { sql, touched: touchedOids.map((o) => byOid.get(o) as TableInfo) }
}
