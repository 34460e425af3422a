// Three tests that misbehave on purpose, so the demo shows what rig catches. They are marked
// `test.fails`: rig makes them fail (that is the point), so the suite stays green, and the
// report still lists the leaked rows and the logged error against them.
import { test } from 'vitest'
import { services } from 'testrig/vitest'
import { listCars, rentCar, waitForBilling } from './helpers.ts'

const api = (): string => services().api!.url

test.fails('DEMO: forgets to delete its rental (rig reports the rows it left)', async () => {
  const [car] = await listCars(api())
  const rental = await rentCar(api(), { carId: car!.id, customer: 'carol' })
  await waitForBilling(api(), rental.id)
  // no deleteRental(rental.id): public.rentals +1 row, public.payments +1 row
})

test.fails('DEMO: triggers an error nobody looked at (rig reports the log line)', async () => {
  const [car] = await listCars(api())
  // The API answers 201 but logs `ERROR payment provider timeout` for this customer.
  const rental = await rentCar(api(), { carId: car!.id, customer: 'crash-test' })
  await waitForBilling(api(), rental.id)
  const { deleteRental } = await import('./db.ts')
  await deleteRental(rental.id)
})

test.fails('DEMO: ends while billing is still charging (rig waits, then says what was still moving)', async () => {
  const [car] = await listCars(api())
  // Billing's payment provider takes 3 s for this customer; the test ends at once. rig waits
  // for the work in flight up to its deadline (2 s), then fails the test with what was still
  // moving (the event billing holds unacknowledged, or the Redis job it is working on), and
  // cleans up. The PostgreSQL queue has no such delay: its test fails on the rows it leaves.
  await rentCar(api(), { carId: car!.id, customer: 'slow-bank' })
})
