// Smoke test of the car-sharing example, as a plain script (no test runner): starts the system
// once per locale variant with rig's library API, checks one rental end to end in each (API →
// PostgreSQL → queue (RabbitMQ, Redis, or the billing_jobs table) → billing worker → API), compares the
// fr and en variants, stops everything. Exits 0 when every check passed, 1 otherwise.
//
//   node examples/carshare/smoke.ts            (Node ≥ 22.18, from anywhere)
//   CARSHARE_QUEUE=postgres CARSHARE_DB_PROVIDER=embedded node examples/carshare/smoke.ts
//                                              (what a machine with only Node runs)
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createClient } from 'redis'
import amqp from 'amqplib'
import { loadConfig, startEnvironment, type Environment } from 'testrig'
import { CARS, PLANS } from './db/seed.ts'
import { formatMoney, LOCALES, type Locale } from './lib/locale.ts'
import { rentalAmountCents } from './lib/pricing.ts'
import { BILLING_JOBS_TABLE, BILLING_PROCESSING, BILLING_QUEUE } from './lib/queue.ts'
import { BILLING_RENTALS_QUEUE } from './lib/rabbitmq-queue.ts'
import { ApiError, getHealth, listCars, listPlans, rentCar, waitForBilling, type Car, type Plan } from './test/helpers.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
let failures = 0

function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message)
}

