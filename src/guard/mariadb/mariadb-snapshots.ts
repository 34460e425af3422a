// Named snapshots of one MariaDB/MySQL database, kept as databases on the same server
// (`rig_snap_<db>_<name>`), copied with SQL (see copy-database.ts).
import { SnapshotNotFoundError } from '../errors.ts'
import { checkSnapshotName } from '../postgres/postgres-snapshots.ts'
import { databaseName, literal, many } from './connection.ts'
import { parseTransactions } from './open-transactions.ts'
import { copyDatabase, copyMeta, dropCopy, emptyDatabase, listCopies, withMaintenance } from './copy-database.ts'

/** Snapshots of the database `db` at `url`. */
export class MariadbSnapshots {
  private readonly url: string
  private readonly store: string
  private readonly db: string

  constructor(url: string, store: string, db: string) {
    this.url = url
    this.store = store
    this.db = db
  }

  private dbFor(name: string): string {
    return databaseName('rig_snap', [this.db, name])
  }

  /** Saves the database as `name`, replacing an older snapshot of that name. */
  async save(name: string): Promise<void> {
    checkSnapshotName(name)
    await withMaintenance(this.url, (conn) => copyDatabase(conn, this.db, this.dbFor(name), { meta: copyMeta('snapshot', this.db, name) }))
  }

  /**
   * Replaces the database's tables and views by the snapshot's. The database itself (and the
   * grants on it) stays; sessions left inside a transaction on it are ended first, since the
   * tables they hold cannot be dropped under them.
   */
  async restore(name: string): Promise<void> {
    checkSnapshotName(name)
    await withMaintenance(this.url, async (conn) => {
      const snaps = (await listCopies(conn, 'snapshot')).filter((c) => c.meta.source === this.db)
      const snap = snaps.find((c) => c.meta.name === name)
      if (!snap) throw new SnapshotNotFoundError(name, this.store, snaps.map((s) => s.meta.name).filter((n) => !n.startsWith('__')))
      const [status, sessions] = await many<Record<string, unknown>>(conn, `show engine innodb status; select id from information_schema.processlist where db = ${literal(this.db)} and id <> connection_id()`)
      const here = new Set((Array.isArray(sessions) ? sessions : []).map((r) => Number(r.id)))
      const trx = parseTransactions(String((Array.isArray(status) ? status[0]?.Status : '') ?? '')).filter((t) => here.has(t.thread))
      for (const t of trx) await conn.query(`kill connection ${t.thread}`).catch(() => {})
      await emptyDatabase(conn, this.db)
      await copyDatabase(conn, snap.db, this.db, { into: true })
    })
  }

  /** Names of the user's snapshots of this database. */
  async list(): Promise<string[]> {
    return withMaintenance(this.url, async (conn) =>
      (await listCopies(conn, 'snapshot'))
        .filter((c) => c.meta.source === this.db && !c.meta.name.startsWith('__'))
        .map((c) => c.meta.name)
        .sort(),
    )
  }

  /** Drops snapshot `name`; false when there was none. */
  async drop(name: string): Promise<boolean> {
    checkSnapshotName(name)
    return withMaintenance(this.url, async (conn) => {
      const snap = (await listCopies(conn, 'snapshot')).find((c) => c.meta.source === this.db && c.meta.name === name)
      if (snap) await dropCopy(conn, snap.db)
      return snap !== undefined
    })
  }
}
