// Named snapshots across every store of a guard at once: saved together, restored all or
// nothing as far as can be checked beforehand, and when a restore still fails midway, an error
// that says what each store holds.
import type { StoreAdapter } from './adapter.ts'
import { GuardRestoreError, SnapshotNotFoundError, SnapshotRestoreError } from './errors.ts'
import { assertMayClean, type SafetyOptions } from './safety.ts'

/** Throws unless `store` holds snapshot `name` in a state it can restore. */
async function verify(store: StoreAdapter, name: string): Promise<void> {
  if (store.verifySnapshot) return store.verifySnapshot(name)
  const names = await store.listSnapshots()
  if (!names.includes(name)) throw new SnapshotNotFoundError(name, store.info.name, names)
}

/** Saves every store under snapshot `name`; refuses before saving any when one may not be written. */
export async function saveAll(stores: readonly StoreAdapter[], name: string, options: SafetyOptions): Promise<void> {
  for (const s of stores) assertMayClean(s.info, options, 'save a snapshot on')
  await Promise.all(stores.map((s) => s.saveSnapshot(name)))
}

/**
 * Restores every store from snapshot `name`. Every store's snapshot must exist and be
 * readable before any store is touched; if a restore fails anyway, {@link SnapshotRestoreError}
 * says which stores were restored, which are unchanged and which are partly overwritten.
 */
export async function restoreAll(stores: readonly StoreAdapter[], name: string, options: SafetyOptions): Promise<void> {
  for (const s of stores) assertMayClean(s.info, options, 'restore a snapshot on')
  await Promise.all(stores.map((s) => verify(s, name)))
  const results = await Promise.allSettled(stores.map((s) => s.restoreSnapshot(name)))
  if (results.every((r) => r.status === 'fulfilled')) return
  throw new SnapshotRestoreError(
    name,
    results.map((r, i) => {
      const store = (stores[i] as StoreAdapter).info.name
      if (r.status === 'fulfilled') return { store, state: 'restored' }
      const untouched = r.reason instanceof GuardRestoreError && r.reason.untouched
      return { store, state: untouched ? 'unchanged' : 'unknown', error: r.reason }
    }),
  )
}

/** Snapshot names and the stores holding each. */
export async function listAll(stores: readonly StoreAdapter[]): Promise<Array<{ name: string; stores: string[] }>> {
  const byName = new Map<string, string[]>()
  for (const s of stores) for (const n of await s.listSnapshots()) byName.set(n, [...(byName.get(n) ?? []), s.info.name])
  return [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([n, holders]) => ({ name: n, stores: holders }))
}

/** Drops snapshot `name` from every store; false when no store had it. */
export async function dropAll(stores: readonly StoreAdapter[], name: string, options: SafetyOptions): Promise<boolean> {
  for (const s of stores) assertMayClean(s.info, options, 'drop a snapshot on')
  const dropped = await Promise.all(stores.map((s) => s.dropSnapshot(name)))
  return dropped.some(Boolean)
}
