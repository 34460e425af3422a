// Failover, run with the `failover` variant (a synchronous replica): the API takes rentals
// through rig's stable primary address all along; the test kills the primary, a replica is
// promoted, the API carries on, every rental it confirmed is there; the old primary rejoins and a
// switchover puts it back; a partition cuts the API off the database while the test still reaches
// both. The report lists the role changes and the fault under each test, and in its timeline.
//
//   RIG_VARIANT=failover npx vitest run test/failover.test.ts
import { describe, expect, test } from 'vitest'
import { expectLog, rig, service, variant } from 'testrig/vitest'
import { ApiError, getHealth, getRental, listCars, rentCar } from './helpers.ts'
import { deleteRental, deleteRentalsOf } from './db.ts'
import pg from 'pg'

const api = (): string => service('api').url
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// A role change waits for a replica to catch up, and a rejoin copies or rewinds a data dir:
// seconds on a loaded machine.
const ROLE_CHANGES = { timeout: 120_000 }

// One scenario in two steps: the rejoin needs the node the failover took down, so the steps keep
// their written order while the rest of the suite is shuffled by rig's seed.
describe.skipIf(variant() !== 'failover')('failover', { shuffle: false }, () => {
  test('the primary is killed while the API takes rentals: a replica is promoted, the API carries on, no confirmed rental is lost', ROLE_CHANGES, async () => {
    const db = service('db')
    const [car] = await listCars(api())
    // Traffic: rentals one after another all along, as callers would send them. Every one the
    // API confirmed (201) must be on the new primary; those the failover cuts fail and are not
    // counted (a commit cut before its answer may still have landed: removed at the end).
    const confirmed: string[] = []
    let stop = false
    let n = 0
    const traffic = (async () => {
      while (!stop) {
        try {
          confirmed.push((await rentCar(api(), { carId: car!.id, days: 1, customer: `failover-${n++}` })).id)
        } catch (err) {
          if (err instanceof ApiError && err.status < 500) throw err
        }
        await sleep(20)
      }
    })()
    const more = async (count: number): Promise<void> => {
      const target = confirmed.length + count
      for (const end = Date.now() + 60_000; confirmed.length < target; await sleep(20)) if (Date.now() > end) throw new Error(`the API confirmed ${confirmed.length} rentals, waited for ${target}`)
    }
    await more(3)

    // The connections the API and the worker held to the old primary are cut: their pools say
    // so, and a rental cut in the middle fails with the pool's error (and its stack).
    expectLog('api', /postgres pool|POST \/rentals failed|^\s*at /)
    expectLog('billing', /postgres pool|terminat|connection/i)
    // SIGKILL to the primary, then the replica that received the most is promoted.
    expect(await db.failover()).toBe('node1')
    expect((await db.topology()).nodes.map((n) => n.role)).toEqual(['down', 'primary'])
    // The API carries on through the same address.
    await more(3)
    stop = true
    await traffic
    await rig.settle()

    // Synchronous replication: every rental the API confirmed, before and during the failover, is
    // on the new primary.
    for (const id of confirmed) expect((await getRental(api(), id)).id).toBe(id)
    expect(await deleteRentalsOf('failover-')).toBeGreaterThanOrEqual(confirmed.length)
  })

  test('the old primary rejoins as a replica, and a switchover puts it back', ROLE_CHANGES, async () => {
    const db = service('db')
    const [car] = await listCars(api())
    const rented = [(await rentCar(api(), { carId: car!.id, days: 1, customer: 'ines' })).id]
    await rig.settle()
    const back = await db.rejoin()
    expect(back.nodes.map((n) => n.role)).toEqual(['replica', 'primary'])
    expectLog('api', /postgres pool/)
    expectLog('billing', /postgres pool|terminat|connection/i)
    const sw = await db.switchover({ to: 0 })
    expect(sw.change.text).toBe('switchover: node 1 → replica, node 0 promoted')
    expect((await db.topology()).changes.map((c) => c.text.split(':')[0])).toEqual(['failover', 'rejoin', 'switchover'])

    for (const id of rented) expect((await getRental(api(), id)).id).toBe(id)
    rented.push((await rentCar(api(), { carId: car!.id, days: 3, customer: 'jo' })).id)
    await rig.settle()
    for (const id of rented) await deleteRental(id)
  })

  test('a partition cuts the API off the database: its health says so while the test still reaches both; healed after the test', ROLE_CHANGES, async () => {
    expect((await getHealth(api())).checks.db).toBe('ok')
    await service('api').fault({ partition: 'db' })
    // The API's queries to the database get no answer: its health check times out.
    const cut = await getHealth(api()).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(cut).toBeInstanceOf(ApiError)
    expect(((cut as ApiError).body as { checks: { db: string } }).checks.db).toMatch(/^fail: timeout/)
    // The test reaches the database through the same primary address.
    const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
    await c.connect()
    try {
      expect((await c.query('select pg_is_in_recovery() as r')).rows[0]?.r).toBe(false)
    } finally {
      await c.end()
    }
  })
})
