import type { BrowserErrorEntry, LeakEntry, LogErrorEntry } from '../report/model.ts'

/**
 * What the test session found about one test, carried by the adapter from the worker to the
 * node side's `RunCollector` (Vitest: `task.meta.rig`). Serialisable.
 */
export interface TestMeta {
  leaks: LeakEntry[]
  restoredWith?: string
  /** What was still moving when the settle deadline passed (first line of the message). */
  notSettled?: string
  logErrors: LogErrorEntry[]
  /** What the test did to the network (faults, partitions, the proxies' switch), put back after it. */
  faults?: string[]
  /** Services the test reached: ones that wrote to their logs during it, proxied ones that accepted a connection. */
  touched?: string[]
  /** What the test's browser pages reported (`testrig/playwright`). */
  browserErrors?: BrowserErrorEntry[]
  /** Role changes the test made (switchover, failover…); they stay after it. */
  roles?: string[]
  /** The worker slot that ran it (Vitest: VITEST_POOL_ID): tests of one slot share its stores. */
  worker?: number
}
