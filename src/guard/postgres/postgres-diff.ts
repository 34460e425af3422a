// Turns the check's rows into changes, comparing them with the baseline.
import type { Change } from '../adapter.ts'
import type { Catalog } from './catalog.ts'
import type { CheckRow } from './check-query.ts'

/** Baseline figures the check is compared with. */
export interface PgBaseline {
  /** Rows per table oid. */
  rows: Map<number, number>
  /** `last_value/is_called` per sequence oid. */
  sequences: Map<number, string>
  /** Count and oid sum of user tables. */
  catalog: string
}

/** What the check saw, parsed. */
export interface CheckResult {
  /** Per table oid: count now and rows written since the clean state. */
  tables: Map<number, { rows: number; written: number }>
  sequences: Map<number, string>
  catalog: string
  /** pid → ms the transaction has been open. */
  openTransactions: Map<number, number>
  /** The transaction horizon now; equal to the mark when nothing was written since. */
  horizon: bigint
}

/** Parses the rows of the check statement built for `catalog`. */
export function parseCheck(rows: readonly CheckRow[], catalog: Catalog): CheckResult {
  const out: CheckResult = { tables: new Map(), sequences: new Map(), catalog: '', openTransactions: new Map(), horizon: -1n }
  for (const r of rows) {
    const i = Number(r.i)
    if (r.k === 't') {
      const t = catalog.tables[i]
      if (t) out.tables.set(t.oid, { rows: Number(r.a), written: Number(r.b) })
    } else if (r.k === 's') {
      const s = catalog.sequences[i]
      if (s) out.sequences.set(s.oid, `${r.a}/${r.b}`)
    } else if (r.k === 'c') out.catalog = `${r.a}/${r.b}`
    else if (r.k === 'x') out.openTransactions.set(i, Number(r.a))
    else if (r.k === 'm') out.horizon = BigInt(r.a ?? -1)
  }
  return out
}

const rows = (n: number): string => `${n} row${n === 1 ? '' : 's'}`

/** The per-table and per-sequence changes; returns the oids of changed tables and sequences too. */
export function compare(
  now: CheckResult,
  base: PgBaseline,
  catalog: Catalog,
): { changes: Change[]; tables: number[]; sequences: number[]; writtenRows: number } {
  const changes: Change[] = []
  const tables: number[] = []
  const sequences: number[] = []
  let writtenRows = 0
  for (const t of catalog.tables) {
    // No row for a table: the scan was skipped because nothing was written since the mark.
    const seen = now.tables.get(t.oid)
    if (!seen) continue
    const before = base.rows.get(t.oid) ?? 0
    const delta = seen.rows - before
    const added = Math.max(delta, 0)
    const removed = Math.max(-delta, 0)
    // Rows written since the clean state that are not explained by the growth were updated
    // (or deleted and re-inserted): seeded content changed.
    const changed = before === 0 ? 0 : Math.max(seen.written - added, 0)
    if (added + removed + changed === 0) continue
    tables.push(t.oid)
    writtenRows += added + removed + changed
    const parts = [added > 0 ? `+${rows(added)}` : '', removed > 0 ? `-${rows(removed)}` : '', changed > 0 ? `${rows(changed)} changed` : ''].filter(Boolean)
    const kind = added > 0 ? 'added' : removed > 0 ? 'removed' : 'changed'
    changes.push({ subject: t.display, kind, count: added + removed + changed, leak: true, text: `${t.display} ${parts.join(', ')}` })
  }
  for (const s of catalog.sequences) {
    const v = now.sequences.get(s.oid)
    if (v === undefined || v === base.sequences.get(s.oid)) continue
    sequences.push(s.oid)
    // An advanced sequence is drift, not data: restored, but it fails no test.
    changes.push({ subject: s.display, kind: 'sequence', count: 1, leak: false, text: `${s.display} advanced` })
  }
  for (const [pid, ms] of now.openTransactions) {
    changes.push({ subject: `pid ${pid}`, kind: 'open-transaction', count: 1, leak: true, text: `transaction left open (pid ${pid}, ${(ms / 1000).toFixed(1)} s)` })
  }
  return { changes, tables, sequences, writtenRows }
}
