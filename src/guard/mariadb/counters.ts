// The cheap half of a check: has anything been written at all? The server's own counters say
// so. Handler_write/update/delete count every row operation of every engine (attempts too, so
// a failed INSERT that used up an auto-increment value counts); the Com_* counters count DDL.
// They never go down while the server runs, and reading them writes nothing. Equal counters
// mean nothing was written since the mark, and the check stops after one round trip.
//
// They are server-wide: a write to another database (another worker's copy) only costs a full
// check, never a missed leak.

/** Counters compared with the mark. */
export const WRITE_COUNTERS = ['Handler_write', 'Handler_update', 'Handler_delete'] as const
/** DDL counters: after one of these, the catalog and the per-table counters are read again in full. */
export const DDL_COUNTERS = ['Com_create_table', 'Com_drop_table', 'Com_alter_table', 'Com_rename_table', 'Com_truncate', 'Com_create_index', 'Com_drop_index', 'Com_analyze', 'Com_optimize', 'Com_repair'] as const

const ALL = [...WRITE_COUNTERS, ...DDL_COUNTERS]

/** Counter name → value. */
export type Counters = Record<string, bigint>

/** `SHOW GLOBAL|SESSION STATUS` limited to the counters above. */
export function statusSql(scope: 'global' | 'session'): string {
  return `show ${scope} status where variable_name in (${ALL.map((n) => `'${n}'`).join(', ')})`
}

/** Parses the rows of {@link statusSql}. */
export function parseCounters(rows: readonly Record<string, unknown>[]): Counters {
  const out: Counters = {}
  for (const r of rows) {
    const name = String(r.Variable_name ?? r.VARIABLE_NAME ?? '')
    const key = ALL.find((n) => n.toLowerCase() === name.toLowerCase())
    if (key) out[key] = BigInt(String(r.Value ?? r.VARIABLE_VALUE ?? 0))
  }
  return out
}

/** True when every counter is equal. */
export function sameCounters(a: Counters, b: Counters): boolean {
  return ALL.every((n) => (a[n] ?? 0n) === (b[n] ?? 0n))
}

/** True when a DDL counter moved. */
export function ddlMoved(a: Counters, b: Counters): boolean {
  return DDL_COUNTERS.some((n) => (a[n] ?? 0n) !== (b[n] ?? 0n))
}

/** `after - before` per counter. */
export function delta(after: Counters, before: Counters): Counters {
  return Object.fromEntries(ALL.map((n) => [n, (after[n] ?? 0n) - (before[n] ?? 0n)]))
}
