// The Redis guard adapter: keys added, removed or changed since the baseline (by pattern),
// keys left without a TTL, restored with DEL and DUMP/RESTORE. A check reads the keys that
// keyspace events named since the clean state (key-tracker.ts) where it can trust them, else
// every watched key (a scan), and says which it did.
import { connectRedis, type RedisClient } from '../../drivers/redis.ts'
import { varName } from '../../env/var-name.ts'
import type { BaselineOptions, InFlight, KeepOptions, KeptData, RestoreOutcome, RestoreStrategy, StoreAdapter, StoreDiff, StoreInfo, WorkerCloner } from '../adapter.ts'
import { GuardUsageError, StoreUnavailableError } from '../errors.ts'
import type { StoreSource } from '../postgres/postgres-store.ts'
import { BASELINE_SNAPSHOT } from '../postgres/postgres-snapshots.ts'
import { displayKey, keyArg, type KeyBytes, type KeyState, plainGlob, readKeys, restoreKey, scanKeys, watchedKeys, writeCounter } from './key-space.ts'
import { KeyTracker, type RedisDetection } from './key-tracker.ts'
import { compareKeys, type RedisInternal } from './redis-diff.ts'
import { queueDepths } from './queue-depth.ts'
import { defaultSnapshotDir, RedisSnapshots } from './redis-snapshots.ts'
import { type RedisWorkerOptions, redisWorkers, WORKER_MARKER } from './worker-dbs.ts'
import { assertMayClean } from '../safety.ts'
import { dropKeptKeys, KEPT_PATTERN, keepKeys } from './keep.ts'

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * Key patterns watched (SCAN MATCH globs).
   * @default ['*']
   */
  keys?: string | readonly string[]
  /** Key patterns never watched nor restored, e.g. `bull:*`. */
  exclude?: readonly string[]
  /** Directory for snapshot files. @default a temp dir keyed by the server's run_id */
  snapshotDir?: string
  /** Options of the per-worker key spaces. */
  workers?: RedisWorkerOptions
  /**
   * Keys the application uses as queues (lists, streams; exact names or globs): the guard waits
   * for them to drain before each check (settle). Without it, Redis is never waited for.
   */
  queues?: readonly string[]
  /**
   * How a check finds the changed keys. `events`: only the keys that keyspace notifications
   * named since the clean state are read (on a server rig did not start, rig then adds the event
   * classes to its `notify-keyspace-events`; an error where it cannot); `scan`: every watched key
   * is read and compared; `auto`: events on the servers rig starts and on servers that already
   * publish them, a scan elsewhere. Any check the events cannot vouch for scans (see
   * {@link RedisStore.detection}).
   * @default process.env.RIG_GUARD_REDIS_DETECTION ?? 'auto'
   */
  detection?: 'auto' | 'events' | 'scan'
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

/** The guard adapter of one Redis database. */
export class RedisStore implements StoreAdapter {
  readonly info: StoreInfo
  readonly workers: WorkerCloner
  readonly url: string
  private readonly ca: string | undefined
  private readonly patterns: readonly string[]
  private readonly exclude: readonly string[]
  private readonly snapshots: RedisSnapshots
  private client: RedisClient | undefined
  private base: Map<KeyBytes, KeyState> | undefined
  private baselineOptions: BaselineOptions | undefined
  private counter = ''
  private readonly queues: readonly string[]
  private readonly db: number
  private readonly detectionOption: string | undefined
  private tracker: KeyTracker | undefined
  /** Why checks scan, while they do. */
  private scanReason: string | undefined = 'no baseline yet'
  /** The tracking was lost (not refused): start it again at the next check. */
  private retrack = false
  private lastScan: string | undefined

