import { describe, expect, test } from 'vitest'
import { rig, services } from 'testrig/vitest'
import { ApiError, getHealth, listCars, listPlans, rentCar } from './helpers.ts'

const api = (): string => services().api!.url
const locale = process.env.CARSHARE_LOCALE ?? 'fr'

describe('catalog', () => {
  test('the API is healthy and says which variant it is', async () => {
    const health = await getHealth(api())
    // `mq`: RabbitMQ; `cache`: Redis; neither: the billing queue is in PostgreSQL (see rig.config.ts).
    const queue = services().mq ? 'rabbitmq' : services().cache ? 'redis' : 'postgres'
    const used = (broker: string): string => (queue === broker ? 'ok' : 'not used')
    expect(health).toMatchObject({ status: 'ok', locale, queue, checks: { db: 'ok', redis: used('redis'), rabbitmq: used('rabbitmq') } })
  })

  test('cars carry labels in the deployment language', async () => {
    const cars = await listCars(api())
    expect(cars.length).toBeGreaterThan(2)
    const electric = cars.find((c) => c.electric)
    expect(electric?.label).toMatch(locale === 'fr' ? /électrique/i : /electric/i)
  })

  test('price plans are formatted for the locale', async () => {
    const plans = await listPlans(api())
    const standard = plans.find((p) => p.id === 'standard')
    expect(standard?.dailyPrice.currency).toBe('EUR')
    expect(standard?.dailyPrice.formatted).toMatch(locale === 'fr' ? /^\d+,\d{2}\s€$/ : /^€\d+\.\d{2}$/)
  })

  test('renting an unknown car is refused, and the API logs why', async () => {
    // The API logs `ERROR rental refused: …` on purpose: declared, so it does not fail the test.
    rig.expectLog('api', /rental refused: unknown car/)
    const err = await rentCar(api(), { carId: 'no-such-car' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(404)
  })
})
