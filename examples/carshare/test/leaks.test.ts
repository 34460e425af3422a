// Two tests that misbehave on purpose, so the demo shows what rig catches. They are marked
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
