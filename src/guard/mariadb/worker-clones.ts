// Per-worker MariaDB/MySQL databases: copies of the baseline database (see copy-database.ts),
// one per parallel worker, recorded so a later run can sweep the ones a crashed run left.
import type { StoreInfo, WorkerClone, WorkerCloner } from '../adapter.ts'
import { assertMayClean } from '../safety.ts'
import { ownerGone } from '../postgres/template-db.ts'
import { databaseName, databaseOf, withDatabase } from './connection.ts'
import { copyDatabase, copyMeta, dropCopy, listCopies, withMaintenance } from './copy-database.ts'

/**
 * Clones the database at `url` for parallel workers. `store` says whose it is: every copy,
 * drop and sweep goes through the guard's safety gate first.
 */
export function mariadbWorkers(store: StoreInfo, url: string): WorkerCloner {
  const source = databaseOf(url)
  return {
    async prepare(count, runId) {
      assertMayClean(store, {}, 'clone')
      const names = Array.from({ length: count }, (_, i) => databaseName('rig_w', [source, runId, String(i + 1)]))
      await withMaintenance(url, async (conn) => {
        for (const name of names) await copyDatabase(conn, source, name, { meta: copyMeta('worker', source, name, runId) })
      })
      return names.map((name, i): WorkerClone => ({ worker: i + 1, store: store.name, url: withDatabase(url, name), env: { DATABASE: name } }))
    },
    async drop(runId) {
      assertMayClean(store, {}, 'drop clones of')
      return withMaintenance(url, async (conn) => {
        const mine = (await listCopies(conn, 'worker')).filter((c) => c.meta.runId === runId && c.meta.source === source)
        for (const c of mine) await dropCopy(conn, c.db)
        return mine.length
      })
    },
    async sweep({ maxAgeMs = 24 * 3600_000 } = {}) {
      assertMayClean(store, {}, 'sweep clones of')
      return withMaintenance(url, async (conn) => {
        const stale = (await listCopies(conn, 'worker')).filter((c) => ownerGone(c.meta) || Date.now() - Date.parse(c.meta.createdAt) > maxAgeMs)
        for (const c of stale) await dropCopy(conn, c.db)
        return stale.length
      })
    },
  }
}
