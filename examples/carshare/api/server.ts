// The car-sharing HTTP API.
//
//   GET  /health        PostgreSQL (and the queue's broker, RabbitMQ or Redis) reachable → 200, else 503
//   GET  /cars          the fleet, labels in the deployment's locale
//   GET  /plans         price plans, names and prices written for the locale
//   POST /rentals       {carId, planId, days, customer} → 201 rental (billing pending);
//                       writes the rental row and queues a billing job (lib/queue.ts)
//   GET  /rentals/:id   the rental with its billing status and, once the worker charged it,
//                       the amount
//
// Env: PORT, DATABASE_URL, LOCALE (`fr` | `en`, default `fr`), QUEUE (`rabbitmq` | `redis` |
// `postgres`, default `redis`), AMQP_URL (RabbitMQ queue only), REDIS_URL (Redis queue only).
// Logs: one access line per request on stdout; errors as `ERROR ...` on stderr.
//
// DEMO BEHAVIOUR (on purpose, for rig's log scan):
//   - renting an unknown car answers 404 and logs `ERROR rental refused: unknown car ...`;
//     a test that does this declares the line expected.
//   - renting for the customer named "crash-test" logs `ERROR payment provider timeout ...`
//     and still answers 201: an error line nobody expected, which rig attributes to the test.
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import pg from 'pg'
import type { ApiErrorBody, Car, Health, Money, Plan, Rental, RentalRequest } from '../lib/contract.ts'
import { formatMoney, localised, parseLocale, type Locale } from '../lib/locale.ts'
import { MAX_DAYS, rentalAmountCents } from '../lib/pricing.ts'
import { billingQueue, parseQueueKind, type BillingJob, type QueueKind, type Queryable } from '../lib/queue.ts'
import { checkOut } from '../lib/pg-checkout.ts'
import { requireEnv } from '../lib/require-env.ts'
import { serveWeb } from './web.ts'

let locale: Locale
let queueKind: QueueKind
try {
  locale = parseLocale(process.env.LOCALE)
  queueKind = parseQueueKind(process.env.QUEUE)
} catch (err) {
  console.error(`ERROR ${(err as Error).message}`)
  process.exit(1)
}
const port = Number(requireEnv('PORT'))
const pool = new pg.Pool({ connectionString: requireEnv('DATABASE_URL'), max: 5, idleTimeoutMillis: 10_000, application_name: 'api' })
pool.on('error', (err) => console.error(`ERROR postgres pool: ${err.message}`))
const queue = await billingQueue(queueKind, {
  db: pool,
  redisUrl: queueKind === 'redis' ? requireEnv('REDIS_URL') : undefined,
  amqpUrl: queueKind === 'rabbitmq' ? requireEnv('AMQP_URL') : undefined,
})

/** An error that becomes an HTTP answer. */
class HttpError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function money(cents: number, currency: string): Money {
  return { cents, currency: currency.trim(), formatted: formatMoney(cents, currency.trim(), locale) }
}

interface CarRow {
  id: string
  model: string
  category: string
  seats: number
  electric: boolean
  label_fr: string
  label_en: string
}

interface PlanRow {
  id: string
  name_fr: string
  name_en: string
  description_fr: string
  description_en: string
  currency: string
  daily_cents: number
  included_km_per_day: number
  min_days: number
  weekly_discount_pct: number
}

function toCar(r: CarRow): Car {
  return { id: r.id, model: r.model, category: r.category, seats: r.seats, electric: r.electric, label: localised({ ...r }, 'label', locale) }
}

function toPlan(r: PlanRow): Plan {
  return {
    id: r.id,
    name: localised({ ...r }, 'name', locale),
    description: localised({ ...r }, 'description', locale),
    dailyPrice: money(r.daily_cents, r.currency),
    includedKmPerDay: r.included_km_per_day,
    minDays: r.min_days,
    weeklyDiscountPct: r.weekly_discount_pct,
  }
}

