// Per-worker PostgreSQL databases: clones of the baseline database made with
// CREATE DATABASE … TEMPLATE, one per parallel worker, tagged so a later run can sweep the
// ones a crashed run left behind.
import type { StoreInfo, WorkerClone, WorkerCloner } from '../adapter.ts'
import { assertMayClean } from '../safety.ts'
import { databaseOf, withDatabase, withMaintenance } from './connection.ts'
import { copyDatabase, copyMeta, databaseName, dropDatabase, listCopies, ownerGone } from './template-db.ts'

/** Options of {@link postgresWorkers}. */
export interface PostgresWorkerOptions {
  /**
   * How PostgreSQL 15+ copies the template. `wal_log` copies block by block through the WAL;
   * `file_copy` copies files after two checkpoints, which is cheap with rig's test settings
   * (fsync off): measured about 2× faster for a small database (bench/RESULTS.md).
   * @default 'file_copy'
   */
  strategy?: 'wal_log' | 'file_copy'
  /**
   * Clones made at the same time, each from its own session. On a loaded 2-core machine 2 at
   * a time was not reliably faster per clone than 1 (bench/RESULTS.md); more cores may differ.
   * @default 1
   */
  concurrency?: number
}

/**
 * Clones the database at `url` for parallel workers. `store` says whose it is: every clone,
 * drop and sweep goes through the guard's safety gate first.
 */
export function postgresWorkers(store: StoreInfo, url: string, options: PostgresWorkerOptions = {}): WorkerCloner {
  const source = databaseOf(url)
  const strategy = options.strategy ?? 'file_copy'
  return {
    async prepare(count, runId) {
      assertMayClean(store, {}, 'clone')
      const names = Array.from({ length: count }, (_, i) => databaseName('rig_w', [source, runId, String(i + 1)]))
      const queue = names.map((name, i) => ({ name, worker: i + 1 }))
      const lanes = Math.max(1, Math.min(options.concurrency ?? 1, count))
      await Promise.all(
        Array.from({ length: lanes }, () =>
          withMaintenance(url, async (maint) => {
            for (let job = queue.shift(); job; job = queue.shift()) await copyDatabase(maint, source, job.name, copyMeta('worker', source, job.name, runId), strategy)
          }),
        ),
      )
      return names.map((name, i): WorkerClone => ({ worker: i + 1, store: store.name, url: withDatabase(url, name), env: { DATABASE: name } }))
    },
    async drop(runId) {
      assertMayClean(store, {}, 'drop worker copies on')
      return withMaintenance(url, async (maint) => {
        const mine = (await listCopies(maint, 'worker')).filter((c) => c.meta.runId === runId && c.meta.source === source)
        for (const c of mine) await dropDatabase(maint, c.db)
        return mine.length
      })
    },
    async sweep({ maxAgeMs = 24 * 3600_000 } = {}) {
      assertMayClean(store, {}, 'drop worker copies on')
      return withMaintenance(url, async (maint) => {
        const stale = (await listCopies(maint, 'worker')).filter((c) => ownerGone(c.meta) || Date.now() - Date.parse(c.meta.createdAt) > maxAgeMs)
        for (const c of stale) await dropDatabase(maint, c.db)
        return stale.length
      })
    },
  }
}
