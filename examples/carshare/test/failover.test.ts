// Failover, run with the `failover` variant (a synchronous replica): the API writes through
// rig's stable primary address; the test kills the primary, a replica is promoted, the API
// carries on, every committed write is there; the old primary rejoins and a switchover puts it
// back. The report lists the role changes under each test.
//
//   RIG_VARIANT=failover npx vitest run test/failover.test.ts
import { describe, expect, test } from 'vitest'
import { expectLog, rig, service, variant } from 'testrig/vitest'
import { getRental, listCars, rentCar } from './helpers.ts'
import { deleteRental } from './db.ts'

const api = (): string => service('api').url

// A role change waits for a replica to catch up, and a rejoin copies or rewinds a data dir:
// seconds on a loaded machine.
const ROLE_CHANGES = { timeout: 120_000 }

// One scenario in two steps: the rejoin needs the node the failover took down, so the steps keep
// their written order while the rest of the suite is shuffled by rig's seed.
describe.skipIf(variant() !== 'failover')('failover', { shuffle: false }, () => {
  test('the primary is killed, a replica is promoted, the API carries on and no committed rental is lost', ROLE_CHANGES, async () => {
    const db = service('db')
    const rented: string[] = []
    const [car] = await listCars(api())
    for (const customer of ['erin', 'farid', 'gus']) rented.push((await rentCar(api(), { carId: car!.id, days: 1, customer })).id)
    // Billing takes each rental: nothing in flight when the primary goes.
    await rig.settle()

    // The connections the API and the worker held to the old primary are cut: their pools say so.
    expectLog('api', /postgres pool/)
    expectLog('billing', /postgres pool|terminat|connection/i)
    // SIGKILL to the primary, then the replica that received the most is promoted.
    expect(await db.failover()).toBe('node1')
    expect((await db.topology()).nodes.map((n) => n.role)).toEqual(['down', 'primary'])

    // Synchronous replication: every rental the API confirmed is on the new primary.
    for (const id of rented) expect((await getRental(api(), id)).id).toBe(id)
    // The API writes again, through the same address.
    rented.push((await rentCar(api(), { carId: car!.id, days: 2, customer: 'hana' })).id)
    await rig.settle()
    for (const id of rented) await deleteRental(id)
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
})
