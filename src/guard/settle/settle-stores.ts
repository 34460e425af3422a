// "Settled" before a check: the guard looks at every store's work in flight in rounds until one
// round finds nothing moving anywhere, or the one deadline passes. A round asks every store at
// once; a store that settled early is asked again, since work in one store (a message) becomes
// work in another (the consumer's transaction).
import { setTimeout as sleep } from 'node:timers/promises'
import { RigError } from '../../errors.ts'
import type { InFlight, StoreAdapter } from '../adapter.ts'
import { NotSettledError, StoreUnavailableError } from '../errors.ts'

/** Options of {@link settleStores} and of the guard's `settle`. */
export interface SettleOptions {
  /**
   * How long to wait for the application's work in flight, in ms; 0 turns settling off.
   * @default 2000
   */
  timeoutMs?: number
  /** Stores never waited for (by name). */
  skip?: readonly string[]
}

/** What one settle found. */
export interface SettleReport {
  settled: boolean
  /** Time spent, in ms. */
  ms: number
  /** Rounds of looks (1 when nothing was in flight). */
  rounds: number
  /** What was still moving at the last look, per store name (only stores that were). */
  moving: Record<string, InFlight[]>
  /** Set when not settled: throw it, or show its message. */
  error?: NotSettledError
  /** Problems that are not the test's fault (a store gone away): the store was not waited for. */
  errors: RigError[]
}

/** The default deadline. */
export const DEFAULT_SETTLE_MS = 2000

/** The least time a look gets, even right at the deadline: a store's last answer must be a real one. */
const LOOK_GRACE_MS = 100

/** Pauses between rounds: short first (most work in flight ends within milliseconds), then steady. */
const PAUSES_MS = [1, 2, 5, 10, 20, 25]

/** One look at a store, bounded by the deadline: a store that hangs (paused, unreachable) must not hold the test. */
async function look(store: StoreAdapter, leftMs: number): Promise<InFlight[] | 'late'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(1, leftMs))))
  const probe = store.settle!()
  probe.catch(() => {})
  try {
    return await Promise.race([probe, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits until no store has work in flight (see {@link StoreAdapter.settle}). Never throws for
 * work still moving: the report carries the error to throw. A store that fails to answer is
 * left out and named in `errors`.
 */
export async function settleStores(stores: readonly StoreAdapter[], options: SettleOptions = {}): Promise<SettleReport> {
  const t0 = performance.now()
  const timeoutMs = options.timeoutMs ?? DEFAULT_SETTLE_MS
  const skip = new Set(options.skip ?? [])
  let watched = stores.filter((s) => s.settle !== undefined && !skip.has(s.info.name))
  const report: SettleReport = { settled: true, ms: 0, rounds: 0, moving: {}, errors: [] }
  if (timeoutMs <= 0 || watched.length === 0) return report
  const deadline = t0 + timeoutMs
  // Each store's last real answer: a store late at the last look is worded by whether it ever
  // answered (busy, or not answering at all).
  const answered = new Map<StoreAdapter, InFlight[]>()
  /** The not-settled line of a store late at the last look, by store. */
  const lateLines = new Map<string, string>()
  for (let round = 0; ; round++) {
    report.rounds++
    const left = Math.max(LOOK_GRACE_MS, deadline - performance.now())
    const looks = await Promise.allSettled(watched.map((s) => look(s, left)))
    const moving: Record<string, InFlight[]> = {}
    const failed = new Set<StoreAdapter>()
    lateLines.clear()
    looks.forEach((r, i) => {
      const s = watched[i] as StoreAdapter
      const name = s.info.name
      if (r.status === 'fulfilled') {
        if (r.value !== 'late') {
          answered.set(s, r.value)
          if (r.value.length > 0) moving[name] = r.value
          return
        }
        // Late (a look waits until the deadline, so this is the last round): busy if it answered
        // before, with what it last said; otherwise it never answered at all.
        const last = answered.get(s)
        if (last === undefined) {
          moving[name] = [{ subject: 'answer', count: 1, text: 'did not answer before the deadline' }]
          return
        }
        const said = last.length > 0 ? `it last reported ${last.map((m) => m.text).join(', ')}` : 'its last answer found nothing in flight'
        lateLines.set(name, `still had work in flight at the deadline (it did not answer the last look in time; ${said})`)
        moving[name] = last.length > 0 ? last : [{ subject: 'answer', count: 1, text: 'busy: did not answer the last look in time' }]
      } else {
        failed.add(s)
        const err = r.reason as Error
        report.errors.push(err instanceof StoreUnavailableError || err instanceof RigError ? err : new RigError('RIG_SETTLE_FAILED', `store "${name}": could not tell whether it settled: ${err.message}`, { cause: err }))
      }
    })
    watched = watched.filter((s) => !failed.has(s))
    report.moving = moving
    const now = performance.now()
    if (Object.keys(moving).length === 0) break
    if (now >= deadline) {
      report.settled = false
      const kinds = new Map(stores.map((s) => [s.info.name, s.info.kind]))
      const lines = Object.entries(moving).map(([name, items]) => `${kinds.get(name)} ${name}: ${lateLines.get(name) ?? items.map((m) => m.text).join(', ')}`)
      report.error = new NotSettledError(timeoutMs, lines)
      break
    }
    await sleep(Math.min(PAUSES_MS[Math.min(round, PAUSES_MS.length - 1)] as number, deadline - now))
  }
  report.ms = performance.now() - t0
  return report
}