  constructor(source: StoreSource, options: RedisStoreOptions = {}) {
    this.url = source.url
    this.ca = source.ca ?? source.env?.[varName(source.name, 'CA_CERT')]
    this.patterns = typeof options.keys === 'string' ? [options.keys] : (options.keys ?? ['*'])
    this.exclude = [...(options.exclude ?? []), WORKER_MARKER, KEPT_PATTERN]
    this.queues = options.queues ?? []
    this.info = { name: source.name, kind: 'redis', target: redact(source.url), startedByRig: source.provider === 'process' || source.provider === 'embedded' }
    const db = Number(new URL(source.url).pathname.replace(/^\//, '') || 0)
    this.db = db
    this.detectionOption = options.detection
    this.snapshots = new RedisSnapshots(source.name, async () => options.snapshotDir ?? defaultSnapshotDir(await this.session(), source.url, db))
    this.workers = redisWorkers(this.info, source.url, { ...options.workers, ...(this.ca ? { ca: this.ca } : {}) })
  }

  private async session(): Promise<RedisClient> {
    if (!this.client?.isReady) {
      destroy(this.client)
      this.client = undefined
      try {
        this.client = await connectRedis(this.url, this.ca ? { ca: this.ca } : {})
      } catch (err) {
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
    }
    return this.client
  }

  /** Runs `fn`, turning a lost connection into a {@link StoreUnavailableError}. */
  private async using<T>(fn: (c: RedisClient) => Promise<T>): Promise<T> {
    const c = await this.session()
    try {
      return await fn(c)
    } catch (err) {
      if (!c.isReady || /closed|ECONNRE|socket/i.test(String((err as Error).message))) {
        destroy(c)
        this.client = undefined
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
      throw err
    }
  }

  private readAll(c: RedisClient): Promise<Map<KeyBytes, KeyState>> {
    return scanKeys(c, this.patterns, this.exclude).then((keys) => readKeys(c, keys))
  }

  /** The option, or RIG_GUARD_REDIS_DETECTION (to compare both paths on one suite). */
  private get wanted(): 'auto' | 'events' | 'scan' {
    const v = this.detectionOption ?? process.env.RIG_GUARD_REDIS_DETECTION ?? 'auto'
    if (v === 'auto' || v === 'events' || v === 'scan') return v
    throw new GuardUsageError('RIG_GUARD_BAD_DETECTION', `store "${this.info.name}": detection ${JSON.stringify(v)} is not one of auto, events, scan (option \`detection\` or RIG_GUARD_REDIS_DETECTION)`)
  }

  /**
   * How the next check finds changes (when something was written), and why it scans when it
   * does; `lastScan`: why the last check that read keys scanned although events were tracked
   * (a FLUSHDB, a lost subscriber…), undefined when it read only the keys events named.
   */
  get detection(): { method: RedisDetection; reason?: string; lastScan?: string } {
    const last = this.lastScan ? { lastScan: this.lastScan } : {}
    return this.tracker && !this.tracker.lost ? { method: 'events', ...last } : { method: 'scan', reason: this.scanReason ?? this.tracker?.lost ?? 'no keyspace tracking', ...last }
  }

  private dropTracker(): void {
    this.tracker?.close()
    this.tracker = undefined
  }

  /**
   * Keeps (or starts) the keyspace-event tracking where the options and the server allow it,
   * and fences it: the events up to now are behind the clean state about to be read.
   */
  private async track(c: RedisClient): Promise<void> {
    const wanted = this.wanted
    let reason: string | undefined
    if (wanted === 'scan') reason = 'detection: scan'
    else if (![...this.patterns, ...this.exclude].every(plainGlob)) reason = 'a key pattern uses [ ] or a backslash, which only SCAN MATCH reads'
    else {
      if (this.tracker?.lost) this.dropTracker()
      if (!this.tracker) {
        const started = await KeyTracker.start(c, this.url, { db: this.db, configure: this.info.startedByRig || wanted === 'events', ...(this.ca ? { ca: this.ca } : {}) })
        if (typeof started === 'string') reason = started
        else this.tracker = started
      }
      const f = this.tracker ? await this.tracker.fence(c) : undefined
      if (f?.lost) {
        reason = f.lost
        this.dropTracker()
      }
    }
    if (reason) this.dropTracker()
    this.retrack = false
    this.scanReason = reason
    if (reason && wanted === 'events') {
      throw new GuardUsageError('RIG_GUARD_EVENTS_UNAVAILABLE', `store "${this.info.name}": keyspace events cannot be tracked: ${reason}. Use detection 'auto' (scans instead).`)
    }
  }

  async baseline(options: BaselineOptions): Promise<void> {
    if (options.writable && options.snapshot) assertMayClean(this.info, {}, 'write a baseline copy of')
    this.baselineOptions = options
    await this.using(async (c) => {
      // Fence, then the write counter, then the keys: a write after any of them is seen by the next check.
      await this.track(c)
      this.counter = await writeCounter(c)
      this.base = await this.readAll(c)
      if (options.snapshot && options.writable) await this.snapshots.save(c, BASELINE_SNAPSHOT)
    })
  }

  async diff(): Promise<StoreDiff> {
    const base = this.base
    if (!base) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', `store "${this.info.name}": call baseline() before diff()`)
    return this.using(async (c) => {
      // Nothing was written anywhere on the server since the clean state: nothing to read.
      if ((await writeCounter(c)) === this.counter) return { store: this.info.name, kind: 'redis', changes: [], internal: { added: [], restore: [] }, detection: this.detection.method }
      let scanBecause: string | undefined
      let fenced: Awaited<ReturnType<KeyTracker['fence']>> | undefined
      if (this.retrack) {
        // Tracking was lost: start it again; its fence is where this check's scan begins.
        await this.track(c).catch((err: unknown) => void (this.scanReason = (err as Error).message))
        scanBecause = 'the keyspace tracking was started again'
      } else if (this.tracker) {
        fenced = await this.tracker.fence(c)
        scanBecause = fenced.untracked
        if (fenced.lost) {
          // Scan now; start tracking again at the next check.
          this.dropTracker()
          this.retrack = true
        }
      } else scanBecause = this.scanReason ?? 'no keyspace tracking'
      this.lastScan = scanBecause
      if (fenced && !scanBecause) {
        // Only the keys events named: their state now against the baseline's.
        const keys = watchedKeys(fenced.keys, this.patterns, this.exclude)
        const then = new Map<KeyBytes, KeyState>()
        for (const k of keys) {
          const state = base.get(k)
          if (state) then.set(k, state)
        }
        const { changes, internal } = compareKeys(then, await readKeys(c, keys))
        // Keys left changed (not restored yet, or a watch-only store) are read again next time.
        this.tracker?.remember([...internal.added, ...internal.restore])
        return { store: this.info.name, kind: 'redis', changes, internal, detection: 'events' }
      }
      const { changes, internal } = compareKeys(base, await this.readAll(c))
      // The fence came before the scan: later events are still collected, and the keys found changed are read again next time.
      this.tracker?.remember([...internal.added, ...internal.restore])
      return { store: this.info.name, kind: 'redis', changes, internal, detection: 'scan' }
    })
  }

  async restore(diff: StoreDiff, strategy: RestoreStrategy): Promise<RestoreOutcome> {
    assertMayClean(this.info)
    if (!this.baselineOptions?.writable) throw new GuardUsageError('RIG_GUARD_READ_ONLY', `store "${this.info.name}": its baseline was taken read-only; take it again with \`writable: true\` before restoring`)
    const base = this.base as Map<KeyBytes, KeyState>
    const t0 = performance.now()
    const internal = diff.internal as RedisInternal
    return this.using(async (c) => {
      if (strategy === 'truncate' || strategy === 'snapshot') {
        // The whole database back to the baseline: FLUSHDB, then every baseline key (and what keepOnFailure kept).
        const kept = await readKeys(c, await scanKeys(c, [KEPT_PATTERN], []))
        await c.sendCommand(['FLUSHDB'])
        await Promise.all([...base, ...kept].map(([k, v]) => restoreKey(c, k, v)))
        this.counter = await writeCounter(c)
        return { strategy: strategy, touched: [`db ${new URL(this.url).pathname.slice(1) || 0}`], ms: performance.now() - t0 }
      }
      const sends: Array<Promise<unknown> | undefined> = []
      if (internal.added.length > 0) sends.push(c.sendCommand(['UNLINK', ...internal.added.map(keyArg)]))
      for (const k of internal.restore) {
        const state = base.get(k)
        if (state) sends.push(restoreKey(c, k, state))
      }
      // The counter read goes out behind the restores on the same connection: it counts them, without a round trip of its own.
      const [, counter] = await Promise.all([Promise.all(sends), writeCounter(c)])
      this.counter = counter
      const note = strategy === 'auto' ? 'only the keys that changed' : strategy === 'transaction' ? 'Redis has no transactions to roll back: deleted and restored the keys instead' : undefined
      return { strategy: 'delete', touched: [...internal.added, ...internal.restore].map(displayKey), ms: performance.now() - t0, ...(note ? { note } : {}) }
    })
  }

  async keep(diff: StoreDiff, options: KeepOptions): Promise<KeptData> {
    assertMayClean(this.info, {}, 'keep data in')
    const internal = diff.internal as RedisInternal
    // Added and changed keys as the test left them (removed ones are gone: keepKeys skips them).
    return this.using((c) => keepKeys(c, [...internal.added, ...internal.restore], options))
  }

  async dropKept(): Promise<number> {
    assertMayClean(this.info, {}, 'drop kept data in')
    return this.using((c) => dropKeptKeys(c))
  }

  async saveSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'save a snapshot of')
    await this.using((c) => this.snapshots.save(c, name))
  }

  /**
   * Runs a script of Redis commands, one per line as `redis-cli` reads them (`SET k "a b"`);
   * blank lines and lines starting with `#` are skipped. An error names the line.
   */
  async runScript(text: string): Promise<void> {
    assertMayClean(this.info, {}, 'load a fixture into')
    const lines = text.split('\n')
    await this.using(async (c) => {
      for (const [i, line] of lines.entries()) {
        const args = splitCommand(line)
        if (args.length === 0) continue
        try {
          await c.sendCommand(args)
        } catch (err) {
          throw new Error(`line ${i + 1}: ${(err as Error).message}`, { cause: err })
        }
      }
    })
  }

  async restoreSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'restore a snapshot on')
    await this.using((c) => this.snapshots.restore(c, name))
    if (this.baselineOptions) await this.baseline({ ...this.baselineOptions, snapshot: false })
  }

