// Named snapshots of one PostgreSQL database, kept as template databases on the same server
// (`rig_snap_<db>_<name>`): saving and restoring cost one file-level copy each.
import type { PgClient } from '../../drivers/pg.ts'
import { GuardRestoreError, GuardUsageError, SnapshotNotFoundError } from '../errors.ts'
import { databaseOf, withMaintenance } from './connection.ts'
import { copyDatabase, copyMeta, databaseName, dropDatabase, listCopies } from './template-db.ts'

/** The snapshot the `snapshot` strategy restores; internal names start with `__`. */
export const BASELINE_SNAPSHOT = '__baseline'

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/
const INTERNAL = /^__[A-Za-z0-9_-]{1,38}$/

/** Validates a user-given snapshot name (internal ones, `__…`, are allowed). */
export function checkSnapshotName(name: string): void {
  if (!INTERNAL.test(name) && !NAME.test(name)) {
    throw new GuardUsageError('RIG_SNAPSHOT_BAD_NAME', `snapshot name ${JSON.stringify(name)} is not valid: use 1–40 letters, digits, "-" or "_", starting with a letter or digit`)
  }
}

/** Snapshots of the database at `url`. */
export class PgSnapshots {
  private readonly url: string
  private readonly store: string
  private readonly db: string
  /** Closes the guard's own session: a copy needs the database to itself. */
  private readonly release: () => Promise<void>

  constructor(url: string, store: string, release: () => Promise<void>) {
    this.url = url
    this.store = store
    this.db = databaseOf(url)
    this.release = release
  }

  private dbFor(name: string): string {
    return databaseName('rig_snap', [this.db, name])
  }

  /** Saves the database as `name`, replacing an older snapshot of that name. */
  async save(name: string): Promise<void> {
    checkSnapshotName(name)
    await this.release()
    await withMaintenance(this.url, async (maint) => {
      const target = this.dbFor(name)
      await dropDatabase(maint, target)
      await copyDatabase(maint, this.db, target, copyMeta('snapshot', this.db, name))
    })
  }

  private async find(maint: PgClient, name: string): Promise<string> {
    const snaps = (await listCopies(maint, 'snapshot')).filter((c) => c.meta.source === this.db)
    const snap = snaps.find((c) => c.meta.name === name)
    if (!snap) throw new SnapshotNotFoundError(name, this.store, snaps.map((s) => s.meta.name).filter((n) => !n.startsWith('__')))
    return snap.db
  }

  /** Throws unless snapshot `name` exists; touches nothing. */
  async verify(name: string): Promise<void> {
    checkSnapshotName(name)
    await withMaintenance(this.url, (maint) => this.find(maint, name))
  }

  /**
   * Replaces the database by the snapshot. The copy is made under a temporary name first and
   * swapped in by renames, so a failed copy never leaves the database missing.
   */
  async restore(name: string): Promise<void> {
    checkSnapshotName(name)
    await this.release()
    await withMaintenance(this.url, async (maint) => {
      const incoming = databaseName('rig_tmp', [this.db, name])
      try {
        const snap = await this.find(maint, name)
        await dropDatabase(maint, incoming)
        await copyDatabase(maint, snap, incoming, { ...copyMeta('snapshot', this.db, `${name} (restoring)`), rig: 'snapshot' })
        await maint.query(`comment on database "${incoming.replace(/"/g, '""')}" is null`)
      } catch (err) {
        if (err instanceof SnapshotNotFoundError) throw err
        // Nothing of the database was touched yet.
        throw new GuardRestoreError('RIG_SNAPSHOT_RESTORE_FAILED', this.store, `could not copy snapshot "${name}": ${(err as Error).message}`, err, true)
      }
      await dropDatabase(maint, this.db)
      await maint.query(`alter database "${incoming.replace(/"/g, '""')}" rename to "${this.db.replace(/"/g, '""')}"`)
    })
  }

  /** Names of the user's snapshots of this database. */
  async list(): Promise<string[]> {
    return withMaintenance(this.url, async (maint) =>
      (await listCopies(maint, 'snapshot'))
        .filter((c) => c.meta.source === this.db && !c.meta.name.startsWith('__'))
        .map((c) => c.meta.name)
        .sort(),
    )
  }

  /** Drops snapshot `name`; false when there was none. */
  async drop(name: string): Promise<boolean> {
    checkSnapshotName(name)
    return withMaintenance(this.url, async (maint) => {
      const snap = (await listCopies(maint, 'snapshot')).find((c) => c.meta.source === this.db && c.meta.name === name)
      if (snap) await dropDatabase(maint, snap.db)
      return snap !== undefined
    })
  }
}
