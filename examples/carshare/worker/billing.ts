// The billing worker: takes billing jobs from Redis, charges each rental from its price plan
// and duration, writes the `payments` row and marks the rental `charged`.
//
// Jobs move atomically from the queue to a "processing" list (BLMOVE) and leave it only once
// the charge is committed; on start, leftovers of a worker that died mid-job are queued again.
// Charging is idempotent (one payment per rental, enforced by a unique key), so a job seen
// twice is charged once.
//
// Env: DATABASE_URL, REDIS_URL. Logs one line per charge on stdout, `ERROR ...` on stderr.
// SIGTERM/SIGINT: finishes the job in hand, then exits 0.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { createClient } from 'redis'
import { rentalAmountCents } from '../lib/pricing.ts'
import { BILLING_PROCESSING, BILLING_QUEUE, decodeJob } from '../lib/queue.ts'

function requireEnv(name: string): string {
  const v = process.env[name]
  if (!v) {
    console.error(`ERROR ${name} is not set`)
    process.exit(1)
  }
  return v
}

const pool = new pg.Pool({ connectionString: requireEnv('DATABASE_URL'), max: 2 })
pool.on('error', (err) => console.error(`ERROR postgres pool: ${err.message}`))
const redis = createClient({ url: requireEnv('REDIS_URL') })

let stopping = false
let idle = false

redis.on('error', (err: Error) => {
  if (!stopping) console.error(`ERROR redis: ${err.message}`)
})

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

/** Charges one rental in a single transaction; safe to call twice for the same rental. */
async function charge(rentalId: string): Promise<Outcome> {
  const client = await pool.connect()
  try {
    await client.query('begin')
    const { rows } = await client.query<ChargeRow>(
      `select r.id, r.plan_id, r.days, r.billing_status, p.daily_cents, p.weekly_discount_pct, p.min_days, p.currency
         from rentals r join price_plans p on p.id = r.plan_id
        where r.id = $1
          for update of r`,
      [rentalId],
    )
    const r = rows[0]
    if (!r) {
      await client.query('rollback')
      return { kind: 'skipped', reason: 'rental no longer exists' }
    }
    if (r.billing_status !== 'pending') {
      await client.query('rollback')
      return { kind: 'skipped', reason: `already ${r.billing_status}` }
    }
    const amountCents = rentalAmountCents({ dailyCents: r.daily_cents, weeklyDiscountPct: r.weekly_discount_pct, minDays: r.min_days }, r.days)
    const currency = r.currency.trim()
    await client.query('insert into payments (id, rental_id, amount_cents, currency) values ($1, $2, $3, $4) on conflict (rental_id) do nothing', [
      randomUUID(),
      r.id,
      amountCents,
      currency,
    ])
    await client.query(`update rentals set billing_status = 'charged', billing_error = null where id = $1`, [r.id])
    await client.query('commit')
    return { kind: 'charged', amountCents, currency, planId: r.plan_id, days: r.days }
  } catch (err) {
    await client.query('rollback').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

async function markFailed(rentalId: string, message: string): Promise<void> {
  await pool.query(`update rentals set billing_status = 'failed', billing_error = $2 where id = $1 and billing_status = 'pending'`, [rentalId, message.slice(0, 500)])
}

async function handle(raw: string): Promise<void> {
  const t = performance.now()
  let rentalId = '?'
  try {
    rentalId = decodeJob(raw).rentalId
    const out = await charge(rentalId)
    const ms = (performance.now() - t).toFixed(1)
    if (out.kind === 'charged') console.log(`charged rental ${rentalId}: ${(out.amountCents / 100).toFixed(2)} ${out.currency} (plan ${out.planId}, ${out.days} day(s)) in ${ms}ms`)
    else console.log(`skipped rental ${rentalId}: ${out.reason}`)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`ERROR billing failed for rental ${rentalId}: ${message}`)
    if (rentalId !== '?') await markFailed(rentalId, message).catch(() => {})
  }
  // Done with it either way (charged, skipped, or marked failed): drop it from "processing".
  await redis.lRem(BILLING_PROCESSING, 1, raw)
}

async function main(): Promise<void> {
  await redis.connect()
  // A previous worker killed mid-job left its job in "processing": queue it again.
  let recovered = 0
  while ((await redis.lMove(BILLING_PROCESSING, BILLING_QUEUE, 'LEFT', 'RIGHT')) !== null) recovered++
  if (recovered > 0) console.log(`re-queued ${recovered} job(s) left by a previous worker`)
  console.log('billing worker ready, waiting for jobs')
  while (!stopping) {
    idle = true
    let raw: string | null
    try {
      raw = await redis.blMove(BILLING_QUEUE, BILLING_PROCESSING, 'RIGHT', 'LEFT', 0)
    } catch (err) {
      if (stopping) break // the connection was closed under the blocking call by shutdown()
      // Redis went away (restart, network): the client reconnects by itself; wait and retry.
      console.error(`ERROR waiting for billing jobs: ${err instanceof Error ? err.message : String(err)}; retrying`)
      await new Promise((r) => setTimeout(r, 250))
      continue
    } finally {
      idle = false
    }
    if (raw !== null) await handle(raw)
  }
}

function shutdown(signal: string): void {
  if (stopping) return
  stopping = true
  console.log(`${signal}: ${idle ? 'stopping' : 'finishing the current job, then stopping'}`)
  // Only the blocking wait is interrupted; a job in hand completes and the loop then ends.
  if (idle) redis.destroy()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

try {
  await main()
  if (redis.isOpen) await redis.close()
  await pool.end()
  console.log('billing worker stopped')
} catch (err) {
  console.error(`ERROR billing worker crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  process.exitCode = 1
  redis.destroy()
  await pool.end().catch(() => {})
}
