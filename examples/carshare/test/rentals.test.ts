import { expect, test } from 'vitest'
import { services } from 'testrig/vitest'
import { getRental, listCars, rentCar, waitForBilling } from './helpers.ts'
import { deleteRental } from './db.ts'

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
