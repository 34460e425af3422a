// `isolation: 'database'`: a copy of every guarded store per worker (a PostgreSQL database
// cloned from the baseline, a Redis logical database), prepared before the workers start,
// handed to each through its provided urls, dropped at the end.
import type { WorkerCloner } from '../guard/adapter.ts'
import { loadGuardKind } from '../guard/guard-kind-list.ts'
import { varName } from '../env/environment.ts'
import { maskPassword } from '../services/credentials.ts'
import { caOf, type ProvidedService } from './provided.ts'

/** Clones prepared for a run. */
export interface WorkerDatabases {
  drop(): Promise<void>
}

async function clonerFor(s: ProvidedService): Promise<WorkerCloner | undefined> {
  const info = { name: s.name, kind: s.kind, target: maskPassword(s.url), startedByRig: s.startedByRig }
  return (await loadGuardKind(s.kind))?.workers?.(info, s.url, caOf(s).ca)
}

/** Prepares `workers` copies of each guarded store and records their urls and variables on the services. */
export async function prepareWorkerDatabases(services: Record<string, ProvidedService>, workers: number, seed: number): Promise<WorkerDatabases> {
  const runId = `${process.pid}-${seed}`
  const prepared: WorkerCloner[] = []
  await Promise.all(
    Object.values(services).map(async (s) => {
      if (!s.guarded || !s.startedByRig) return
      const cloner = await clonerFor(s)
      if (!cloner) return
      await cloner.sweep().catch(() => 0)
      const clones = await cloner.prepare(workers, runId)
      s.workerUrls = clones.map((c) => c.url)
      s.workerEnvs = clones.map((c) => Object.fromEntries(Object.entries(c.env).map(([k, v]) => [varName(s.name, k), v])))
      prepared.push(cloner)
    }),
  )
  return {
    async drop() {
      await Promise.all(prepared.map((c) => c.drop(runId)))
    },
  }
}
