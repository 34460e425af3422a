// The one extension point of the guard: a data store that can record a baseline, say what
// changed since, and put it back. PostgreSQL and Redis implement it in their own folders;
// MariaDB or RabbitMQ follow as one new folder each.

/** How a store is put back to its baseline. `auto` picks the cheapest safe one per check. */
export type RestoreStrategy = 'auto' | 'delete' | 'truncate' | 'snapshot' | 'transaction'

/** What the guard does after each test. */
export type GuardMode = 'fail' | 'warn' | 'clean' | 'off'

/** Who a store is and where it lives; `target` is what safety messages show. */
export interface StoreInfo {
  /** Service name, e.g. `db`. */
  name: string
  /** Store kind, e.g. `postgres`. */
  kind: string
  /** The address without credentials, e.g. `postgres://127.0.0.1:5432/app`. */
  target: string
  /** True when rig started the server; only those are cleaned without an explicit opt-in. */
  startedByRig: boolean
}

/** What kind of difference a {@link Change} is. */
export type ChangeKind = 'added' | 'removed' | 'changed' | 'created' | 'dropped' | 'no-ttl' | 'open-transaction' | 'sequence'

/** One difference between a store and its baseline. */
export interface Change {
  /** What changed: `public.rentals`, `session:*`, `pid 4242`. */
  subject: string
  kind: ChangeKind
  /** Rows, keys or objects concerned. */
  count: number
  /** False for drift that is restored but does not fail a test (an advanced sequence). */
  leak: boolean
  /** Human text for the leak message, e.g. `public.rentals +1 row`. */
  text: string
}

/** The result of comparing a store with its baseline. */
export interface StoreDiff {
  store: string
  kind: string
  changes: Change[]
  /** How the changes were found, for stores with more than one way (PostgreSQL: `triggers` or `count`; Redis: `events` or `scan`). */
  detection?: string
  /** Adapter-private details the matching `restore` needs; never serialised. */
  readonly internal?: unknown
}

/** What a restore did. */
export interface RestoreOutcome {
  /** The strategy actually used (never `auto`). */
  strategy: Exclude<RestoreStrategy, 'auto'>
  /** Tables or keys touched. */
  touched: string[]
  ms: number
  /** Why `auto` chose it, or anything the user should know. */
  note?: string
  /** Done in the check's own round trip ({@link StoreAdapter.diffAndRestore}); `ms` is then the check's and the restore's. */
  withCheck?: boolean
}

/** Where {@link StoreAdapter.keep} put what a failed test left. */
export interface KeptData {
  /** e.g. `schema rig_kept_3 (2 tables: public.job, pgboss_1a2b.job)` or `keys rig:kept:3:*`; undefined when nothing was kept. */
  where?: string
  /** Why nothing (or not everything) was kept. */
  note?: string
}

/** Options of {@link StoreAdapter.keep}. */
export interface KeepOptions {
  /** The test, recorded next to the kept data. */
  label: string
  /** How many failed tests' data one store keeps before it keeps no more (until the next run). */
  max: number
}

/** A database (or key space) cloned for one parallel worker. */
export interface WorkerClone {
  worker: number
  store: string
  /** Where the worker connects. */
  url: string
  /** Extra values the worker needs (e.g. `PREFIX` when Redis keys are prefixed), without the `RIG_<STORE>_` part. */
  env: Record<string, string>
}

/** Clones a store for parallel workers. */
export interface WorkerCloner {
  /** Creates `count` clones of the store's current content, tagged with `runId`. */
  prepare(count: number, runId: string): Promise<WorkerClone[]>
  /** Drops the clones of `runId`. */
  drop(runId: string): Promise<number>
  /** Drops clones whose owner process is gone or that are older than `maxAgeMs`. Returns how many. */
  sweep(options?: { maxAgeMs?: number }): Promise<number>
}

/** Options a store adapter receives when the guard records the baseline. */
export interface BaselineOptions {
  /** False when the guard may not write to this store (not started by rig, no opt-in): detect only. */
  writable: boolean
  /** Also save a full-copy snapshot so `snapshot` restores (and dropped tables) work. */
  snapshot: boolean
}

