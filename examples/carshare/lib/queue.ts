// The billing queue, in three implementations behind the same small interfaces:
//
// - `rabbitmq` (the default when rabbitmq-server is installed): rental events on a topic
//   exchange, consumed by billing (lib/rabbitmq-queue.ts).
// - `redis` (the fallback when redis-server is installed): a Redis list. The API pushes on the
//   left; the worker moves jobs from the right into a "processing" list (BLMOVE) and removes
//   them once charged, so a worker killed mid-job gets its job back on the next start.
// - `postgres` (no Redis needed): the `billing_jobs` table (migration 0003). The API inserts
//   the job in the transaction that writes the rental, so both exist or neither does. The
//   worker polls: it takes the oldest job with `SELECT … FOR UPDATE SKIP LOCKED` inside a
//   transaction, charges the rental in that same transaction and deletes the job before
//   committing; a worker killed mid-job leaves its transaction to be rolled back, and the job
//   is taken again. Polling rather than LISTEN/NOTIFY: on the embedded PGlite every
//   connection shares one session, and a notification reaches whichever connection happens
//   to be running a query, not the one listening.
//
// Both deliver a job at least once; charging is idempotent (one payment per rental).
import type pg from 'pg'
import { checkOut, type CheckedOut } from './pg-checkout.ts'
import { createClient } from 'redis'

export type QueueKind = 'rabbitmq' | 'redis' | 'postgres'

export const BILLING_QUEUE = 'carshare:billing:queue'
export const BILLING_PROCESSING = 'carshare:billing:processing'
export const BILLING_JOBS_TABLE = 'billing_jobs'

/** What the API enqueues for every new rental. */
export interface BillingJob {
  rentalId: string
  /** ISO timestamp. */
  enqueuedAt: string
  /** Who rents (the worker's demo behaviour keys on it). */
  customer?: string
}

export function encodeJob(job: BillingJob): string {
  return JSON.stringify(job)
}

export function decodeJob(raw: string): BillingJob {
  const v = JSON.parse(raw) as Partial<BillingJob>
  if (typeof v.rentalId !== 'string' || v.rentalId === '') throw new Error(`malformed billing job: ${raw.slice(0, 200)}`)
  return { rentalId: v.rentalId, enqueuedAt: String(v.enqueuedAt ?? ''), ...(typeof v.customer === 'string' ? { customer: v.customer } : {}) }
}

/** The `QUEUE` env var of the API and the worker: `redis` (default), `rabbitmq` or `postgres`. */
export function parseQueueKind(value: string | undefined): QueueKind {
  if (value === undefined || value === '' || value === 'redis') return 'redis'
  if (value === 'postgres' || value === 'rabbitmq') return value
  throw new Error(`QUEUE must be "rabbitmq", "redis" or "postgres", not "${value}"`)
}

/** Anything that runs a query: a pool, or the client of an open transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>

// ─── the API's side ───────────────────────────────────────────────────────────────────────

export interface BillingQueue {
  readonly kind: QueueKind
  /**
   * `true`: `enqueue` writes through the caller's transaction, so call it before the commit and
   * the job commits (or rolls back) with the rental. `false`: it publishes at once, so call
   * it after the rental is committed, or the worker may look for a rental it cannot see yet.
   */
  readonly transactional: boolean
  /** Opens what the queue needs beyond the database; resolves once connected. */
  connect(): Promise<void>
  enqueue(job: BillingJob, tx?: Queryable): Promise<void>
  /** Rejects when the queue's store is unreachable. */
  ping(): Promise<void>
  close(): Promise<void>
}