  async verifySnapshot(name: string): Promise<void> {
    await this.snapshots.read(name)
  }

  listSnapshots(): Promise<string[]> {
    return this.snapshots.list()
  }

  async dropSnapshot(name: string): Promise<boolean> {
    assertMayClean(this.info, {}, 'drop a snapshot of')
    return this.snapshots.drop(name)
  }

  /** Without `queues`, {@link settle} answers nothing without asking Redis. */
  settleLooks(): boolean {
    return this.queues.length > 0
  }

  /** Entries waiting in the keys named as queues (`queues`); nothing to wait for without them. */
  async settle(): Promise<InFlight[]> {
    if (this.queues.length === 0) return []
    return this.using((c) => queueDepths(c, this.queues))
  }

  async close(): Promise<void> {
    if (this.baselineOptions?.snapshot) await this.snapshots.drop(BASELINE_SNAPSHOT).catch(() => {})
    this.dropTracker()
    destroy(this.client)
    this.client = undefined
  }
}

/** Closes a client whatever its state (destroying one the server already closed throws). */
function destroy(c: RedisClient | undefined): void {
  try {
    c?.destroy()
  } catch {
    // already closed
  }
}

/**
 * A guard store for a Redis database.
 *
 * @example
 * const cache = redisStore(env.get('cache'), { keys: ['session:*', 'cart:*'] })
 */
export function redisStore(source: StoreSource, options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(source, options)
}

/** Splits a `redis-cli` style line into arguments: whitespace-separated, "double" or 'single' quotes, `#` comments. */
export function splitCommand(line: string): string[] {
  const out: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g
  const trimmed = line.trim()
  if (trimmed === '' || trimmed.startsWith('#')) return out
  for (const m of trimmed.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', t: '\t', r: '\r' })[ch] ?? ch))
    else out.push(m[2] ?? m[3] ?? '')
  }
  return out
}
