// Transactions a test left open on the guarded database.
/**
 * Transactions left open are read from SHOW ENGINE INNODB STATUS, not information_schema.INNODB_TRX:
 * that table is a cache refreshed only when nobody read it for 100 ms, so a guard checking
 * after every test would keep seeing an old list. The sessions are matched with the
 * processlist, which tells their database and whether they sit idle.
 */
export const OPEN_TRANSACTIONS_SQL = `show engine innodb status; select id, command from information_schema.processlist where db = database() and id <> connection_id()`

/** A transaction InnoDB lists: the session (thread) running it and how long it has been open. */
export interface InnodbTransaction {
  thread: number
  activeS: number
}

/** The transactions of the `Status` text of SHOW ENGINE INNODB STATUS. */
export function parseTransactions(status: string): InnodbTransaction[] {
  const out: InnodbTransaction[] = []
  for (const block of status.split('\n---TRANSACTION ').slice(1)) {
    const thread = /(?:MariaDB|MySQL) thread id (\d+)/.exec(block)?.[1]
    if (thread) out.push({ thread: Number(thread), activeS: Number(/ACTIVE (?:\(PREPARED\) )?(\d+) sec/.exec(block)?.[1] ?? 0) })
  }
  return out
}

type Row = Record<string, unknown>

/**
 * Transactions of sessions on this database that sit idle in them: left open. A session
 * answers its last statement before the server marks it idle, so one seen busy is looked at
 * again (up to 20 ms). `own` are the guard's sessions.
 */
export async function idleTransactions(run: (sql: string) => Promise<unknown[]>, own: ReadonlySet<number | null | undefined>, innodb: Row[], sessions: Row[]): Promise<InnodbTransaction[]> {
  for (let attempt = 0; ; attempt++) {
    const trx = parseTransactions(String(innodb[0]?.Status ?? '')).filter((t) => !own.has(t.thread))
    const command = new Map(sessions.map((s) => [Number(s.id), String(s.command)]))
    const mine = trx.filter((t) => command.has(t.thread))
    if (attempt >= 4 || mine.every((t) => command.get(t.thread) === 'Sleep')) return mine.filter((t) => command.get(t.thread) === 'Sleep')
    await new Promise((r) => setTimeout(r, 5))
    ;[innodb, sessions] = (await run(OPEN_TRANSACTIONS_SQL)).map((r) => (Array.isArray(r) ? (r as Row[]) : [])) as [Row[], Row[]]
  }
}
