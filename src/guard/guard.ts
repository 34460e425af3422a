// The runner-agnostic guard: one baseline after fixtures load, one check after each test (what
// it left behind in every store, restored at once so nothing cascades), named snapshots across
// all stores. A test-runner plugin calls baseline() once and check() after every test.
import { RigError } from '../errors.ts'
import type { Change, GuardMode, KeptData, RestoreOutcome, RestoreStrategy, StoreAdapter, StoreDiff } from './adapter.ts'
import { DataLeakError, GuardUsageError, StoreUnavailableError } from './errors.ts'
import { dropAll, listAll, restoreAll, saveAll } from './snapshot-set.ts'
import { randomBytes } from 'node:crypto'
import { fixtureNamed, fixtureSnapshot, type Fixtures, loadFixture, validateFixtures } from './fixtures.ts'
import { formatLeaks } from './format-leaks.ts'
import { assertMayClean, assertNotProduction, grantNamed, mayClean, type SafetyOptions } from './safety.ts'
import { DEFAULT_SETTLE_MS, type SettleOptions, type SettleReport, settleStores } from './settle/settle-stores.ts'

/** Options of {@link createGuard}. */
export interface GuardOptions extends SafetyOptions {
  /** The stores to watch, e.g. `[postgresStore(env.get('db')), redisStore(env.get('cache'))]` or `storesFor(env)`. */
  stores: readonly StoreAdapter[]
  /**
   * `fail`: a leak fails the test, then the store is restored; `warn`: reported, restored;
   * `clean`: restored silently; `off`: nothing is checked.
   * @default 'fail'
   */
  mode?: GuardMode
  /**
   * Restore strategy, for every store or per store name.
   * @default 'auto'
   */
  strategy?: RestoreStrategy | Readonly<Record<string, RestoreStrategy>>
  /**
   * Also save a whole-store snapshot at baseline: enables the `snapshot` strategy and lets
   * `auto` bring back a table a test dropped. Costs one database copy at baseline.
   * @default false
   */
  snapshot?: boolean
  /**
   * Named data sets for {@link Guard.useFixture}: an SQL file or a function per store, or one
   * function for all, e.g. `{ fleet: { db: 'test/fixtures/fleet.sql' } }`.
   */
  fixtures?: Fixtures
  /**
   * Keep what a failed test left: before the restore, the tables or keys it changed are copied
   * as it left them where no later check looks (PostgreSQL: schema `rig_kept_<n>`; Redis: keys
   * `rig:kept:<n>:*`), and the failure says where. A test counts as failed when
   * {@link Guard.check} is told so, or when its own leak fails it (mode `fail`). At most `max`
   * (default 10) tests' data is kept per store until {@link Guard.dropKept} (a run's start).
   * MariaDB and RabbitMQ stores keep nothing. Off by default.
   * @default false
   */
  keepOnFailure?: boolean | { max?: number }
  /**
   * Waiting for the application's work in flight before a check ({@link Guard.settle}): the
   * deadline and the stores left out; `false` never waits.
   * @default { timeoutMs: 2000 }
   */
  settle?: SettleOptions | false
  /**
   * Where relative fixture file paths start.
   * @default process.cwd()
   */
  root?: string
}

/** What one check found and did in one store. */
export interface StoreReport {
  store: string
  kind: string
  /** `drift`: only non-leak differences (an advanced sequence), restored silently. */
  status: 'clean' | 'leaked' | 'drift' | 'unavailable' | 'rebaselined'
  changes: Change[]
  /** How the store found the changes, when it has more than one way (PostgreSQL: `triggers` logged them, `count` counted table by table; Redis: `events` named the keys read, `scan` read every watched key). */
  detection?: string
  restore?: RestoreOutcome
  /** Where `keepOnFailure` kept what the test left in this store. */
  kept?: KeptData
  /** Code of the error this store hit, if any (details in {@link GuardReport.errors}). */
  error?: string
}

/** The result of {@link Guard.check}: serialisable except for the error objects. */
export interface GuardReport {
  test: string
  file?: string
  mode: GuardMode
  /** Some store holds data the test left behind. */
  leaked: boolean
  /** The test must fail: mode `fail` and a leak. */
  failed: boolean
  /** The leak message (modes `fail` and `warn`). */
  message?: string
  /** Throw this from the test runner when `failed`. */
  error?: DataLeakError
  stores: StoreReport[]
  /** Problems that are not the test's fault: a store gone away, a restore that failed. */
  errors: RigError[]
  /** Time spent checking and restoring, in ms. */
  ms: number
}

