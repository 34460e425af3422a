// What the faults in force mean for the connections of one endpoint: the faults that apply to
// them, folded into the few numbers the byte pump reads.
import type { Faults } from './faults.ts'

/** How the connections of one endpoint behave now. */
export interface Effect {
  /** ms added to each chunk the service sends back. */
  latency: number
  jitter: number
  /** Bytes per second per direction; 0: no limit. */
  bandwidth: number
  /** No byte moves and no new connection reaches the service (timeout, partition). */
  stall: boolean
  /** With {@link stall}: close a stalled connection after this many ms. */
  stallCloseMs: number | undefined
  reset: boolean
  closeAfter: number | undefined
}

/** Traffic as it is without faults. */
export const CLEAN: Effect = Object.freeze({ latency: 0, jitter: 0, bandwidth: 0, stall: false, stallCloseMs: undefined, reset: false, closeAfter: undefined })

/** Folds `faults` (in the order they were set: later keys win) and a partition into one effect. */
export function effectOf(faults: readonly Faults[], partitioned: boolean): Effect {
  const e: Effect = { ...CLEAN }
  for (const f of faults) {
    if (f.latency !== undefined) e.latency = f.latency
    if (f.jitter !== undefined) e.jitter = f.jitter
    if (f.bandwidth !== undefined) e.bandwidth = f.bandwidth
    if (f.timeout !== undefined) {
      e.stall = f.timeout !== false
      e.stallCloseMs = typeof f.timeout === 'number' && f.timeout > 0 ? f.timeout : undefined
    }
    if (f.reset !== undefined) e.reset = f.reset
    if (f.closeAfter !== undefined) e.closeAfter = f.closeAfter
  }
  if (partitioned) e.stall = true
  return e
}

/** True when bytes can go straight through (the fast path). */
export function isClean(e: Effect): boolean {
  return e.latency === 0 && e.jitter === 0 && e.bandwidth === 0 && !e.stall && e.closeAfter === undefined
}
