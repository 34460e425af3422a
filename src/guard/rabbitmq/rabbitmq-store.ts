// The RabbitMQ guard adapter: a vhost's queues (with ready and unacknowledged messages),
// exchanges and bindings against the baseline; restored by deleting what a test created,
// declaring what it deleted, purging queues back to their baseline messages.
import { setTimeout as sleep } from 'node:timers/promises'
import type { BaselineOptions, InFlight, RestoreOutcome, RestoreStrategy, StoreAdapter, StoreDiff, StoreInfo, WorkerCloner } from '../adapter.ts'
import { GuardUsageError, StoreUnavailableError } from '../errors.ts'
import type { StoreSource } from '../postgres/postgres-store.ts'
import { BrokerSession, type VhostImage } from './broker-session.ts'
import { converge, type ConvergePlan } from './converge.ts'
import { compareVhost } from './rabbitmq-diff.ts'
import { assertMayClean } from '../safety.ts'
import { RabbitmqSnapshots, snapshotDir } from './rabbitmq-snapshots.ts'
import { loadDefinitions } from './definitions-script.ts'
import type { VhostState } from './topology.ts'
import { rabbitmqWorkers } from './worker-vhosts.ts'

/** Options of {@link rabbitmqStore}. */
export interface RabbitmqStoreOptions {
  /** Queues and exchanges never watched nor restored (globs over their names), e.g. `celery.*`. */
  exclude?: readonly string[]
  /**
   * On a broker rig did not start, the queues to watch: without rig's agent in the broker, AMQP
   * can neither list a vhost nor count unacknowledged messages, so only these queues' ready
   * messages (and their existence) are compared.
   */
  queues?: readonly string[]
  /** Directory for snapshot files. @default the environment's dir (rig's broker), else rig's cache */
  snapshotDir?: string
}

interface RabbitInternal {
  now: VhostState
  plan: ConvergePlan
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

const LOST = /ECONNREFUSED|ECONNRESET|EPIPE/

/** Pauses before reading unacknowledged counts again (at most 75 ms, only when some grew). */
const SETTLE_MS = [5, 20, 50]

/** The guard adapter of one RabbitMQ vhost. */
export class RabbitmqStore implements StoreAdapter {
  readonly info: StoreInfo
  readonly url: string
  readonly workers: WorkerCloner
  private readonly exclude: readonly string[]
  private readonly watched: readonly string[]
  private readonly snapshots: RabbitmqSnapshots
  private session: BrokerSession | undefined
  private base: VhostImage | undefined
  private baselineOptions: BaselineOptions | undefined

  constructor(source: StoreSource, options: RabbitmqStoreOptions = {}) {
    this.url = source.url
    this.exclude = options.exclude ?? []
    this.watched = options.queues ?? []
    this.info = { name: source.name, kind: 'rabbitmq', target: redact(source.url), startedByRig: source.provider === 'process' }
    this.snapshots = new RabbitmqSnapshots(source.name, async () => snapshotDir(await this.open(), this.url, options.snapshotDir))
    this.workers = rabbitmqWorkers(this.info, source.url, { exclude: this.exclude })
  }

  private async open(): Promise<BrokerSession> {
    if (this.session?.alive) return this.session
    await this.session?.close()
    this.session = undefined
    try {
      this.session = await BrokerSession.open(this.url)
    } catch (err) {
      if ((err as { code?: string }).code === 'RIG_DRIVER_MISSING') throw err
      throw new StoreUnavailableError(this.info.name, this.info.target, err)
    }
    return this.session
  }

  /** Runs `fn` on the session, turning a lost broker into a {@link StoreUnavailableError}. */
  private async using<T>(fn: (s: BrokerSession) => Promise<T>): Promise<T> {
    const s = await this.open()
    try {
      return await fn(s)
    } catch (err) {
      if (!s.alive || LOST.test(String((err as Error).message))) {
        await s.close()
        this.session = undefined
        throw new StoreUnavailableError(this.info.name, this.info.target, err)
      }
      throw err
    }
  }

  private read(s: BrokerSession): Promise<VhostState> {
    if (!s.agent && this.watched.length === 0) {
      throw new GuardUsageError(
        'RIG_RABBITMQ_NO_AGENT',
        `store "${this.info.name}" (${this.info.target}): rig did not start this broker, so it cannot list its queues; name the ones to watch with \`queues: ['…']\``,
      )
    }
    return s.read(this.exclude, this.watched)
  }

  async baseline(options: BaselineOptions): Promise<void> {
    // Keeping the queued messages means reading and requeueing them: a write.
    if (options.writable) assertMayClean(this.info, {}, 'keep the queued messages of')
    this.baselineOptions = options
    await this.using(async (s) => {
      const state = await this.read(s)
      if (!options.writable) {
        this.base = { state, messages: new Map() }
        return
      }
      this.base = await s.capture(state)
      // Reading them marked the messages redelivered: put fresh copies back, as a restore would.
      if (this.base.messages.size > 0) await converge(s, this.base, state, { resetMessages: new Set(this.base.messages.keys()), redeclare: new Set() }, this.exclude)
    })
  }