/** What the test runner knows about the test being checked. */
export interface CheckContext {
  /** The test failed on its own (an assertion, a timeout): with `keepOnFailure`, its data is kept. */
  failed?: boolean
  /** Stores whose leaks the test declared allowed (`true`: all); those do not make it fail. */
  allowed?: ReadonlySet<string> | true
}

/** Default of `keepOnFailure.max`. */
export const KEEP_MAX = 10

/** A guard over a set of stores. Create it with {@link createGuard}. */
export class Guard implements AsyncDisposable {
  readonly mode: GuardMode
  readonly stores: readonly StoreAdapter[]
  private readonly options: GuardOptions
  private readonly unavailable = new Set<string>()
  private baselined = false
  private fixtureNow: string | undefined
  /** Fixtures loaded and saved as snapshots by this guard. */
  private readonly loadedFixtures = new Set<string>()
  private baseSaved = false
  private readonly fixtureOwner = randomBytes(3).toString('hex').slice(0, 5)
  private fixtures: Fixtures | undefined
  private root: string

  /** @internal use {@link createGuard} */
  constructor(options: GuardOptions) {
    this.options = options
    this.mode = options.mode ?? 'fail'
    this.stores = options.stores
    const names = new Set<string>()
    for (const s of this.stores) {
      if (names.has(s.info.name)) throw new GuardUsageError('RIG_GUARD_DUPLICATE_STORE', `two guarded stores are named "${s.info.name}": give each a unique name`)
      names.add(s.info.name)
    }
    // The opt-in goes with the stores: their own writes (snapshots, clones) pass the gate too.
    grantNamed(this.stores, options)
    this.fixtures = options.fixtures
    this.root = options.root ?? process.cwd()
    if (options.fixtures) validateFixtures(options.fixtures, 'createGuard', [...names])
  }

  /** Declares the fixtures {@link useFixture} knows, after creation (e.g. once a config file is read). */
  setFixtures(fixtures: Fixtures, root = this.root): void {
    validateFixtures(fixtures, 'setFixtures', this.stores.map((s) => s.info.name))
    this.fixtures = fixtures
    this.root = root
  }

  /** The store called `name`. */
  store<T extends StoreAdapter = StoreAdapter>(name: string): T {
    const s = this.stores.find((x) => x.info.name === name)
    if (!s) throw new GuardUsageError('RIG_GUARD_UNKNOWN_STORE', `no guarded store "${name}" (stores: ${this.stores.map((x) => x.info.name).join(', ') || 'none'})`)
    return s as T
  }

  private writable(s: StoreAdapter): boolean {
    return mayClean(s.info, this.options)
  }

  private strategyFor(name: string): RestoreStrategy {
    const s = this.options.strategy
    return typeof s === 'string' ? s : (s?.[name] ?? 'auto')
  }

  private baselineOne(s: StoreAdapter): Promise<void> {
    const writable = this.writable(s)
    return s.baseline({ writable, snapshot: writable && this.options.snapshot === true })
  }