async function health(): Promise<{ status: number; body: Health }> {
  const check = async (fn: () => Promise<unknown>): Promise<string> => {
    try {
      await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout after 1000 ms')), 1000).unref())])
      return 'ok'
    } catch (err) {
      return `fail: ${err instanceof Error ? err.message : String(err)}`
    }
  }
  const broker = (kind: string): Promise<string> | string => (queue.kind === kind ? check(() => queue.ping()) : 'not used')
  const [db, redis, rabbitmq] = await Promise.all([check(() => pool.query('select 1')), broker('redis'), broker('rabbitmq')])
  const ok = [db, redis, rabbitmq].every((c) => c === 'ok' || c === 'not used')
  return { status: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', locale, queue: queue.kind, checks: { db, redis, rabbitmq } } }
}

async function listCars(): Promise<Car[]> {
  const { rows } = await pool.query<CarRow>('select * from cars order by id')
  return rows.map(toCar)
}

async function listPlans(): Promise<Plan[]> {
  const { rows } = await pool.query<PlanRow>('select * from price_plans order by daily_cents desc')
  return rows.map(toPlan)
}

interface RentalRow {
  id: string
  car_id: string
  plan_id: string
  days: number
  customer: string
  quote_cents: number
  currency: string
  created_at: Date
  billing_status: Rental['billing']['status']
  billing_error: string | null
  car_label_fr: string
  car_label_en: string
  plan_name_fr: string
  plan_name_en: string
  amount_cents: number | null
  payment_currency: string | null
  charged_at: Date | null
}

async function getRental(id: string, db: Queryable = pool): Promise<Rental | undefined> {
  // Checked here rather than left to PostgreSQL: a malformed uuid would write an ERROR line to
  // the database log, which the log scan would rightly blame on the test.
  if (!UUID.test(id)) return undefined
  const { rows } = await db.query<RentalRow>(
    `select r.*, c.label_fr as car_label_fr, c.label_en as car_label_en, p.name_fr as plan_name_fr, p.name_en as plan_name_en,
            pay.amount_cents, pay.currency as payment_currency, pay.charged_at
       from rentals r
       join cars c on c.id = r.car_id
       join price_plans p on p.id = r.plan_id
       left join payments pay on pay.rental_id = r.id
      where r.id = $1`,
    [id],
  )
  const r = rows[0]
  if (!r) return undefined
  return {
    id: r.id,
    car: { id: r.car_id, label: locale === 'fr' ? r.car_label_fr : r.car_label_en },
    plan: { id: r.plan_id, name: locale === 'fr' ? r.plan_name_fr : r.plan_name_en },
    days: r.days,
    customer: r.customer,
    createdAt: r.created_at.toISOString(),
    quote: money(r.quote_cents, r.currency),
    billing: {
      status: r.billing_status,
      amount: r.amount_cents === null ? null : money(r.amount_cents, r.payment_currency ?? r.currency),
      chargedAt: r.charged_at ? r.charged_at.toISOString() : null,
      error: r.billing_error,
    },
  }
}

function parseRentalRequest(body: unknown): RentalRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'expected a JSON object {carId, planId, days, customer}')
  const b = body as Record<string, unknown>
  const str = (k: string): string => {
    const v = b[k]
    if (typeof v !== 'string' || v.trim() === '') throw new HttpError(400, 'invalid_request', `"${k}" must be a non-empty string`)
    return v.trim()
  }
  const days = b.days
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new HttpError(400, 'invalid_request', `"days" must be an integer from 1 to ${MAX_DAYS}`)
  const customer = str('customer')
  if (customer.length > 200) throw new HttpError(400, 'invalid_request', '"customer" is longer than 200 characters')
  return { carId: str('carId'), planId: str('planId'), days, customer }
}

