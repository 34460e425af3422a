// The guard's two sessions on one database: checks on one, restores on the other (the restore
// session keeps FOREIGN_KEY_CHECKS=0 and its own counters), opened on first use, reopened after
// the server went away, which callers see as StoreUnavailableError.
import type { MysqlConnection } from '../../drivers/mysql.ts'
import { StoreUnavailableError } from '../errors.ts'
import { isConnectionError, many, openGuardSession, rows } from './connection.ts'
import type { StoreInfo } from '../adapter.ts'

/** The check and restore sessions of one store. */
export class GuardSessions {
  private readonly url: string
  private readonly info: StoreInfo
  private readonly lockTimeoutS: number
  private check: MysqlConnection | undefined
  private restore: MysqlConnection | undefined
  /** Called when both sessions are dropped (the store forgets what it knew about them). */
  onReset: () => void = () => {}
  /** `mariadb` or `mysql`, known once a session is open. */
  flavor: 'mariadb' | 'mysql' = 'mariadb'

  constructor(url: string, info: StoreInfo, lockTimeoutS: number) {
    this.url = url
    this.info = info
    this.lockTimeoutS = lockTimeoutS
  }

  /** Server ids of the open sessions (never reported as someone's open transaction). */
  get threadIds(): Set<number | null | undefined> {
    return new Set([this.check?.threadId, this.restore?.threadId])
  }

  /** True while the restore session is open. */
  get restoreOpen(): boolean {
    return this.restore !== undefined
  }

  private async open(): Promise<MysqlConnection> {
    try {
      const conn = await openGuardSession(this.url, this.lockTimeoutS)
      this.flavor = /mariadb/i.test(String((await rows<{ v: string }>(conn, 'select version() as v'))[0]?.v)) ? 'mariadb' : 'mysql'
      // MySQL caches information_schema figures (AUTO_INCREMENT) for a day by default.
      if (this.flavor === 'mysql') await conn.query('SET SESSION information_schema_stats_expiry = 0')
      return conn
    } catch (err) {
      throw new StoreUnavailableError(this.info.name, this.info.target, err)
    }
  }

  /** Runs `sql` (several statements) on one of the sessions; every result is returned. */
  async run(sql: string, on: 'check' | 'restore' = 'check'): Promise<unknown[]> {
    let conn = on === 'check' ? this.check : this.restore
    if (!conn) {
      conn = await this.open()
      if (on === 'check') this.check = conn
      else this.restore = conn
    }
    try {
      return await many(conn, sql)
    } catch (err) {
      if (isConnectionError(err)) {
        await this.close()
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
      throw err
    }
  }

  /** Ends a transaction a failed restore left open. */
  async rollback(): Promise<void> {
    await this.restore?.query('rollback').catch(() => {})
  }

  async close(): Promise<void> {
    const sessions = [this.check, this.restore]
    this.check = undefined
    this.restore = undefined
    this.onReset()
    await Promise.all(sessions.map((c) => c?.end().catch(() => c.destroy())))
  }
}