/** Work a store still has in flight when the guard wants to check it (see {@link StoreAdapter.settle}). */
export interface InFlight {
  /** What is moving: `queue billing.jobs`, `transactions from "billing"`. */
  subject: string
  /** How many messages, transactions or entries. */
  count: number
  /** Human text for the "not settled" message, e.g. `queue billing.jobs 3 ready, 1 unacked`. */
  text: string
}

/** A data store the guard watches. */
export interface StoreAdapter {
  readonly info: StoreInfo
  /** The store's address with credentials, for fixture functions. */
  readonly url?: string
  /** Records the current content as what every test must leave behind. */
  baseline(options: BaselineOptions): Promise<void>
  /**
   * The baseline just taken, as a serialisable value another process can
   * {@link adoptBaseline adopt}: a test runner takes it once per run in its main process
   * instead of once per test file in every worker. Absent: each process takes its own.
   */
  exportBaseline?(): Promise<unknown>
  /**
   * Makes `state` (from {@link exportBaseline}, for this store or a copy of it made after the
   * baseline) this store's baseline when the store still holds exactly that; returns false when
   * it does not (tables created, dropped or altered since, rows left behind, another shape of
   * options): take one with {@link baseline} then.
   */
  adoptBaseline?(state: unknown, options: BaselineOptions): Promise<boolean>
  /** What changed since the baseline (or the last restore). */
  diff(): Promise<StoreDiff>
  /** Puts the store back to its baseline. */
  restore(diff: StoreDiff, strategy: RestoreStrategy): Promise<RestoreOutcome>
  /**
   * {@link diff} and, where the store can, {@link restore} in the same step (one round trip):
   * the diff is the one `diff()` would return; `restore` is absent when nothing was restored,
   * and then the caller restores as usual. Only called when the store may be cleaned and
   * nothing needs to be kept before the restore.
   */
  diffAndRestore?(strategy: RestoreStrategy): Promise<{ diff: StoreDiff; restore?: RestoreOutcome }>
  /**
   * The settle look ({@link settle}) and {@link diffAndRestore} in the same step, for a store the
   * guard alone waits for (no other store has work in flight to look at): `inFlight` when the
   * application has work in flight (then nothing else was done: the guard waits and checks as
   * usual), else what `diffAndRestore` returns. Undefined when the store cannot here. Same
   * conditions as `diffAndRestore`.
   */
  settleDiffAndRestore?(strategy: RestoreStrategy): Promise<{ inFlight: InFlight[] } | { diff: StoreDiff; restore?: RestoreOutcome } | undefined>
  /** Saves the whole store under `name`, replacing an older one. */
  saveSnapshot(name: string): Promise<void>
  /** Replaces the store's content by the snapshot `name`; the baseline must be taken again after. */
  restoreSnapshot(name: string): Promise<void>
  /**
   * Throws unless snapshot `name` exists and can be restored, without touching the store: the
   * guard checks every store before restoring any. Without it, `listSnapshots` is asked.
   */
  verifySnapshot?(name: string): Promise<void>
  listSnapshots(): Promise<string[]>
  dropSnapshot(name: string): Promise<boolean>
  /** Runs a script of the store's own language (an SQL file for PostgreSQL): fixtures. */
  runScript?(text: string): Promise<void>
  /**
   * Copies what `diff` found (the tables or keys a failed test changed, as they are now) to a
   * place later checks never look at, before the restore puts the store back: `keepOnFailure`.
   */
  keep?(diff: StoreDiff, options: KeepOptions): Promise<KeptData>
  /** Drops everything {@link keep} kept; returns how many sets. A run's start calls it. */
  dropKept?(): Promise<number>
  /**
   * One look at the work the application still has in flight in this store (messages ready or
   * unacknowledged in the queues it consumes, transactions open on its own connections); empty
   * when settled. Connections of the guard and of the test process itself are not counted.
   * The guard calls it in a loop, with one deadline, before every check. Absent: never waited for.
   */
  settle?(): Promise<InFlight[]>
  /**
   * False when {@link settle} would find nothing without asking the store (a Redis store with no
   * `queues`): the guard then does not count the store among those it waits for.
   */
  settleLooks?(): boolean
  /** Per-worker clones, when the store supports them. */
  readonly workers?: WorkerCloner
  /** Closes connections; the store itself is left as is. */
  close(): Promise<void>
}
