// The application's work in flight on a guarded MariaDB/MySQL database, for settle: sessions on
// this database running a statement or holding a transaction open, except the guard's own and
// the test process's (told by the client port in the processlist's `host:port`).
import type { InFlight } from '../adapter.ts'
import { isLocalAddress, ownClientPorts, portOf } from '../settle/own-connections.ts'

/**
 * InnoDB's transaction list (fresh, unlike information_schema.INNODB_TRX: see
 * open-transactions.ts) and this database's sessions, in one round trip.
 */
export const IN_FLIGHT_SQL = `show engine innodb status; select id, command, host, time from information_schema.processlist where db = database() and id <> connection_id()`

type Row = Record<string, unknown>

/** Threads with an ACTIVE transaction in the `Status` text of SHOW ENGINE INNODB STATUS. */
function activeThreads(status: string): Set<number> {
  const out = new Set<number>()
  for (const block of status.split('\n---TRANSACTION ').slice(1)) {
    if (!/\bACTIVE\b/.test(block)) continue
    const thread = /(?:MariaDB|MySQL) thread id (\d+)/.exec(block)?.[1]
    if (thread) out.add(Number(thread))
  }
  return out
}

/** What is in flight, from the two results of {@link IN_FLIGHT_SQL}; `guard` are the guard's own sessions. */
export function inFlight(innodb: Row[], sessions: Row[], guard: ReadonlySet<number | null | undefined>): InFlight[] {
  const active = activeThreads(String(innodb[0]?.Status ?? ''))
  const busy = sessions.filter((s) => {
    const id = Number(s.id)
    if (guard.has(id)) return false
    return active.has(id) || /^(Query|Execute)$/.test(String(s.command))
  })
  if (busy.length === 0) return []
  const own = ownClientPorts()
  const theirs = busy.filter((s) => {
    const host = String(s.host ?? '')
    const port = portOf(host)
    return !(port !== undefined && own.has(port) && isLocalAddress(host.slice(0, host.lastIndexOf(':'))))
  })
  return theirs.map((s) => {
    const id = Number(s.id)
    const what = active.has(id) ? (String(s.command) === 'Sleep' ? `transaction open (idle, ${Number(s.time ?? 0)} s)` : 'active transaction') : 'statement running'
    return { subject: `connection ${id}`, count: 1, text: `1 ${what} from ${String(s.host ?? '?')} (connection ${id})` }
  })
}