async function check(name: string, fn: () => Promise<void>): Promise<void> {
  const t = performance.now()
  try {
    await fn()
    console.log(`  ✓ ${name} (${(performance.now() - t).toFixed(0)} ms)`)
  } catch (err) {
    failures++
    console.log(`  ✗ ${name}\n      ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Waits until `service` has logged a line matching `re` (logs arrive asynchronously). */
async function logged(env: Environment, service: string, re: RegExp, timeoutMs = 2000): Promise<string> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const line = env.get(service).logLines().find((l) => re.test(l))
    if (line) return line
    if (performance.now() > deadline) throw new Error(`no line matching ${re} in the ${service} log; last lines:\n${env.get(service).logTail(5).join('\n')}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface VariantResult {
  cars: Car[]
  plans: Plan[]
}

async function checkVariant(env: Environment, locale: Locale): Promise<VariantResult> {
  const api = env.get('api').url
  // `mq`: RabbitMQ; `cache`: Redis; neither: rig.config.ts put the billing queue in PostgreSQL.
  const withRedis = 'cache' in env.services
  const withRabbit = 'mq' in env.services
  const queue = withRabbit ? 'rabbitmq' : withRedis ? 'redis' : 'postgres'
  const used = (broker: string): string => (queue === broker ? 'ok' : 'not used')
  const result: VariantResult = { cars: [], plans: [] }

  await check(`GET /health: ${queue === 'postgres' ? 'PostgreSQL' : `PostgreSQL and ${queue}`} reachable, right locale`, async () => {
    const h = await getHealth(api)
    assert(
      h.status === 'ok' && h.locale === locale && h.queue === queue && h.checks.db === 'ok' && h.checks.redis === used('redis') && h.checks.rabbitmq === used('rabbitmq'),
      `unexpected health ${JSON.stringify(h)}`,
    )
  })

  await check('GET /cars: the seeded fleet with localised labels', async () => {
    result.cars = await listCars(api)
    assert(result.cars.length === CARS.length, `expected ${CARS.length} cars, got ${result.cars.length}`)
    for (const seeded of CARS) {
      const car = result.cars.find((c) => c.id === seeded.id)
      assert(car, `car ${seeded.id} missing`)
      const want = locale === 'fr' ? seeded.label_fr : seeded.label_en
      assert(car.label === want, `car ${seeded.id}: label "${car.label}", expected "${want}"`)
    }
  })

  await check('GET /plans: localised names, prices written for the locale', async () => {
    result.plans = await listPlans(api)
    assert(result.plans.length === PLANS.length, `expected ${PLANS.length} plans, got ${result.plans.length}`)
    for (const p of result.plans) {
      const seeded = PLANS.find((s) => s.id === p.id)
      assert(seeded, `unexpected plan ${p.id}`)
      assert(p.name === (locale === 'fr' ? seeded.name_fr : seeded.name_en), `plan ${p.id}: name "${p.name}"`)
      assert(p.dailyPrice.cents === seeded.daily_cents && p.dailyPrice.currency === 'EUR', `plan ${p.id}: price ${JSON.stringify(p.dailyPrice)}`)
      const shape = locale === 'fr' ? /^\d+,\d\d\s€$/u : /^€\d+\.\d\d$/
      assert(shape.test(p.dailyPrice.formatted), `plan ${p.id}: "${p.dailyPrice.formatted}" is not how ${locale} writes a price`)
    }
  })

  await check('rent a car: row written, job queued, worker charges the quoted amount, API shows it', async () => {
    const plan = PLANS.find((p) => p.id === 'standard')
    assert(plan, 'no standard plan in the seed')
    const days = 8
    const expected = rentalAmountCents({ dailyCents: plan.daily_cents, weeklyDiscountPct: plan.weekly_discount_pct, minDays: plan.min_days }, days)
    const rental = await rentCar(api, { carId: 'zoe-01', planId: 'standard', days, customer: `smoke-${locale}` })
    assert(rental.quote.cents === expected, `quote ${rental.quote.cents}, expected ${expected}`)
    assert(rental.quote.formatted === formatMoney(expected, 'EUR', locale), `quote written "${rental.quote.formatted}"`)

    const billed = await waitForBilling(api, rental.id)
    assert(billed.billing.status === 'charged', `billing ${billed.billing.status}: ${billed.billing.error}`)
    assert(billed.billing.amount?.cents === expected, `charged ${billed.billing.amount?.cents}, expected ${expected}`)

    // The same fact, seen from each system rather than through the API.
    const db = new pg.Client({ connectionString: env.get('db').url })
    await db.connect()
    try {
      const { rows } = await db.query<{ billing_status: string; amount_cents: number }>(
        'select r.billing_status, p.amount_cents from rentals r join payments p on p.rental_id = r.id where r.id = $1',
        [rental.id],
      )
      assert(rows.length === 1 && rows[0]?.billing_status === 'charged' && rows[0].amount_cents === expected, `database has ${JSON.stringify(rows)}`)
      // The job is gone from the queue: the billing_jobs table (PostgreSQL queue) ...
      const jobs = await db.query<{ n: number }>(`select count(*)::int as n from ${BILLING_JOBS_TABLE}`)
      assert(jobs.rows[0]?.n === 0, `${BILLING_JOBS_TABLE} not drained: ${jobs.rows[0]?.n} job(s) left`)
    } finally {
      await db.end()
    }
    // ... and the Redis lists (Redis queue).
    if (withRedis) {
      const redis = createClient({ url: env.get('cache').url })
      await redis.connect()
      try {
        const [queued, processing] = await Promise.all([redis.lLen(BILLING_QUEUE), redis.lLen(BILLING_PROCESSING)])
        assert(queued === 0 && processing === 0, `billing lists not drained: queue ${queued}, processing ${processing}`)
      } finally {
        await redis.close()
      }
    }
    // ... and the RabbitMQ queue (acknowledged once charged).
    if (withRabbit) {
      const conn = await amqp.connect(env.get('mq').url)
      try {
        const ch = await conn.createChannel()
        const q = await ch.checkQueue(BILLING_RENTALS_QUEUE)
        assert(q.messageCount === 0, `${BILLING_RENTALS_QUEUE} not drained: ${q.messageCount} message(s) ready`)
      } finally {
        await conn.close()
      }
    }
    await logged(env, 'billing', new RegExp(`charged rental ${rental.id}: ${(expected / 100).toFixed(2)} EUR`))
  })

  await check('unknown car: 404 unknown_car, and the API logs it as an ERROR', async () => {
    const err = await rentCar(api, { carId: 'no-such-car', customer: `smoke-${locale}` }).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert(err instanceof ApiError && err.status === 404 && err.code === 'unknown_car', `expected 404 unknown_car, got ${String(err)}`)
    await logged(env, 'api', /ERROR rental refused: unknown car "no-such-car"/)
  })

  return result
}

async function main(): Promise<void> {
  const loaded = await loadConfig(path.join(here, 'rig.config.ts'))
  const envs = new Map<Locale, Environment>()
  const results = new Map<Locale, VariantResult>()
  const stopAll = (): Promise<unknown> => Promise.allSettled([...envs.values()].map((e) => e.stop()))
  const onSignal = (): void => {
    console.log('\ninterrupted: stopping')
    void stopAll().then(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const before = process.env.CARSHARE_LOCALE
  try {
    for (const locale of LOCALES) {
      // The API reads CARSHARE_LOCALE when it starts, so the variants start one after the other.
      process.env.CARSHARE_LOCALE = locale
      const env = await startEnvironment(loaded.config, {
        root: loaded.root,
        onEvent: (e) => {
          if (e.type === 'notice') console.log(`  ! ${e.service}: ${e.message}`)
        },
      })
      envs.set(locale, env)
      const queue = 'cache' in env.services ? 'Redis' : 'PostgreSQL'
      console.log(`${locale}: environment ready in ${env.startMs.toFixed(0)} ms (api ${env.get('api').url}, database ${env.get('db').provider}, billing queue on ${queue})`)
      results.set(locale, await checkVariant(env, locale))
    }
    console.log('fr vs en')
    await check('same fleet and plans, different labels and price formats', async () => {
      const fr = results.get('fr')
      const en = results.get('en')
      assert(fr && en && fr.cars.length > 0 && en.cars.length > 0, 'a variant has no cars to compare')
      assert(JSON.stringify(fr.cars.map((c) => c.id)) === JSON.stringify(en.cars.map((c) => c.id)), 'the variants list different cars')
      for (const car of fr.cars) {
        const other = en.cars.find((c) => c.id === car.id)
        assert(other && other.label !== car.label, `car ${car.id} has the same label in fr and en: "${car.label}"`)
      }
      for (const plan of fr.plans) {
        const other = en.plans.find((p) => p.id === plan.id)
        assert(other && other.dailyPrice.cents === plan.dailyPrice.cents, `plan ${plan.id}: prices differ between variants`)
        assert(other.dailyPrice.formatted !== plan.dailyPrice.formatted, `plan ${plan.id}: same price text "${plan.dailyPrice.formatted}" in fr and en`)
      }
    })
  } catch (err) {
    failures++
    console.log(`✗ ${err instanceof Error ? err.message : String(err)}`)
  } finally {
    if (before === undefined) delete process.env.CARSHARE_LOCALE
    else process.env.CARSHARE_LOCALE = before
    const t = performance.now()
    await stopAll()
    console.log(`stopped ${envs.size} environment(s) in ${(performance.now() - t).toFixed(0)} ms`)
  }
  console.log(failures === 0 ? 'smoke: all checks passed' : `smoke: ${failures} check(s) failed`)
  process.exitCode = failures === 0 ? 0 : 1
}

await main()
