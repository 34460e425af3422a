// Per-worker stores: before parallel workers start, each data store is cloned once per worker
// from its baseline content; each worker gets its own URLs as env vars; the clones are dropped
// at the end, and clones left by crashed runs are swept.
import { randomBytes } from 'node:crypto'
import { varName } from '../env/environment.ts'
import type { StoreAdapter, WorkerClone } from './adapter.ts'
import { GuardUsageError } from './errors.ts'
import { assertMayClean, grantNamed, type SafetyOptions } from './safety.ts'

/** What one worker receives. */
export interface WorkerStores {
  worker: number
  /** Store name → the URL of this worker's copy. */
  urls: Record<string, string>
  /** `RIG_<STORE>_URL` (and e.g. `RIG_<STORE>_DATABASE`) pointing at this worker's copies. */
  env: Record<string, string>
}

/** The clones of one run. */
export interface WorkerSet extends AsyncDisposable {
  runId: string
  workers: WorkerStores[]
  /** Time spent cloning, in ms. */
  ms: number
  /** Drops every clone of this run. */
  drop(): Promise<void>
}

/** Options of {@link prepareWorkers}. */
export interface PrepareWorkersOptions extends SafetyOptions {
  stores: readonly StoreAdapter[]
  count: number
  /** Tags the clones; random by default. */
  runId?: string
  /**
   * Sweep clones left by dead runs first.
   * @default true
   */
  sweep?: boolean
}

/** Clones every store `count` times. Stores without clone support are shared by all workers. */
export async function prepareWorkers(options: PrepareWorkersOptions): Promise<WorkerSet> {
  if (!Number.isInteger(options.count) || options.count < 1) throw new GuardUsageError('RIG_GUARD_BAD_WORKERS', `worker count must be a positive integer, got ${options.count}`)
  const runId = options.runId ?? randomBytes(4).toString('hex')
  const t0 = performance.now()
  for (const s of options.stores) if (s.workers) assertMayClean(s.info, options, 'clone')
  grantNamed(options.stores, options)
  if (options.sweep !== false) await sweepWorkers(options.stores)
  const cloned: WorkerClone[][] = []
  const ready: StoreAdapter[] = []
  try {
    for (const s of options.stores) {
      if (!s.workers) continue
      cloned.push(await s.workers.prepare(options.count, runId))
      ready.push(s)
    }
  } catch (err) {
    await Promise.all(ready.map((s) => s.workers?.drop(runId).catch(() => 0)))
    throw err
  }
  const workers: WorkerStores[] = Array.from({ length: options.count }, (_, i) => ({ worker: i + 1, urls: {}, env: {} }))
  for (const clone of cloned.flat()) {
    const w = workers[clone.worker - 1] as WorkerStores
    w.urls[clone.store] = clone.url
    w.env[varName(clone.store, 'URL')] = clone.url
    for (const [k, v] of Object.entries(clone.env)) w.env[varName(clone.store, k)] = v
  }
  const drop = async (): Promise<void> => {
    await Promise.all(ready.map((s) => s.workers?.drop(runId)))
  }
  return { runId, workers, ms: performance.now() - t0, drop, [Symbol.asyncDispose]: drop }
}

/**
 * Drops clones whose run is gone (or older than `maxAgeMs`) in every store. Returns how many.
 * Refuses, before dropping anything, when a store was not started by rig and not opted in.
 */
export async function sweepWorkers(stores: readonly StoreAdapter[], options: { maxAgeMs?: number } & SafetyOptions = {}): Promise<number> {
  for (const s of stores) if (s.workers) assertMayClean(s.info, options, 'drop worker copies on')
  grantNamed(stores, options)
  let n = 0
  for (const s of stores) if (s.workers) n += await s.workers.sweep(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs })
  return n
}
