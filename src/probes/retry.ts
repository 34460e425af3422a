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
  /** Why it stopped when not ok: the deadline, an abort, or a failure retrying cannot fix. */
  stoppedBy?: 'deadline' | 'aborted' | 'permanent'
  /**
   * Whether the service was still getting somewhere: the failure changed (another reason
   * class, or an earlier probe passed) in the second half of the wait. More time may help.
   */
  progressed?: boolean
  /** An attempt ran into its own timeout: the service was there but slow to answer. */
  hung?: boolean
  /** How long the last failure had lasted unchanged (its probe and reason class), in ms. */
  sameForMs?: number
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
  // The current way of failing (probe and reason class) and since when; whether an attempt hung.
  let failing: string | undefined
  let failingSince = start
  let hung = false
  const note = (key: string): void => {
    if (key !== failing) [failing, failingSince] = [key, clock.now()]
  }
  const stopped = (stoppedBy: NonNullable<WaitOutcome['stoppedBy']>, probe: string): WaitOutcome => {
    const elapsedMs = clock.now() - start
    const sameForMs = clock.now() - failingSince
    return { ok: false, stoppedBy, probe, attempts, elapsedMs, progressed: sameForMs < elapsedMs / 2, hung, sameForMs, ...(last ? { last } : {}) }
  }
  for (const probe of probes) {
    let delay = backoff.initialMs
    for (;;) {
      if (options.signal?.aborted) return stopped('aborted', probe.name)
      const remaining = options.deadlineMs - (clock.now() - start)
      if (remaining <= 0) return stopped('deadline', probe.name)
      attempts++
      const result = await runProbe(probe, {
        timeoutMs: Math.max(1, Math.min(probe.timeoutMs ?? 2000, remaining)),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.target ? { target: options.target } : {}),
      })
      if (result.status !== 'fail') {
        last = result
        if (failing !== undefined) note(`${probe.name}:pass`)
        break
      }
      options.onAttempt?.(probe.name, attempts, result)
      // An attempt cut short by the overall deadline ("timed out after 1 ms") is no evidence:
      // the failure before it says more about the service.
      const cutShort = result.reason === 'timeout' && remaining < (probe.timeoutMs ?? 2000)
      if (!cutShort || last?.status !== 'fail') last = result
      if (result.permanent) return stopped('permanent', probe.name)
      if (!cutShort) {
        note(`${probe.name}:${result.reason ?? 'error'}`)
        // An attempt that ran into its own timeout met a service that was there but slow.
        if (result.reason === 'timeout') hung = true
      }
      await clock.sleep(Math.min(delay, Math.max(0, options.deadlineMs - (clock.now() - start))), options.signal)
      delay = Math.min(backoff.maxMs, delay * backoff.factor)
    }
  }
  return { ok: true, attempts, elapsedMs: clock.now() - start, ...(last ? { last } : {}) }
}