async function createRental(req: RentalRequest): Promise<Rental> {
  // One after the other, not in parallel: the embedded PGlite serves every connection through
  // one session and can mix up concurrent parameterised queries (see README, "Only Node").
  const cars = await pool.query<{ id: string }>('select id from cars where id = $1', [req.carId])
  const plans = await pool.query<PlanRow>('select * from price_plans where id = $1', [req.planId])
  if (cars.rows.length === 0) {
    // Demo: logged as an error on purpose (see the header); tests that rent an unknown car expect it.
    console.error(`ERROR rental refused: unknown car "${req.carId}" (customer "${req.customer}")`)
    throw new HttpError(404, 'unknown_car', `no car "${req.carId}"`)
  }
  const plan = plans.rows[0]
  if (!plan) throw new HttpError(404, 'unknown_plan', `no price plan "${req.planId}"`)
  if (req.days < plan.min_days) throw new HttpError(422, 'below_minimum_days', `plan "${plan.id}" needs at least ${plan.min_days} days`)

  if (req.customer === 'crash-test') {
    // DEMO ONLY: an unexpected error line for rig's log scan to catch. The rental still goes
    // through (billing is deferred to the worker as usual), so only the log shows it.
    console.error('ERROR payment provider timeout during pre-authorisation (demo: customer "crash-test"); billing deferred to the worker')
  }

  const id = randomUUID()
  const quoteCents = rentalAmountCents({ dailyCents: plan.daily_cents, weeklyDiscountPct: plan.weekly_discount_pct, minDays: plan.min_days }, req.days)
  const job: BillingJob = { rentalId: id, enqueuedAt: new Date().toISOString(), customer: req.customer }
  const { client, release } = await checkOut(pool, 'rental')
  let rental: Rental | undefined
  try {
    await client.query('begin')
    await client.query('insert into rentals (id, car_id, plan_id, days, customer, quote_cents, currency) values ($1, $2, $3, $4, $5, $6, $7)', [
      id,
      req.carId,
      req.planId,
      req.days,
      req.customer,
      quoteCents,
      plan.currency,
    ])
    // PostgreSQL queue: the job is a row written in this transaction, committed with the rental.
    if (queue.transactional) await queue.enqueue(job, client)
    // Read back before the worker can see it, so the answer shows billing "pending" whatever
    // the worker's speed.
    rental = await getRental(id, client)
    await client.query('commit')
  } catch (err) {
    await client.query('rollback').catch(() => {})
    release(true)
    throw err
  }
  release()
  if (!rental) throw new Error(`rental ${id} vanished right after insert`)
  if (!queue.transactional) {
    // RabbitMQ or Redis: published once the rental is committed, so the worker finds it.
    try {
      await queue.enqueue(job)
    } catch (err) {
      // Without a billing job the rental would never be charged: take it back.
      await pool.query('delete from rentals where id = $1', [id]).catch(() => {})
      console.error(`ERROR could not queue billing for rental ${id}: ${err instanceof Error ? err.message : String(err)}`)
      throw new HttpError(503, 'billing_unavailable', 'billing queue unavailable, rental not taken; retry later')
    }
  }
  return rental
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > 64 * 1024) throw new HttpError(413, 'too_large', 'request body over 64 KiB')
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON')
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-language': locale, 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const method = req.method ?? 'GET'
  const p = url.pathname
  if (method === 'GET' && p === '/health') {
    const h = await health()
    return send(res, h.status, h.body)
  }
  if (method === 'GET' && p === '/cars') return send(res, 200, await listCars())
  if (method === 'GET' && p === '/plans') return send(res, 200, await listPlans())
  if (method === 'POST' && p === '/rentals') {
    const rental = await createRental(parseRentalRequest(await readJson(req)))
    return send(res, 201, rental, { location: `/rentals/${rental.id}` })
  }
  const m = /^\/rentals\/([^/]+)$/.exec(p)
  if (method === 'GET' && m) {
    const rental = await getRental(decodeURIComponent(m[1] ?? ''))
    if (!rental) throw new HttpError(404, 'unknown_rental', `no rental "${m[1]}"`)
    return send(res, 200, rental)
  }
  if (method === 'GET' && serveWeb(p, res)) return
  if (['/health', '/cars', '/plans', '/rentals'].includes(p) || m) throw new HttpError(405, 'method_not_allowed', `${method} ${p} is not supported`)
  throw new HttpError(404, 'not_found', `no route ${method} ${p}`)
}

const server = http.createServer((req, res) => {
  const t = performance.now()
  route(req, res)
    .catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, err.status, { error: err.code, message: err.message } satisfies ApiErrorBody)
      console.error(`ERROR ${req.method} ${req.url} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      if (!res.headersSent) send(res, 500, { error: 'internal', message: 'internal error' } satisfies ApiErrorBody)
      else res.destroy()
    })
    .finally(() => {
      console.log(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - t).toFixed(1)}ms`)
    })
})

// Listen at once and connect to Redis (if used) in the background: /health answers 503 until
// every store is reachable, so readiness is decided by the probe, not by start-up order.
server.listen(port, '127.0.0.1', () => console.log(`carshare api (${locale}, billing queue on ${queue.kind}) listening on http://127.0.0.1:${port}`))
queue.connect().catch((err: Error) => console.error(`ERROR ${queue.kind} queue connect: ${err.message}`))

let stopping = false
async function shutdown(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`${signal}: shutting down`)
  server.close()
  server.closeAllConnections()
  await Promise.allSettled([pool.end(), queue.close()])
  process.exit(0)
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
