// Turns the change log (keys of touched rows, counts per table) into the guard's changes and the
// keys a restore must put back. A key's first entry since the clean state tells whether the row
// existed then (inserted, or the new key of an update: no; deleted, or the old row of an update:
// yes), its last entry whether it exists now.
import type { Change } from '../adapter.ts'
import { type Catalog, type TableInfo, tablePlaces } from './catalog.ts'
import type { LogRead } from './change-log.ts'

/** A key value list, as the log recorded it (JSON values; text reads them back). */
export type KeyValues = unknown[]

interface KeyState {
  values: KeyValues
  before: boolean
  now: boolean
}

/** What one table went through since the clean state. */
export interface TableTally {
  t: TableInfo
  keys: Map<string, KeyState>
  ins: number
  upd: number
  del: number
  truncated: boolean
  /** Keys unusable (no key, not seeded, too many, a key column renamed): restore the table whole. */
  whole: boolean
}

/** Folds a read into per-table tallies. `seeded`: oids of tables with a shadow copy. */
export function tallyLog(read: LogRead, catalog: Catalog, seeded: Pick<ReadonlySet<number>, 'has'>, keyLimit: number): Map<number, TableTally> {
  const byOid = tablePlaces(catalog)
  const tallies = new Map<number, TableTally>()
  const tally = (oid: number): TableTally | undefined => {
    const t = byOid.get(oid)?.[0]
    if (!t) return undefined
    let s = tallies.get(oid)
    if (!s) tallies.set(oid, (s = { t, keys: new Map(), ins: 0, upd: 0, del: 0, truncated: false, whole: !(t.pk.length > 0 && seeded.has(oid)) }))
    return s
  }
  for (const c of read.counts) {
    const s = tally(c.rel)
    if (!s) continue
    if (c.op === 'i') s.ins += c.n
    else if (c.op === 'n' || c.op === 'u') s.upd += c.n
    else if (c.op === 'd') s.del += c.n
    else if (c.op === 't') s.truncated = true
  }
  for (const s of tallies.values()) if (s.ins + s.upd * 2 + s.del > keyLimit) s.whole = true
  for (const e of read.keys) {
    const s = tally(e.rel)
    if (!s || s.whole || s.truncated) continue
    if (!e.key || e.key.some((v) => v === null || typeof v === 'object')) {
      // A key column renamed or dropped by the test (or an array/JSON key): the rows cannot be told apart.
      s.whole = true
      continue
    }
    const id = JSON.stringify(e.key)
    const k = s.keys.get(id)
    const exists = e.op === 'i' || e.op === 'n'
    if (k) k.now = exists
    else s.keys.set(id, { values: e.key, before: e.op === 'o' || e.op === 'd', now: exists })
  }
  return tallies
}

const plural = (n: number): string => `${n} row${n === 1 ? '' : 's'}`

/** What a restore needs from a log diff. */
export interface LogRestorePlan {
  /** Oids of tables whose content differs from the baseline. */
  tables: number[]
  /** Seeded tables restored by key: oid → every key touched. Changed tables not in here are restored whole. */
  keys: Map<number, KeyValues[]>
  writtenRows: number
}

/**
 * The changes of the tallies, in catalog order. `baseRows`: rows per table at the baseline;
 * `rowsNow`: rows counted now in the tables a test truncated.
 */
export function logChanges(tallies: ReadonlyMap<number, TableTally>, catalog: Catalog, baseRows: ReadonlyMap<number, number>, rowsNow: ReadonlyMap<number, number>): { changes: Change[]; plan: LogRestorePlan } {
  const changes: Change[] = []
  const plan: LogRestorePlan = { tables: [], keys: new Map(), writtenRows: 0 }
  // The tables written to, in catalog order: a check costs what the test touched, not the schema.
  const places = tablePlaces(catalog)
  const touched: Array<[TableInfo, number]> = []
  for (const oid of tallies.keys()) {
    const place = places.get(oid)
    if (place) touched.push(place)
  }
  touched.sort((a, b) => a[1] - b[1])
  for (const [t] of touched) {
    const s = tallies.get(t.oid)
    if (!s) continue
    const before = baseRows.get(t.oid) ?? 0
    let added: number
    let removed: number
    let changed: number
    if (s.truncated) [added, removed, changed] = [rowsNow.get(t.oid) ?? 0, before, 0]
    else if (!s.whole) {
      ;[added, removed, changed] = [0, 0, 0]
      for (const k of s.keys.values()) {
        if (k.now && !k.before) added++
        else if (!k.now && k.before) removed++
        else if (k.now && k.before) changed++
      }
    } else if (before === 0) [added, removed, changed] = [Math.max(s.ins - s.del, 0), 0, 0]
    // Without keys, a deleted baseline row and a new one cancel out in the counts: call them changed.
    else [added, removed, changed] = [Math.max(s.ins - s.del, 0), Math.max(s.del - s.ins, 0), s.upd + Math.min(s.ins, s.del)]
    if (added + removed + changed === 0) continue
    plan.tables.push(t.oid)
    plan.writtenRows += added + removed + changed
    if (!s.whole && !s.truncated) plan.keys.set(t.oid, [...s.keys.values()].map((k) => k.values))
    const parts = [added > 0 ? `+${plural(added)}` : '', removed > 0 ? `-${plural(removed)}` : '', changed > 0 ? `${plural(changed)} changed` : ''].filter(Boolean)
    const kind = added > 0 ? 'added' : removed > 0 ? 'removed' : 'changed'
    changes.push({ subject: t.display, kind, count: added + removed + changed, leak: true, text: `${t.display} ${parts.join(', ')}` })
  }
  return { changes, plan }
}
