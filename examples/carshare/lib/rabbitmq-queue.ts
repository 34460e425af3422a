// The billing queue on RabbitMQ (the default when rabbitmq-server is installed): the API
// publishes a `rental.created` event to the `carshare.events` topic exchange once the rental is
// committed, and answers only when the broker confirmed it; billing consumes the
// `billing.rentals` queue bound to `rental.*`, one message at a time, and acknowledges a
// message only once its charge is committed. A worker that dies mid-job leaves its message
// unacknowledged: the broker hands it to the next worker. Delivery is at least once; charging
// is idempotent (one payment per rental).
import amqp from 'amqplib'
import type pg from 'pg'
import { checkOut } from './pg-checkout.ts'
import type { BillingJob, BillingJobSource, BillingQueue, JobHandler, Taken } from './queue.ts'
import { decodeJob, encodeJob } from './queue.ts'

export const EVENTS_EXCHANGE = 'carshare.events'
export const BILLING_RENTALS_QUEUE = 'billing.rentals'
export const RENTAL_CREATED = 'rental.created'

/** Both sides declare the same topology (idempotent), so neither depends on the other starting first. */
async function declareTopology(ch: amqp.Channel): Promise<void> {
  await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true })
  await ch.assertQueue(BILLING_RENTALS_QUEUE, { durable: true })
  await ch.bindQueue(BILLING_RENTALS_QUEUE, EVENTS_EXCHANGE, 'rental.*')
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** The API's side: publishes with publisher confirms. */
export class RabbitQueue implements BillingQueue {
  readonly kind = 'rabbitmq'
  readonly transactional = false
  readonly #url: string
  #conn: amqp.ChannelModel | undefined
  #ch: amqp.ConfirmChannel | undefined
  constructor(url: string) {
    this.#url = url
  }

  async connect(): Promise<void> {
    this.#conn = await amqp.connect(this.#url)
    this.#conn.on('error', (err: Error) => console.error(`ERROR rabbitmq: ${err.message}`))
    this.#conn.on('close', () => {
      this.#conn = undefined
      this.#ch = undefined
    })
    this.#ch = await this.#conn.createConfirmChannel()
    this.#ch.on('error', (err: Error) => console.error(`ERROR rabbitmq channel: ${err.message}`))
    await declareTopology(this.#ch)
  }

  async enqueue(job: BillingJob): Promise<void> {
    const ch = this.#ch
    if (!ch) throw new Error('not connected to RabbitMQ')
    // Answering before the broker has the event would let a caller look for a charge whose
    // event is still in a socket buffer: wait for the confirm.
    await new Promise<void>((resolve, reject) =>
      ch.publish(EVENTS_EXCHANGE, RENTAL_CREATED, Buffer.from(encodeJob(job)), { persistent: true, contentType: 'application/json' }, (err) => (err ? reject(err) : resolve())),
    )
  }

  async ping(): Promise<void> {
    if (!this.#ch) throw new Error('not connected')
  }

  async close(): Promise<void> {
    await this.#conn?.close().catch(() => {})
  }
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

/** The worker's side: one unacknowledged message at a time (prefetch 1). */
export class RabbitJobSource implements BillingJobSource {
  readonly kind = 'rabbitmq'
  readonly description = `RabbitMQ queue ${BILLING_RENTALS_QUEUE}`
  readonly #url: string
  readonly #pool: pg.Pool
  readonly #beforeCharge: (job: BillingJob) => Promise<void>
  #conn: amqp.ChannelModel | undefined
  #ch: amqp.Channel | undefined
  readonly #inbox: amqp.ConsumeMessage[] = []
  #wake: (() => void) | undefined
  #stopping = false

  constructor(url: string, pool: pg.Pool, beforeCharge: (job: BillingJob) => Promise<void>) {
    this.#url = url
    this.#pool = pool
    this.#beforeCharge = beforeCharge
  }

  async start(): Promise<number> {
    this.#conn = await amqp.connect(this.#url)
    this.#conn.on('error', (err: Error) => {
      if (!this.#stopping) console.error(`ERROR rabbitmq: ${err.message}`)
    })
    this.#ch = await this.#conn.createChannel()
    await this.#ch.prefetch(1)
    await this.#consume()
    // Unacknowledged messages of a worker that died come back to the queue by themselves.
    return 0
  }

  async #consume(): Promise<void> {
    const ch = this.#ch as amqp.Channel
    await declareTopology(ch)
    await ch.consume(BILLING_RENTALS_QUEUE, (msg) => {
      if (msg === null) {
        // The broker cancelled us: the queue was deleted. Declare it again and go on.
        if (this.#stopping) return
        console.log(`billing queue ${BILLING_RENTALS_QUEUE} went away; declaring it again`)
        this.#consume().catch((err: unknown) => console.error(`ERROR consuming ${BILLING_RENTALS_QUEUE} again: ${errorText(err)}`))
        return
      }
      this.#inbox.push(msg)
      this.#wake?.()
    })
  }

  async next<T>(handler: JobHandler<T>): Promise<Taken<T>> {
    if (this.#stopping) return { status: 'stopped' }
    if (this.#inbox.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve))
    this.#wake = undefined
    const msg = this.#inbox.shift()
    if (!msg) return this.#stopping ? { status: 'stopped' } : { status: 'none' }
    const ch = this.#ch as amqp.Channel
    let job: BillingJob
    try {
      job = decodeJob(msg.content.toString('utf8'))
    } catch (err) {
      console.error(`ERROR dropped a billing job: ${errorText(err)}`)
      ch.nack(msg, false, false)
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
    // Acknowledged once the charge (or the failure) is committed: a settled queue means settled data.
    ch.ack(msg)
    return taken
  }

  stop(): void {
    this.#stopping = true
    this.#wake?.()
  }

  async close(): Promise<void> {
    await this.#conn?.close().catch(() => {})
  }
}