  async diff(): Promise<StoreDiff> {
    const base = this.base
    if (!base) throw new GuardUsageError('RIG_GUARD_NO_BASELINE', `store "${this.info.name}": call baseline() before diff()`)
    return this.using(async (s) => {
      let now = await this.read(s)
      // A channel closed just before the check hands its unacknowledged messages back through
      // the broker's delegates, asynchronously: look again before blaming the test for them.
      for (const pause of SETTLE_MS) {
        if (![...now.queues.values()].some((q) => q.unacked > (base.state.queues.get(q.name)?.unacked ?? 0))) break
        await sleep(pause)
        now = await this.read(s)
      }
      const { changes, plan } = compareVhost(base.state, now)
      const internal: RabbitInternal = { now, plan }
      return { store: this.info.name, kind: 'rabbitmq', changes, internal }
    })
  }

  async restore(diff: StoreDiff, strategy: RestoreStrategy): Promise<RestoreOutcome> {
    assertMayClean(this.info)
    if (!this.baselineOptions?.writable || !this.base) throw new GuardUsageError('RIG_GUARD_READ_ONLY', `store "${this.info.name}": its baseline was taken read-only; take it again with \`writable: true\` before restoring`)
    const base = this.base
    const t0 = performance.now()
    const internal = diff.internal as RabbitInternal
    const touched = await this.using((s) => converge(s, base, internal.now, internal.plan, this.exclude))
    const note = strategy === 'transaction' ? 'RabbitMQ has no transactions to roll back: purged and declared instead' : 'purged queues back to their baseline messages; deleted or declared what changed'
    return { strategy: 'truncate', touched, ms: performance.now() - t0, note }
  }

  async saveSnapshot(name: string): Promise<void> {
    // Reading queued messages requeues them (marked redelivered): a write.
    assertMayClean(this.info, {}, 'save a snapshot of')
    await this.using(async (s) => this.snapshots.save(name, s.vhost, await s.capture(await this.read(s))))
  }

  async restoreSnapshot(name: string): Promise<void> {
    assertMayClean(this.info, {}, 'restore a snapshot on')
    const image = await this.snapshots.load(name)
    await this.using(async (s) => {
      const now = await this.read(s)
      await converge(s, image, now, { resetMessages: new Set(image.state.queues.keys()), redeclare: new Set() }, this.exclude)
    })
  }

  /** Throws unless snapshot `name` exists and can be read; touches nothing. */
  async verifySnapshot(name: string): Promise<void> {
    await this.snapshots.load(name)
  }

  listSnapshots(): Promise<string[]> {
    return this.snapshots.list()
  }

  dropSnapshot(name: string): Promise<boolean> {
    assertMayClean(this.info, {}, 'drop a snapshot of')
    return this.snapshots.drop(name)
  }

  /** Loads a JSON file of queues, exchanges, bindings and messages (see docs/guard.md): fixtures. */
  async runScript(text: string): Promise<void> {
    assertMayClean(this.info, {}, 'load a fixture into')
    await this.using((s) => loadDefinitions(s, text))
  }

  /**
   * Messages the application has yet to handle: ready in a queue someone consumes, or delivered
   * and not acknowledged yet (by a consumer, or to a basic.get without its ack). Ready messages
   * of a queue nobody consumes are not in flight: they stay, and the check reports them.
   */
  async settle(): Promise<InFlight[]> {
    return this.using(async (s) => {
      if (!s.agent && this.watched.length === 0) return []
      let state: VhostState
      try {
        state = await s.read(this.exclude, this.watched)
      } catch (err) {
        // A queue deleted while the agent read it: look again at the next round.
        if (/did not answer/.test((err as Error).message)) return [{ subject: 'vhost', count: 1, text: (err as Error).message }]
        throw err
      }
      const out: InFlight[] = []
      for (const q of state.queues.values()) {
        const ready = q.consumers > 0 ? q.ready : 0
        if (ready === 0 && q.unacked === 0) continue
        out.push({ subject: `queue ${q.name}`, count: ready + q.unacked, text: `queue ${q.name} ${q.ready} ready, ${q.unacked} unacked` })
      }
      return out
    })
  }

  async close(): Promise<void> {
    await this.session?.close()
    this.session = undefined
  }
}

/** The guard adapter of the RabbitMQ vhost at `source.url` (its path names the vhost). */
export function rabbitmqStore(source: StoreSource, options: RabbitmqStoreOptions = {}): RabbitmqStore {
  return new RabbitmqStore(source, options)
}
