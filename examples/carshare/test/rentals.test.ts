import { expect, test } from 'vitest'
import { rig, services } from 'testrig/vitest'
import { getRental, listCars, rentCar, waitForBilling } from './helpers.ts'
import { deleteRental, paymentsOf } from './db.ts'

const api = (): string => services().api!.url

test('renting a car writes the rental, queues billing, the worker charges it and the API shows it', async () => {
  const [car] = await listCars(api())
  const rental = await rentCar(api(), { carId: car!.id, planId: 'standard', days: 2, customer: 'alice' })
  expect(rental.billing.status).toBe('pending')

  const billed = await waitForBilling(api(), rental.id)
  expect(billed.billing.status).toBe('charged')
  expect(billed.billing.amount).toEqual(rental.quote)
  expect((await getRental(api(), rental.id)).billing.chargedAt).not.toBeNull()

  await deleteRental(rental.id)
})

test('a week-long rental gets the weekly discount', async () => {
  const [car] = await listCars(api())
  const day = await rentCar(api(), { carId: car!.id, days: 1, customer: 'bob' })
  const week = await rentCar(api(), { carId: car!.id, days: 7, customer: 'bob' })
  expect(week.quote.cents).toBeLessThan(day.quote.cents * 7)
  await Promise.all([waitForBilling(api(), day.id), waitForBilling(api(), week.id)])
  await deleteRental(day.id)
  await deleteRental(week.id)
})

test('one action, then checks across systems: rig.settle() waits for billing to take the rental', async () => {
  const [car] = await listCars(api())
  // The API answers 201 once the rental is committed and its event queued; billing charges it
  // a few milliseconds later. Reading the payment now would race the worker.
  const rental = await rentCar(api(), { carId: car!.id, days: 3, customer: 'dana' })
  await rig.settle()
  expect(await paymentsOf(rental.id)).toEqual([{ amount_cents: rental.quote.cents, currency: rental.quote.currency }])
  expect((await getRental(api(), rental.id)).billing.status).toBe('charged')
  await deleteRental(rental.id)
})