class RedisQueue implements BillingQueue {
  readonly kind = 'redis'
  readonly transactional = false
  readonly #redis
  constructor(url: string) {
    this.#redis = createClient({ url })
    this.#redis.on('error', (err: Error) => console.error(`ERROR redis: ${err.message}`))
  }
  async connect(): Promise<void> {
    await this.#redis.connect()
  }
  async enqueue(job: BillingJob): Promise<void> {
    await this.#redis.lPush(BILLING_QUEUE, encodeJob(job))
  }
  async ping(): Promise<void> {
    if (!this.#redis.isReady) throw new Error('not connected')
    await this.#redis.ping()
  }
  async close(): Promise<void> {
    if (this.#redis.isOpen) await this.#redis.close()
  }
}

class PostgresQueue implements BillingQueue {
  readonly kind = 'postgres'
  readonly transactional = true
  readonly #db: Queryable
  constructor(db: Queryable) {
    this.#db = db
  }
  async connect(): Promise<void> {}
  async enqueue(job: BillingJob, tx?: Queryable): Promise<void> {
    await (tx ?? this.#db).query(`insert into ${BILLING_JOBS_TABLE} (rental_id, enqueued_at) values ($1, $2)`, [job.rentalId, job.enqueuedAt])
  }
  async ping(): Promise<void> {
    await this.#db.query(`select 1 from ${BILLING_JOBS_TABLE} limit 1`)
  }
  async close(): Promise<void> {}
}

/** The API's queue. `redisUrl` is required for `redis`, `amqpUrl` for `rabbitmq`; `db` (the API's pool) for `postgres`. */
export async function billingQueue(kind: QueueKind, opts: { redisUrl?: string | undefined; amqpUrl?: string | undefined; db: Queryable }): Promise<BillingQueue> {
  if (kind === 'postgres') return new PostgresQueue(opts.db)
  if (kind === 'rabbitmq') {
    if (!opts.amqpUrl) throw new Error('the rabbitmq billing queue needs AMQP_URL')
    // amqplib is loaded only by deployments that use it.
    const { RabbitQueue } = await import('./rabbitmq-queue.ts')
    return new RabbitQueue(opts.amqpUrl)
  }
  if (!opts.redisUrl) throw new Error('the redis billing queue needs REDIS_URL')
  return new RedisQueue(opts.redisUrl)
}

// ─── the worker's side ────────────────────────────────────────────────────────────────────

export interface JobHandler<T> {
  /** Does the job inside `tx`, an open transaction: what it writes commits together with the job's removal from the queue. */
  run(job: BillingJob, tx: pg.PoolClient): Promise<T>
  /** `run` threw and its transaction was rolled back: record the failure (in `tx`, a new transaction); the job is dropped afterwards. */
  failed(job: BillingJob, err: unknown, tx: pg.PoolClient): Promise<void>
}

export type Taken<T> =
  | { status: 'done'; job: BillingJob; result: T; ms: number }
  | { status: 'failed'; job: BillingJob }
  /** No job this time (nothing queued, or the store was unreachable): call `next` again. */
  | { status: 'none' }
  /** `stop()` was called while waiting. */
  | { status: 'stopped' }

export interface BillingJobSource {
  readonly kind: QueueKind
  /** What the worker's ready line says about the queue. */
  readonly description: string
  /** Connects, and queues again the jobs a previous worker took but did not finish; returns how many. */
  start(): Promise<number>
  /** Waits for the next job and hands it to `handler` (see {@link JobHandler}). */
  next<T>(handler: JobHandler<T>): Promise<Taken<T>>
  /** Interrupts a wait for a job; a job in hand is finished. `next` then resolves `stopped`. */
  stop(): void
  close(): Promise<void>
}

async function inTransaction<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('begin')
  try {
    const result = await fn()
    await client.query('commit')
    return result
  } catch (err) {
    await client.query('rollback').catch(() => {})
    throw err
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

class RedisJobSource implements BillingJobSource {
  readonly kind = 'redis'
  readonly description = 'Redis list'
  readonly #redis
  readonly #pool: pg.Pool
  readonly #beforeCharge: (job: BillingJob) => Promise<void>
  #stopping = false
  #waiting = false
  constructor(url: string, pool: pg.Pool, beforeCharge: (job: BillingJob) => Promise<void>) {
    this.#pool = pool
    this.#beforeCharge = beforeCharge
    this.#redis = createClient({ url })
    this.#redis.on('error', (err: Error) => {
      if (!this.#stopping) console.error(`ERROR redis: ${err.message}`)
    })
  }

  async start(): Promise<number> {
    await this.#redis.connect()
    // A previous worker killed mid-job left its job in "processing": queue it again.
    let recovered = 0
    while ((await this.#redis.lMove(BILLING_PROCESSING, BILLING_QUEUE, 'LEFT', 'RIGHT')) !== null) recovered++
    return recovered
  }

  async next<T>(handler: JobHandler<T>): Promise<Taken<T>> {
    if (this.#stopping) return { status: 'stopped' }
    let raw: string | null
    this.#waiting = true
    try {
      raw = await this.#redis.blMove(BILLING_QUEUE, BILLING_PROCESSING, 'RIGHT', 'LEFT', 0)
    } catch (err) {
      if (this.#stopping) return { status: 'stopped' } // the connection was closed under the blocking call by stop()
      // Redis went away (restart, network): the client reconnects by itself; wait and retry.
      console.error(`ERROR waiting for billing jobs: ${errorText(err)}; retrying`)
      await sleep(250)
      return { status: 'none' }
    } finally {
      this.#waiting = false
    }
    if (raw === null) return { status: 'none' }
    let job: BillingJob
    try {
      job = decodeJob(raw)
    } catch (err) {
      console.error(`ERROR dropped a billing job: ${errorText(err)}`)
      await this.#redis.lRem(BILLING_PROCESSING, 1, raw)
      return { status: 'none' }
    }
    await this.#beforeCharge(job)
    const t = performance.now()
    const { client, release } = await checkOut(this.#pool, 'billing')
    let taken: Taken<T>
    try {
      const result = await inTransaction(client, () => handler.run(job, client))
      taken = { status: 'done', job, result, ms: performance.now() - t }
    } catch (err) {
      await inTransaction(client, () => handler.failed(job, err, client)).catch(() => {})
      taken = { status: 'failed', job }
    } finally {
      release()
    }
    // Done with it either way (charged, skipped, or marked failed): drop it from "processing".
    await this.#redis.lRem(BILLING_PROCESSING, 1, raw)
    return taken
  }

  stop(): void {
    this.#stopping = true
    // Only the blocking wait is interrupted; a job in hand completes and the loop then ends.
    if (this.#waiting) this.#redis.destroy()
  }

  async close(): Promise<void> {
    if (this.#redis.isReady) await this.#redis.close()
    else if (this.#redis.isOpen) this.#redis.destroy() // not connected (Redis gone): nothing to say goodbye to
  }
}

interface JobRow {
  id: string
  rental_id: string
  enqueued_at: Date
}

type ClaimedJob = BillingJob & { id: string }

/** Opens a transaction and locks the oldest job in it; without one, rolls back and returns undefined. */
async function claim(client: pg.PoolClient): Promise<ClaimedJob | undefined> {
  await client.query('begin')
  try {
    const { rows } = await client.query<JobRow>(`select id, rental_id, enqueued_at from ${BILLING_JOBS_TABLE} order by id limit 1 for update skip locked`)
    const row = rows[0]
    if (!row) {
      await client.query('rollback')
      return undefined
    }
    return { id: String(row.id), rentalId: row.rental_id, enqueuedAt: row.enqueued_at.toISOString() }
  } catch (err) {
    await client.query('rollback').catch(() => {})
    throw err
  }
}

class PostgresJobSource implements BillingJobSource {
  readonly kind = 'postgres'
  readonly description = `PostgreSQL table ${BILLING_JOBS_TABLE}`
  readonly #pool: pg.Pool
  readonly #pollMs: number
  #stopping = false
  #wake: (() => void) | undefined
  #unreachable = false
  constructor(pool: pg.Pool, pollMs: number) {
    this.#pool = pool
    this.#pollMs = pollMs
  }

  async start(): Promise<number> {
    // Nothing to put back: a job whose worker died is unlocked when PostgreSQL rolls back that
    // worker's transaction. Check that the table is there (the migration creates it).
    await this.#pool.query(`select 1 from ${BILLING_JOBS_TABLE} limit 1`)
    return 0
  }

  /** Sleeps `ms`, or less when stop() is called. */
  #pause(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    }).finally(() => {
      this.#wake = undefined
    })
  }

  async next<T>(handler: JobHandler<T>): Promise<Taken<T>> {
    if (this.#stopping) return { status: 'stopped' }
    // A cheap look first, outside any transaction: most polls find nothing.
    try {
      const { rows } = await this.#pool.query(`select 1 from ${BILLING_JOBS_TABLE} limit 1`)
      if (this.#unreachable) console.log('billing jobs table reachable again')
      this.#unreachable = false
      if (rows.length === 0) {
        await this.#pause(this.#pollMs)
        return this.#stopping ? { status: 'stopped' } : { status: 'none' }
      }
    } catch (err) {
      if (this.#stopping) return { status: 'stopped' }
      if (!this.#unreachable) console.error(`ERROR waiting for billing jobs: ${errorText(err)}; retrying`)
      this.#unreachable = true
      await this.#pause(250)
      return { status: 'none' }
    }

    const t = performance.now()
    let out: CheckedOut | undefined
    let job: ClaimedJob | undefined
    try {
      out = await checkOut(this.#pool, 'billing')
      job = await claim(out.client)
    } catch (err) {
      // The connection failed before a job was taken: nothing to undo.
      out?.release(true)
      if (this.#stopping) return { status: 'stopped' }
      console.error(`ERROR taking a billing job: ${errorText(err)}; retrying`)
      await this.#pause(250)
      return { status: 'none' }
    }
    const { client, release } = out
    if (!job) {
      release() // taken by another worker between the look and the lock
      return { status: 'none' }
    }
    const { id, ...plain } = job
    try {
      const result = await handler.run(plain, client)
      await client.query(`delete from ${BILLING_JOBS_TABLE} where id = $1`, [id])
      await client.query('commit')
      return { status: 'done', job: plain, result, ms: performance.now() - t }
    } catch (err) {
      await client.query('rollback').catch(() => {})
      // Record the failure and drop the job together. If the job is gone meanwhile (another
      // worker took it once the rollback unlocked it), there is nothing left to do.
      await inTransaction(client, async () => {
        const { rows } = await client.query(`select 1 from ${BILLING_JOBS_TABLE} where id = $1 for update`, [id])
        if (rows.length === 0) return
        await handler.failed(plain, err, client)
        await client.query(`delete from ${BILLING_JOBS_TABLE} where id = $1`, [id])
      }).catch(() => {})
      return { status: 'failed', job: plain }
    } finally {
      release()
    }
  }

  stop(): void {
    this.#stopping = true
    this.#wake?.()
  }

  async close(): Promise<void> {}
}

/**
 * The worker's queue. `redisUrl` is required for `redis`, `amqpUrl` for `rabbitmq`; `pollMs`
 * (default 50) is how often `postgres` looks for jobs; `beforeCharge` runs once a job is taken,
 * before its transaction (rabbitmq and redis).
 */
export async function billingJobSource(
  kind: QueueKind,
  opts: { pool: pg.Pool; redisUrl?: string | undefined; amqpUrl?: string | undefined; pollMs?: number; beforeCharge?: (job: BillingJob) => Promise<void> },
): Promise<BillingJobSource> {
  const beforeCharge = opts.beforeCharge ?? (async () => {})
  if (kind === 'postgres') return new PostgresJobSource(opts.pool, opts.pollMs ?? 50)
  if (kind === 'rabbitmq') {
    if (!opts.amqpUrl) throw new Error('the rabbitmq billing queue needs AMQP_URL')
    const { RabbitJobSource } = await import('./rabbitmq-queue.ts')
    return new RabbitJobSource(opts.amqpUrl, opts.pool, beforeCharge)
  }
  if (!opts.redisUrl) throw new Error('the redis billing queue needs REDIS_URL')
  return new RedisJobSource(opts.redisUrl, opts.pool, beforeCharge)
}
