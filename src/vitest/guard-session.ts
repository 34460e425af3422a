// Worker side of the guard: one store adapter per guarded service, a baseline when the worker
// starts, and after each test: what changed, a verdict, and a restore so nothing cascades.
import type { StoreAdapter } from '../guard/adapter.ts'
import type { LeakEntry } from '../report/model.ts'
import type { ProvidedService, RigProvided } from './provided.ts'
import { workerUrl } from './runtime.ts'

/** What the guard concluded about one test. */
export interface GuardOutcome {
  leaks: LeakEntry[]
  restoredWith?: string
  /** Set when the test must fail because of its leaks. */
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

/** `Data left behind by "…" (file):` followed by one line per store. */
export function leakMessage(test: { name: string; file: string }, leaks: readonly LeakEntry[]): string {
  return [`Data left behind by "${test.name}" (${test.file}):`, ...leaks.map((l) => `  ${l.store}: ${l.items.join(', ')}`)].join('\n')
}

/** Opens adapters for every guarded service and records the baseline; undefined when the guard is off. */
export async function openGuardSession(p: RigProvided): Promise<GuardSession | undefined> {
  if (p.guard.mode === 'off') return undefined
  const stores: StoreAdapter[] = []
  for (const s of Object.values(p.services)) {
    if (!s.guarded) continue
    const a = await adapterFor(s, p)
    if (!a) continue
    const writable = s.startedByRig || p.guard.allowCleaning.includes(s.name)
    await a.baseline({ writable, snapshot: false })
    stores.push(a)
  }
  if (stores.length === 0) return undefined
  return {
    async check(test, allowed, alreadyFailed) {
      const leaks: LeakEntry[] = []
      const strategies = new Set<string>()
      for (const store of stores) {
        const diff = await store.diff()
        const leaking = diff.changes.filter((c) => c.leak)
        if (leaking.length > 0) leaks.push({ store: `${store.info.kind} ${store.info.name}`, items: leaking.map((c) => c.text) })
        if (diff.changes.length > 0 && p.guard.mode !== 'warn') {
          const outcome = await store.restore(diff, p.guard.strategy)
          strategies.add(outcome.strategy)
        }
      }
      const allowedHere = (l: LeakEntry): boolean => allowed === true || allowed.has(l.store.split(' ')[1] ?? '')
      const blamed = leaks.filter((l) => !allowedHere(l))
      const outcome: GuardOutcome = { leaks, ...(strategies.size > 0 ? { restoredWith: [...strategies].join(', ') } : {}) }
      if (blamed.length > 0) {
        const message = leakMessage(test, blamed)
        if (p.guard.mode === 'fail' && !alreadyFailed) outcome.failMessage = message
        else if (p.guard.mode === 'warn') process.stderr.write(`rig: warning: ${message}\n`)
      }
      return outcome
    },
    async close() {
      await Promise.all(stores.map((s) => s.close().catch(() => {})))
    },
  }
}
