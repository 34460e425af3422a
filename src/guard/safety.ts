// The one gate in front of every write the guard makes. It deletes data, copies and drops
// databases, terminates sessions: only on servers rig started, or stores the user opted in by
// name, and never in production. Stores rig did not start are still watched, read-only.
import type { StoreInfo } from './adapter.ts'
import { GuardRefusedError } from './errors.ts'

/** Options that widen what the guard may clean. */
export interface SafetyOptions {
  /**
   * Names of stores rig did not start that the guard may clean anyway (an opt-in per store).
   * @default []
   */
  allowClean?: readonly string[]
}

/** Stores opted in by name, by identity of their info: the guard that got `allowClean` grants its own stores. */
const granted = new WeakSet<StoreInfo>()

/** Throws under `NODE_ENV=production`, naming what would have been touched. */
export function assertNotProduction(targets: readonly string[]): void {
  if (process.env.NODE_ENV === 'production') {
    throw new GuardRefusedError(targets.join(', ') || '(no store)', 'NODE_ENV is "production"; the guard only runs against test data. Unset NODE_ENV to use it.')
  }
}

/**
 * Lets rig write to `store` although it did not start it: what `allowClean: [name]` does for
 * the stores of a guard (and `prepareWorkers`, `sweepWorkers`). Every later write through that
 * store object, by any caller, is then allowed.
 */
export function grantClean(store: StoreInfo): void {
  granted.add(store)
}

/** Grants the stores `options.allowClean` names. */
export function grantNamed(stores: readonly { info: StoreInfo }[], options: SafetyOptions): void {
  for (const s of stores) if ((options.allowClean ?? []).includes(s.info.name)) grantClean(s.info)
}

/** Whether the guard may write to `store`. */
export function mayClean(store: StoreInfo, options: SafetyOptions = {}): boolean {
  return store.startedByRig || granted.has(store) || (options.allowClean ?? []).includes(store.name)
}

/**
 * Throws when rig may not write to `store`, saying how to opt in. `action` says what it was
 * about to do, e.g. `save a snapshot on`. Every write of the guard's stores, snapshots and
 * per-worker copies comes here first.
 */
export function assertMayClean(store: StoreInfo, options: SafetyOptions = {}, action = 'clean'): void {
  assertNotProduction([store.target])
  if (!mayClean(store, options)) {
    throw new GuardRefusedError(
      store.target,
      `rig did not start "${store.name}", so it only watches it (leaks are reported, never cleaned). If it only holds test data, opt in with \`allowClean: ['${store.name}']\` (\`rig snapshot … --allow ${store.name}\`).`,
      action,
    )
  }
}
