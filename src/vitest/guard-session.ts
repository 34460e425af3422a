// Worker side of the guard: the guard core (src/guard) over every guarded service this worker
// sees, a baseline when the worker starts, and after each test a verdict that honours the
// test's `rig.allowLeak()`.
import { createGuard, type Guard } from '../guard/guard.ts'
import { formatLeaks } from '../guard/format-leaks.ts'
import type { StoreAdapter } from '../guard/adapter.ts'
import type { LeakEntry } from '../report/model.ts'
import type { ProvidedService, RigProvided } from './provided.ts'
import { workerUrl } from './runtime.ts'

/** What the guard concluded about one test. */
export interface GuardOutcome {
  leaks: LeakEntry[]
  restoredWith?: string
  /** Set when the test must fail because of its leaks (or a store that broke). */
  failMessage?: string
}

/** The guard for one worker. */
export interface GuardSession {
  check(test: { name: string; file: string }, allowed: true | Set<string>, alreadyFailed: boolean): Promise<GuardOutcome>
  close(): Promise<void>
}

async function adapterFor(s: ProvidedService, p: RigProvided): Promise<StoreAdapter | undefined> {
  const source = { name: s.name, url: workerUrl(s), provider: s.startedByRig ? 'process' : 'external' }
  if (s.kind === 'postgres') {
    const { postgresStore } = await import('../guard/postgres/postgres-store.ts')
    return postgresStore(source, { exclude: p.guard.exclude })
  }
  if (s.kind === 'redis') {
    const { redisStore } = await import('../guard/redis/redis-store.ts')
    return redisStore(source, { exclude: p.guard.exclude })
  }
  return undefined
}

/** Opens the guard over every guarded service and records the baseline; undefined when there is nothing to guard. */
export async function openGuardSession(p: RigProvided): Promise<GuardSession | undefined> {
  if (p.guard.mode === 'off') return undefined
  const stores: StoreAdapter[] = []
  for (const s of Object.values(p.services)) {
    const a = s.guarded ? await adapterFor(s, p) : undefined
    if (a) stores.push(a)
  }
  if (stores.length === 0) return undefined
  const guard: Guard = createGuard({ stores, mode: p.guard.mode, strategy: p.guard.strategy, allowClean: p.guard.allowCleaning })
  await guard.baseline()
  return {
    async check(test, allowed, alreadyFailed) {
      const report = await guard.check(test.name, test.file)
      const leaked = report.stores.filter((s) => s.status === 'leaked')
      const leaks: LeakEntry[] = leaked.map((s) => ({ store: `${s.kind} ${s.store}`, items: s.changes.filter((c) => c.leak).map((c) => c.text) }))
      const strategies = [...new Set(report.stores.flatMap((s) => (s.restore ? [s.restore.strategy] : [])))]
      const outcome: GuardOutcome = { leaks, ...(strategies.length > 0 ? { restoredWith: strategies.join(', ') } : {}) }
      // Problems that are not this test's fault (a store that went away) are still worth a failure.
      const problems = report.errors.map((e) => e.message)
      const blamed = leaked.filter((s) => !(allowed === true || allowed.has(s.store)))
      const message = formatLeaks(test.name, test.file, blamed)
      if (message && report.mode === 'fail' && !alreadyFailed) outcome.failMessage = message
      else if (message && report.mode === 'warn') process.stderr.write(`rig: warning: ${message}\n`)
      if (problems.length > 0) outcome.failMessage = [outcome.failMessage, ...problems].filter(Boolean).join('\n')
      return outcome
    },
    async close() {
      await guard.close()
    },
  }
}
