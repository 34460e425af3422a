// Readiness: run probes again and again, fast at first then backing off, until they all pass,
// the deadline passes, or something (the process exiting, Ctrl-C) aborts the wait.
import { runProbe, type Probe, type ProbeResult, type ProbeTarget } from './probe.ts'

/** Time source, injectable so the retry logic is testable with tiny intervals. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** Wall-clock time. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const t = setTimeout(done, ms)
      function done(): void {
        clearTimeout(t)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    }),
}

/** How often to retry. */
export interface Backoff {
  /** @default 5 */
  initialMs: number
  /** @default 1.3 */
  factor: number
  /** @default 25 */
  maxMs: number
}

// Capped low: a probe is cheap, and a service that became ready just after an attempt should
// not wait long for the next one (that lag adds up along a dependency chain).
export const defaultBackoff: Backoff = { initialMs: 5, factor: 1.3, maxMs: 25 }

/** What a wait ended with. */
export interface WaitOutcome {
  ok: boolean
  /** Why it stopped when not ok. */
  stoppedBy?: 'deadline' | 'aborted'
  /** The probe that was still failing (or last ran). */
  probe?: string
  attempts: number
  elapsedMs: number
  last?: ProbeResult
}

/** Options of {@link waitFor}. */
export interface WaitOptions {
  deadlineMs: number
  signal?: AbortSignal
  target?: ProbeTarget
  backoff?: Backoff
  clock?: Clock
  /** Called after each failed attempt, for live progress. */
  onAttempt?: (probe: string, attempt: number, result: ProbeResult) => void
}

/**
 * Waits until every probe passes, in order (a probe is only run once the previous ones
 * passed; a passed probe is not re-run). One deadline covers the whole wait.
 */
export async function waitFor(probes: readonly Probe[], options: WaitOptions): Promise<WaitOutcome> {
  const clock = options.clock ?? systemClock
  const backoff = options.backoff ?? defaultBackoff
  const start = clock.now()
  let attempts = 0
  let last: ProbeResult | undefined
  for (const probe of probes) {
    let delay = backoff.initialMs
    for (;;) {
      if (options.signal?.aborted) return { ok: false, stoppedBy: 'aborted', probe: probe.name, attempts, elapsedMs: clock.now() - start, ...(last ? { last } : {}) }
      const remaining = options.deadlineMs - (clock.now() - start)
      if (remaining <= 0) return { ok: false, stoppedBy: 'deadline', probe: probe.name, attempts, elapsedMs: clock.now() - start, ...(last ? { last } : {}) }
      attempts++
      last = await runProbe(probe, {
        timeoutMs: Math.max(1, Math.min(probe.timeoutMs ?? 2000, remaining)),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.target ? { target: options.target } : {}),
      })
      if (last.status !== 'fail') break
      options.onAttempt?.(probe.name, attempts, last)
      await clock.sleep(Math.min(delay, Math.max(0, options.deadlineMs - (clock.now() - start))), options.signal)
      delay = Math.min(backoff.maxMs, delay * backoff.factor)
    }
  }
  return { ok: true, attempts, elapsedMs: clock.now() - start, ...(last ? { last } : {}) }
}
