import type { LeakEntry, LogErrorEntry } from '../report/model.ts'

/** What the worker records on each test (`task.meta.rig`) for the reporter. */
export interface TestMeta {
  leaks: LeakEntry[]
  restoredWith?: string
  logErrors: LogErrorEntry[]
}
