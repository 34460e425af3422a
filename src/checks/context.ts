// What a running check can reach without being handed it: its AbortSignal and a place to
// record warnings. Helpers (expectHttp, expectPostgres…) read them from here, so a check body
// can be a one-liner and still be aborted when its timeout passes.
import { AsyncLocalStorage } from 'node:async_hooks'

/** Per-run state of one check. */
export interface CheckScope {
  signal: AbortSignal
  /** Warnings recorded by helpers or `ctx.warn()`; any turns a pass into a warn. */
  warnings: string[]
  /** Details helpers want shown on a pass, e.g. `200 in 12 ms`. */
  notes: string[]
}

const storage = new AsyncLocalStorage<CheckScope>()

/** Runs `fn` with `scope` as the current check's scope. */
export function withScope<T>(scope: CheckScope, fn: () => T): T {
  return storage.run(scope, fn)
}

/** The current check's scope, when called from inside a check. */
export function currentScope(): CheckScope | undefined {
  return storage.getStore()
}

/** The signal a helper should honour: its own option first, else the running check's. */
export function signalFor(own?: AbortSignal): AbortSignal | undefined {
  return own ?? storage.getStore()?.signal
}

/** Records a note shown with a passing result (helpers call it with what they saw). */
export function note(text: string): void {
  storage.getStore()?.notes.push(text)
}

/** Records a warning: the check still runs to the end but reports `warn`. */
export function warn(text: string): void {
  const s = storage.getStore()
  if (s) s.warnings.push(text)
  else process.emitWarning(text)
}
