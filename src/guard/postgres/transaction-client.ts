// The `transaction` strategy: a client rig hands out to code running inside the test process.
// Everything it does happens inside one transaction and a savepoint taken before each test, so
// the restore is a ROLLBACK TO SAVEPOINT. The code's own BEGIN/COMMIT/ROLLBACK become nested
// savepoints so it cannot end rig's transaction by accident.
import type { PgClient, PgResult } from '../../drivers/pg.ts'
import { connectGuard, type ConnectOptions } from './connection.ts'

/** What tests use: `query` like a `pg` client. */
export interface GuardedPgClient {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<PgResult<R>>
  /** Backend pid of the session, so the open-transaction check can leave it alone. */
  readonly pid: number
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i
const COMMIT = /^\s*(commit|end)\b/i
const ROLLBACK = /^\s*rollback\s*;?\s*$/i

/** A session held inside a transaction, rolled back to a savepoint between tests. */
export class TransactionClient implements GuardedPgClient {
  readonly pid: number
  private readonly client: PgClient
  private depth = 0

  private constructor(client: PgClient, pid: number) {
    this.client = client
    this.pid = pid
  }

  /** Opens the session and its transaction. */
  static async open(url: string, connect: ConnectOptions = {}): Promise<TransactionClient> {
    const client = await connectGuard(url, connect)
    const r = await client.query<{ pid: number }>(`set application_name = 'rig-guard-tx'; select pg_backend_pid() as pid`)
    const rows = (Array.isArray(r) ? (r as PgResult<{ pid: number }>[]).at(-1)?.rows : r.rows) ?? []
    await client.query('begin; savepoint rig_test')
    return new TransactionClient(client, Number(rows[0]?.pid))
  }

  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<PgResult<R>> {
    if (BEGIN.test(sql)) return this.client.query<R>(`savepoint rig_user_${++this.depth}`)
    if (COMMIT.test(sql) && this.depth > 0) return this.client.query<R>(`release savepoint rig_user_${this.depth--}`)
    if (ROLLBACK.test(sql) && this.depth > 0) {
      const n = this.depth--
      return this.client.query<R>(`rollback to savepoint rig_user_${n}; release savepoint rig_user_${n}`)
    }
    if ((COMMIT.test(sql) || ROLLBACK.test(sql)) && this.depth === 0) return Promise.resolve({ rows: [], rowCount: null })
    return this.client.query<R>(sql, params)
  }

  /** Runs the guard's own statements in this session (it sees the uncommitted rows). */
  raw<R = Record<string, unknown>>(statement: { name: string; text: string; values: readonly unknown[] }): Promise<PgResult<R>> {
    return this.client.query<R>(statement)
  }

  /** Undoes everything since the last savepoint. */
  async rollback(): Promise<void> {
    this.depth = 0
    await this.client.query('rollback to savepoint rig_test')
  }

  async close(): Promise<void> {
    await this.client.query('rollback').catch(() => {})
    await this.client.end().catch(() => {})
  }
}
