// The billing worker: takes billing jobs from the queue (lib/queue.ts: rental events on
// RabbitMQ with QUEUE=rabbitmq, a Redis list, or the `billing_jobs` table with QUEUE=postgres), charges each rental from its price plan and
// duration, writes the `payments` row and marks the rental `charged`.
//
// A job leaves the queue only once its charge is committed (Redis: it waits in a "processing"
// list, and leftovers of a worker that died mid-job are queued again on start; PostgreSQL: the
// job is deleted in the charging transaction). Charging is idempotent (one payment per rental,
// enforced by a unique key), so a job seen twice is charged once.
//
// Env: DATABASE_URL, QUEUE (`rabbitmq` | `redis` | `postgres`, default `redis`), AMQP_URL
// (RabbitMQ only), REDIS_URL (Redis queue only), QUEUE_POLL_MS (PostgreSQL queue: how often it looks for jobs, default 50).
// Logs one line per charge on stdout, `ERROR ...` on stderr.
// SIGTERM/SIGINT: finishes the job in hand, then exits 0.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { rentalAmountCents } from '../lib/pricing.ts'
import { billingJobSource, parseQueueKind, type BillingJob, type QueueKind } from '../lib/queue.ts'
import { requireEnv } from '../lib/require-env.ts'

let queueKind: QueueKind
try {
  queueKind = parseQueueKind(process.env.QUEUE)
} catch (err) {
  console.error(`ERROR ${(err as Error).message}`)
  process.exit(1)
}
// application_name: what PostgreSQL (and rig, waiting for work in flight) calls these sessions.
const pool = new pg.Pool({ connectionString: requireEnv('DATABASE_URL'), max: 2, application_name: 'billing' })
pool.on('error', (err) => console.error(`ERROR postgres pool: ${err.message}`))

/** Demo behaviour: the payment provider of the customer "slow-bank" takes 3 s to answer. */
async function beforeCharge(job: BillingJob): Promise<void> {
  if (job.customer === 'slow-bank') await new Promise((r) => setTimeout(r, 3000))
}

const jobs = await billingJobSource(queueKind, {
  pool,
  redisUrl: queueKind === 'redis' ? requireEnv('REDIS_URL') : undefined,
  amqpUrl: queueKind === 'rabbitmq' ? requireEnv('AMQP_URL') : undefined,
  pollMs: Number(process.env.QUEUE_POLL_MS ?? '') || 50,
  beforeCharge,
})

let stopping = false

interface ChargeRow {
  id: string
  plan_id: string
  days: number
  billing_status: string
  daily_cents: number
  weekly_discount_pct: number
  min_days: number
  currency: string
}

type Outcome = { kind: 'charged'; amountCents: number; currency: string; planId: string; days: number } | { kind: 'skipped'; reason: string }

/** Charges one rental inside `tx`, an open transaction; safe to call twice for the same rental. */
async function charge(job: BillingJob, tx: pg.PoolClient): Promise<Outcome> {
  const { rows } = await tx.query<ChargeRow>(
    `select r.id, r.plan_id, r.days, r.billing_status, p.daily_cents, p.weekly_discount_pct, p.min_days, p.currency
       from rentals r join price_plans p on p.id = r.plan_id
      where r.id = $1
        for update of r`,
    [job.rentalId],
  )
  const r = rows[0]
  if (!r) return { kind: 'skipped', reason: 'rental no longer exists' }
  if (r.billing_status !== 'pending') return { kind: 'skipped', reason: `already ${r.billing_status}` }
  const amountCents = rentalAmountCents({ dailyCents: r.daily_cents, weeklyDiscountPct: r.weekly_discount_pct, minDays: r.min_days }, r.days)
  const currency = r.currency.trim()
  await tx.query('insert into payments (id, rental_id, amount_cents, currency) values ($1, $2, $3, $4) on conflict (rental_id) do nothing', [randomUUID(), r.id, amountCents, currency])
  await tx.query(`update rentals set billing_status = 'charged', billing_error = null where id = $1`, [r.id])
  return { kind: 'charged', amountCents, currency, planId: r.plan_id, days: r.days }
}

/** The charge failed (and was rolled back): log it and mark the rental `failed`, inside `tx`. */
async function markFailed(job: BillingJob, err: unknown, tx: pg.PoolClient): Promise<void> {
  const message = err instanceof Error ? err.message : String(err)
  console.error(`ERROR billing failed for rental ${job.rentalId}: ${message}`)
  await tx.query(`update rentals set billing_status = 'failed', billing_error = $2 where id = $1 and billing_status = 'pending'`, [job.rentalId, message.slice(0, 500)])
}

async function main(): Promise<void> {
  const recovered = await jobs.start()
  if (recovered > 0) console.log(`re-queued ${recovered} job(s) left by a previous worker`)
  console.log(`billing worker ready (${jobs.description}), waiting for jobs`)
  while (!stopping) {
    const taken = await jobs.next({ run: charge, failed: markFailed })
    if (taken.status !== 'done') continue
    const { job, result: out, ms } = taken
    if (out.kind === 'charged') console.log(`charged rental ${job.rentalId}: ${(out.amountCents / 100).toFixed(2)} ${out.currency} (plan ${out.planId}, ${out.days} day(s)) in ${ms.toFixed(1)}ms`)
    else console.log(`skipped rental ${job.rentalId}: ${out.reason}`)
  }
}

function shutdown(signal: string): void {
  if (stopping) return
  stopping = true
  console.log(`${signal}: finishing the current job, if any, then stopping`)
  jobs.stop()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

try {
  await main()
  await jobs.close()
  await pool.end()
  console.log('billing worker stopped')
} catch (err) {
  console.error(`ERROR billing worker crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  process.exitCode = 1
  jobs.stop()
  await jobs.close().catch(() => {})
  await pool.end().catch(() => {})
}
