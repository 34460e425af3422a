// The guard deletes data. It only does so where it cannot hurt: servers rig started, or
// stores the user named, and never in production.
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

/** Throws under `NODE_ENV=production`, naming what would have been touched. */
export function assertNotProduction(targets: readonly string[]): void {
  if (process.env.NODE_ENV === 'production') {
    throw new GuardRefusedError(targets.join(', ') || '(no store)', 'NODE_ENV is "production"; the guard only runs against test data. Unset NODE_ENV to use it.')
  }
}

/** Whether the guard may write to `store`. */
export function mayClean(store: StoreInfo, options: SafetyOptions): boolean {
  return store.startedByRig || (options.allowClean ?? []).includes(store.name)
}

/** Throws when the guard may not write to `store`, saying how to opt in. */
export function assertMayClean(store: StoreInfo, options: SafetyOptions): void {
  assertNotProduction([store.target])
  if (!mayClean(store, options)) {
    throw new GuardRefusedError(store.target, `rig did not start "${store.name}". If it only holds test data, opt in with \`allowClean: ['${store.name}']\`.`)
  }
}
