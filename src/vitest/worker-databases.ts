// `isolation: 'database'`: a clone of every guarded database per worker, prepared before the
// workers start, handed to each through its provided urls, dropped at the end.
import type { WorkerCloner } from '../guard/adapter.ts'
import type { ProvidedService } from './provided.ts'

/** Clones prepared for a run. */
export interface WorkerDatabases {
  drop(): Promise<void>
}

async function clonerFor(s: ProvidedService): Promise<WorkerCloner | undefined> {
  if (s.kind === 'postgres') {
    const { postgresWorkers } = await import('../guard/postgres/worker-clones.ts')
    return postgresWorkers(s.name, s.url)
  }
  return undefined
}

/** Prepares `workers` clones of each guarded database and records their urls on the services. */
export async function prepareWorkerDatabases(services: Record<string, ProvidedService>, workers: number, seed: number): Promise<WorkerDatabases> {
  const runId = `${process.pid}-${seed}`
  const prepared: WorkerCloner[] = []
  for (const s of Object.values(services)) {
    if (!s.guarded) continue
    const cloner = await clonerFor(s)
    if (!cloner) continue
    await cloner.sweep().catch(() => 0)
    const clones = await cloner.prepare(workers, runId)
    s.workerUrls = clones.map((c) => c.url)
    prepared.push(cloner)
  }
  return {
    async drop() {
      await Promise.all(prepared.map((c) => c.drop(runId)))
    },
  }
}
