// The application's transactions in flight on a guarded PostgreSQL database, for settle: every
// client session of this database with a transaction open (running a statement or idle inside
// one), except the guard's own (`rig-guard*`) and the test process's (told by client port).
import type { InFlight } from '../adapter.ts'
import { isLocalAddress, ownClientPorts } from '../settle/own-connections.ts'

/** One round trip; no row in the common case. */
export const IN_FLIGHT_SQL = `select pid, coalesce(application_name, '') as app, state, client_addr::text as addr, client_port as port,
    (extract(epoch from clock_timestamp() - xact_start) * 1000)::int8 as ms
  from pg_stat_activity
  where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
    and xact_start is not null and state <> 'idle' and coalesce(application_name, '') not like 'rig-guard%'`

/** A row of {@link IN_FLIGHT_SQL}. */
export interface InFlightRow {
  pid: number
  app: string
  state: string | null
  addr: string | null
  port: number | null
  ms: string | number | null
}

/** Who a session belongs to, as the message says it: its application_name, else its client address. */
function who(r: InFlightRow): string {
  if (r.app) return JSON.stringify(r.app)
  if (r.port == null || r.port < 0) return 'a local socket client'
  return `${r.addr ?? '?'}:${r.port}`
}

/**
 * The rows that are the application's (not this process's), grouped by who and state:
 * `2 active transactions from "billing"`, `1 transaction idle in transaction from 127.0.0.1:50412 (3.1 s)`.
 */
export function inFlight(rows: readonly InFlightRow[]): InFlight[] {
  if (rows.length === 0) return []
  const own = ownClientPorts()
  const groups = new Map<string, { n: number; ms: number; who: string; state: string }>()
  for (const r of rows) {
    if (r.port != null && r.port > 0 && own.has(r.port) && isLocalAddress(r.addr)) continue
    const state = r.state === 'active' ? 'active' : (r.state ?? 'open')
    const key = `${who(r)}\u0000${state}`
    const g = groups.get(key) ?? { n: 0, ms: 0, who: who(r), state }
    g.n++
    g.ms = Math.max(g.ms, Number(r.ms ?? 0))
    groups.set(key, g)
  }
  return [...groups.values()].map((g) => {
    const noun = `transaction${g.n === 1 ? '' : 's'}`
    const text = g.state === 'active' ? `${g.n} active ${noun} from ${g.who}` : `${g.n} ${noun} ${g.state} from ${g.who} (${(g.ms / 1000).toFixed(1)} s)`
    return { subject: `transactions from ${g.who}`, count: g.n, text }
  })
}

/** Rows waiting in the tables used as queues, one `select` for all (names quoted part by part). */
export function queueTablesSql(tables: readonly string[]): string {
  const quote = (name: string): string => name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.')
  return tables.map((t) => `select ${`'${t.replace(/'/g, "''")}'`}::text as t, count(*)::int8 as n from ${quote(t)}`).join('\nunion all ')
}

/** The non-empty queue tables, as work in flight. */
export function queueRows(rows: ReadonlyArray<{ t: string; n: string | number }>): InFlight[] {
  return rows.filter((r) => Number(r.n) > 0).map((r) => ({ subject: `table ${r.t}`, count: Number(r.n), text: `table ${r.t} ${r.n} row${Number(r.n) === 1 ? '' : 's'} waiting` }))
}