  /**
   * Records every store's current content as what each test must leave behind. Call it after
   * fixtures load. `shared`: baselines another process took ({@link exportBaseline}), by store
   * name; a store that still holds its shared baseline adopts it instead of taking one.
   */
  async baseline(shared?: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.mode === 'off') return
    await Promise.all(
      this.stores.map(async (s) => {
        const state = shared && Object.hasOwn(shared, s.info.name) ? shared[s.info.name] : undefined
        const writable = this.writable(s)
        if (state !== undefined && s.adoptBaseline && (await s.adoptBaseline(state, { writable, snapshot: writable && this.options.snapshot === true }))) return
        await this.baselineOne(s)
      }),
    )
    this.unavailable.clear()
    this.baselined = true
  }

  /**
   * The baselines of the stores that can hand theirs to another process, by store name: taken
   * once (e.g. in a test runner's main process), adopted by {@link baseline} elsewhere.
   */
  async exportBaseline(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {}
    for (const s of this.stores) {
      const state = this.baselined ? await s.exportBaseline?.() : undefined
      if (state !== undefined) out[s.info.name] = state
    }
    return out
  }

  /**
   * Waits until no store has work in flight: no message ready or unacknowledged in a queue the
   * application consumes, no transaction open on the application's connections. One deadline
   * for all stores; never throws for work still moving (the report carries the error). Call it
   * before {@link check}, or inside a test between one action and checks across systems.
   */
  settle(options?: SettleOptions): Promise<SettleReport> {
    return settleStores(
      this.stores.filter((s) => !this.unavailable.has(s.info.name)),
      this.settleOptions(options),
    )
  }

  /** The guard's settle options with `options` over them; a timeout of 0 when settling is off. */
  private settleOptions(options?: SettleOptions): SettleOptions {
    const own = this.options.settle
    const merged: SettleOptions = own === false ? { timeoutMs: 0, ...options } : { ...own, ...options }
    if (this.mode === 'off') merged.timeoutMs = 0
    return merged
  }

  /**
   * {@link settle}, then {@link check}, as a test runner does after each test (a test that was
   * not settled counts as failed, and the late work gets one more deadline before the check).
   * When one store alone is waited for and it can (PostgreSQL with its change log; a Redis store
   * without queues is not waited for), its settle look and its check are one step: one round
   * trip when nothing is in flight.
   */
  async settleAndCheck(test: string, file?: string, context: CheckContext = {}): Promise<{ settled: SettleReport; report: GuardReport }> {
    const fused = await this.settleInCheck()
    if (fused) return { settled: fused.settled, report: await this.checkWith(test, file, context, fused.pre) }
    const settled = await this.settle()
    if (settled.error) await this.settle()
    return { settled, report: await this.checkWith(test, file, { ...context, failed: context.failed === true || settled.error !== undefined }) }
  }

  /**
   * The settle look of the one store waited for, made with its check
   * ({@link StoreAdapter.settleDiffAndRestore}); undefined when that cannot be (more stores to
   * wait for, settling off, keepOnFailure, ...) or something was in flight: then the usual
   * settle and check follow.
   */
  private async settleInCheck(): Promise<{ settled: SettleReport; pre: Map<StoreAdapter, { diff: StoreDiff; restore?: RestoreOutcome }> } | undefined> {
    if (!this.baselined || this.options.keepOnFailure) return undefined
    const options = this.settleOptions()
    if ((options.timeoutMs ?? DEFAULT_SETTLE_MS) <= 0) return undefined
    const skip = new Set(options.skip ?? [])
    // The stores settle() would ask (a store whose look finds nothing without asking, a Redis
    // store without queues, cannot hold a round): with any other, a round looks at all at once.
    const watched = this.stores.filter((s) => s.settle !== undefined && s.settleLooks?.() !== false && !skip.has(s.info.name) && !this.unavailable.has(s.info.name))
    const only = watched.length === 1 ? watched[0] : undefined
    if (!only?.settleDiffAndRestore || !this.writable(only)) return undefined
    const t0 = performance.now()
    try {
      const r = await only.settleDiffAndRestore(this.strategyFor(only.info.name))
      if (!r || 'inFlight' in r) return undefined
      return { settled: { settled: true, ms: performance.now() - t0, rounds: 1, moving: {}, errors: [] }, pre: new Map([[only, r]]) }
    } catch {
      // The usual settle and check say what went wrong.
      return undefined
    }
  }

  /**
   * Compares every store with its baseline after test `test`, restores what changed, and says
   * whether the test leaked. Never throws for a leak: the report carries the error to throw.
   */
  check(test: string, file?: string, context: CheckContext = {}): Promise<GuardReport> {
    return this.checkWith(test, file, context)
  }

  /** {@link check}, with the stores in `pre` checked (and restored) already. */
  private async checkWith(test: string, file: string | undefined, context: CheckContext, pre?: ReadonlyMap<StoreAdapter, { diff: StoreDiff; restore?: RestoreOutcome }>): Promise<GuardReport> {
    const t0 = performance.now()
    const report: GuardReport = { test, ...(file ? { file } : {}), mode: this.mode, leaked: false, failed: false, stores: [], errors: [], ms: 0 }
    if (this.mode === 'off') return report
    if (!this.baselined) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', 'call guard.baseline() once the fixtures are loaded, before the first check()')
    report.stores = await Promise.all(this.stores.map((s) => this.checkOne(s, report.errors, test, context, pre?.get(s))))
    report.leaked = report.stores.some((s) => s.status === 'leaked')
    if (report.leaked && this.mode !== 'clean') {
      const problems = report.errors.filter((e) => !(e instanceof StoreUnavailableError)).map((e) => e.message)
      report.message = formatLeaks(test, file, report.stores, problems)
      if (this.mode === 'fail' && report.message) {
        report.failed = true
        report.error = new DataLeakError(test, report.message)
      }
    }
    report.ms = performance.now() - t0
    return report
  }

  /** Whether what `s` holds now is kept before the restore. */
  private keeps(s: StoreAdapter, leaked: boolean, context: CheckContext): boolean {
    if (!this.options.keepOnFailure || !leaked || !s.keep) return false
    const allowed = context.allowed === true || context.allowed?.has(s.info.name) === true
    return context.failed === true || (this.mode === 'fail' && !allowed)
  }

  private async keepOne(s: StoreAdapter, diff: StoreDiff, test: string, out: StoreReport, errors: RigError[]): Promise<void> {
    const k = this.options.keepOnFailure
    const max = typeof k === 'object' ? (k.max ?? KEEP_MAX) : KEEP_MAX
    try {
      out.kept = await s.keep?.(diff, { label: test, max })
    } catch (err) {
      // Not keeping is no reason not to restore: the next test must start clean all the same.
      out.kept = { note: `not kept: ${(err as Error).message}` }
      errors.push(new RigError('RIG_GUARD_KEEP_FAILED', `store "${s.info.name}": could not keep what the test left: ${(err as Error).message}`, { cause: err }))
    }
  }

  private async checkOne(s: StoreAdapter, errors: RigError[], test: string, context: CheckContext, pre?: { diff: StoreDiff; restore?: RestoreOutcome }): Promise<StoreReport> {
    const out: StoreReport = { store: s.info.name, kind: s.info.kind, status: 'clean', changes: [] }
    if (this.unavailable.has(s.info.name)) {
      // It went away during an earlier test: once it answers, start over from what it holds.
      try {
        await this.baselineOne(s)
        this.unavailable.delete(s.info.name)
        out.status = 'rebaselined'
      } catch {
        out.status = 'unavailable'
      }
      return out
    }
    try {
      // One step where the store can: nothing to keep before its restore, and it may be cleaned.
      const fused = pre ?? (s.diffAndRestore && !this.options.keepOnFailure && this.writable(s) ? await s.diffAndRestore(this.strategyFor(s.info.name)) : undefined)
      const diff = fused?.diff ?? (await s.diff())
      out.changes = diff.changes
      if (diff.detection) out.detection = diff.detection
      if (diff.changes.length === 0) return out
      out.status = diff.changes.some((c) => c.leak) ? 'leaked' : 'drift'
      if (!this.writable(s)) {
        // Watched, not cleaned: what changed is reported once, then becomes the baseline, so
        // the next test is not blamed for it.
        await this.baselineOne(s)
        if (out.status === 'leaked') assertMayClean(s.info, this.options)
        return out
      }
      if (fused?.restore) {
        out.restore = fused.restore
        return out
      }
      if (this.keeps(s, out.status === 'leaked', context)) await this.keepOne(s, diff, test, out, errors)
      out.restore = await s.restore(diff, this.strategyFor(s.info.name))
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        this.unavailable.add(s.info.name)
        out.status = 'unavailable'
      }
      const e = err instanceof RigError ? err : new RigError('RIG_GUARD_FAILED', `store "${s.info.name}": ${(err as Error).message}`, { cause: err })
      out.error = e.code
      errors.push(e)
    }
    return out
  }

  /**
   * Restores every store to its baseline without reporting (e.g. after a failed test, before the
   * next). A store rig only watches makes it throw (it may not be cleaned); with `cleanableOnly` it is
   * left as it is and the others are still put back.
   */
  async restore(options: { cleanableOnly?: boolean } = {}): Promise<RestoreOutcome[]> {
    const out: RestoreOutcome[] = []
    for (const s of this.stores) {
      if (options.cleanableOnly && !this.writable(s)) continue
      assertMayClean(s.info, this.options)
      const diff = await s.diff()
      if (diff.changes.length > 0) out.push(await s.restore(diff, this.strategyFor(s.info.name)))
    }
    return out
  }

  /** Drops what `keepOnFailure` kept in every store that keeps; returns how many sets. */
  async dropKept(): Promise<number> {
    let n = 0
    for (const s of this.stores) if (s.dropKept && this.writable(s)) n += await s.dropKept()
    return n
  }

  /** Saves every store under snapshot `name`. */
  saveSnapshot(name: string): Promise<void> {
    return saveAll(this.stores, name, this.options)
  }

  /**
   * Restores every store from snapshot `name`; it becomes the new baseline. Every store's
   * snapshot is checked before any store is touched; if a restore still fails,
   * {@link SnapshotRestoreError} says what each store holds.
   */
  restoreSnapshot(name: string): Promise<void> {
    return restoreAll(this.stores, name, this.options)
  }

  /** Snapshot names and the stores holding each. */
  listSnapshots(): Promise<Array<{ name: string; stores: string[] }>> {
    return listAll(this.stores)
  }

  /** Drops snapshot `name` from every store; false when no store had it. */
  dropSnapshot(name: string): Promise<boolean> {
    return dropAll(this.stores, name, this.options)
  }

  /** The fixture the stores hold now (set by {@link useFixture}), if any. */
  get fixture(): string | undefined {
    return this.fixtureNow
  }

  /**
   * Makes fixture `name` the baseline every later test is checked against and restored to.
   * The first use loads it (on top of what the stores held before any fixture) and saves it as
   * a snapshot; later uses restore that snapshot, so a data set is loaded once per guard.
   * {@link resetFixture} goes back to the data held before the first fixture.
   */
  async useFixture(name: string): Promise<void> {
    const def = fixtureNamed(this.fixtures, name)
    if (this.fixtureNow === name) return
    for (const s of this.stores) assertMayClean(s.info, this.options)
    if (!this.baseSaved) {
      await this.saveSnapshot(fixtureSnapshot(this.fixtureOwner, undefined))
      this.baseSaved = true
    }
    if (this.loadedFixtures.has(name)) {
      await this.restoreSnapshot(fixtureSnapshot(this.fixtureOwner, name))
    } else {
      if (this.fixtureNow !== undefined) await this.restoreSnapshot(fixtureSnapshot(this.fixtureOwner, undefined))
      this.fixtureNow = undefined
      try {
        await loadFixture(name, def, this.stores, this.root)
      } catch (err) {
        // Half a data set is worse than none: go back to what the stores held before.
        await this.restoreSnapshot(fixtureSnapshot(this.fixtureOwner, undefined)).catch(() => {})
        throw err
      }
      await this.saveSnapshot(fixtureSnapshot(this.fixtureOwner, name))
      this.loadedFixtures.add(name)
      if (this.baselined) await this.baseline()
    }
    this.fixtureNow = name
  }

  /** Goes back to the data the stores held before the first {@link useFixture}. */
  async resetFixture(): Promise<void> {
    if (this.fixtureNow === undefined) return
    await this.restoreSnapshot(fixtureSnapshot(this.fixtureOwner, undefined))
    this.fixtureNow = undefined
  }

  /** Closes every store's connections (data is left as it is) and drops the snapshots fixtures made. */
  async close(): Promise<void> {
    const internal = [...[...this.loadedFixtures].map((n) => fixtureSnapshot(this.fixtureOwner, n)), ...(this.baseSaved ? [fixtureSnapshot(this.fixtureOwner, undefined)] : [])]
    for (const name of internal) await this.dropSnapshot(name).catch(() => {})
    await Promise.all(this.stores.map((s) => s.close().catch(() => {})))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * Creates a guard. Refuses under `NODE_ENV=production`.
 *
 * @example
 * const guard = createGuard({ stores: storesFor(env) })
 * await guard.baseline()
 * // after each test:
 * const report = await guard.check('rents a car for a day', 'test/rentals.test.ts')
 * if (report.error) throw report.error
 */
export function createGuard(options: GuardOptions): Guard {
  if ((options.mode ?? 'fail') !== 'off') assertNotProduction(options.stores.map((s) => s.info.target))
  return new Guard(options)
}
