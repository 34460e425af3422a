// The guard's errors: each has a stable code and a message that says what to do next.
import { RigError } from '../errors.ts'

/** A test left data behind (mode `fail`). The message is the leak report. */
export class DataLeakError extends RigError {
  readonly test: string
  constructor(test: string, message: string) {
    super('RIG_DATA_LEAK', message)
    this.name = 'DataLeakError'
    this.test = test
  }
}

/** The guard refuses to write to a store: production, or a server rig did not start. */
export class GuardRefusedError extends RigError {
  /** The store it would have touched, e.g. `postgres://127.0.0.1:5432/app`. */
  readonly target: string
  /** `action`: what it would have done, e.g. `save a snapshot on`. */
  constructor(target: string, reason: string, action = 'clean') {
    super('RIG_GUARD_REFUSED', `rig will not ${action} ${target}: ${reason}`)
    this.name = 'GuardRefusedError'
    this.target = target
  }
}

/** A store could not be reached; the check that saw it reports this instead of blaming the test. */
export class StoreUnavailableError extends RigError {
  readonly store: string
  constructor(store: string, target: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super(
      'RIG_GUARD_STORE_UNAVAILABLE',
      `store "${store}" (${target}) went away: ${why || 'connection lost'}.\n` +
        `  the guard skips it until it answers again, then takes a fresh baseline; tests are not blamed for it.`,
      { cause },
    )
    this.name = 'StoreUnavailableError'
    this.store = store
  }
}

/** A restore could not put the store back; the message says which strategy would. */
export class GuardRestoreError extends RigError {
  readonly store: string
  /** True when the store was not touched (the failure came before any write). */
  readonly untouched: boolean
  constructor(code: string, store: string, message: string, cause?: unknown, untouched = false) {
    super(code, `store "${store}": ${message}`, { cause })
    this.name = 'GuardRestoreError'
    this.store = store
    this.untouched = untouched
  }
}

/** What one store holds after a snapshot restore that did not complete everywhere. */
export type StoreRestoreState = 'restored' | 'unchanged' | 'unknown'

/** A snapshot restore failed in some stores: says, store by store, what each holds now. */
export class SnapshotRestoreError extends RigError {
  readonly snapshot: string
  readonly stores: Readonly<Record<string, StoreRestoreState>>
  constructor(snapshot: string, outcome: ReadonlyArray<{ store: string; state: StoreRestoreState; error?: unknown }>) {
    const what: Record<StoreRestoreState, string> = {
      restored: 'restored to the snapshot',
      unchanged: 'not restored, unchanged',
      unknown: 'not restored, partly overwritten: restore it again',
    }
    const lines = outcome.map((o) => `  ${o.store}: ${what[o.state]}${o.error ? ` (${o.error instanceof Error ? o.error.message.split('\n')[0] : String(o.error)})` : ''}`)
    super(
      'RIG_SNAPSHOT_RESTORE_INCOMPLETE',
      `snapshot "${snapshot}" was not restored in every store:\n${lines.join('\n')}\n  once the cause is fixed, run \`rig snapshot restore ${snapshot}\` again: it restores every store.`,
      { cause: outcome.find((o) => o.error)?.error },
    )
    this.name = 'SnapshotRestoreError'
    this.snapshot = snapshot
    this.stores = Object.fromEntries(outcome.map((o) => [o.store, o.state]))
  }
}

/** A named snapshot does not exist. */
export class SnapshotNotFoundError extends RigError {
  constructor(name: string, store: string, available: readonly string[]) {
    super(
      'RIG_SNAPSHOT_NOT_FOUND',
      `no snapshot "${name}" for store "${store}" (available: ${available.length > 0 ? available.join(', ') : 'none'}).\n` +
        `  save one first: rig snapshot save ${name}`,
      { exitCode: 2 },
    )
    this.name = 'SnapshotNotFoundError'
  }
}

/** The guard was used in the wrong order or with bad input (check before baseline, bad names). */
export class GuardUsageError extends RigError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 2 })
    this.name = 'GuardUsageError'
  }
}

/** The application still had work in flight when the settle deadline passed. */
export class NotSettledError extends RigError {
  /** What was still moving, per store: `mq: queue billing.jobs 3 ready, 1 unacked`. */
  readonly moving: string[]
  readonly timeoutMs: number
  constructor(timeoutMs: number, moving: string[]) {
    super(
      'RIG_NOT_SETTLED',
      `not settled after ${timeoutMs} ms: ${moving.join('; ')}\n` +
        `  the application was still working when the test ended; wait for the outcome in the test (await rig.settle()), ` +
        `raise the deadline (settle: { timeoutMs }), or leave the store out (settle: { skip: ['<store>'] })`,
    )
    this.name = 'NotSettledError'
    this.moving = moving
    this.timeoutMs = timeoutMs
  }
}
