// What the Playwright runner's main process shares between the config (`withRig`), the global
// setup and the reporter. A global, not a module variable: Playwright may load each of them
// through a loader of its own, so they need not share one copy of this module.
import type { PublishedRun } from '../runner/publish-run.ts'
import type { RigPlaywrightOptions } from './config.ts'

interface Slot {
  /** The options `withRig()` was given. */
  options?: RigPlaywrightOptions
  /** The run the global setup opened; kept after teardown for the reporter's `onEnd`. */
  run?: PublishedRun
}

const KEY = Symbol.for('testrig.playwright')

/** This process's slot. */
export function runSlot(): Slot {
  const g = globalThis as { [KEY]?: Slot }
  return (g[KEY] ??= {})
}
