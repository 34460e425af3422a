// The front end against the real system: sign in, list the cars, rent one, watch billing charge
// it. The DEMO test is marked `test.fail()`: rig makes it fail (that is the point), so the
// suite stays green; it shows a bug in the page's own code caught from the browser console.
import { test, expect } from 'testrig/playwright'
import type { Page } from '@playwright/test'
import { deleteRental } from '../test/db.ts'

const rented: string[] = []
test.afterEach(async () => {
  for (const id of rented.splice(0)) await deleteRental(id)
})

/** Signs in as `name` and rents the first car; returns once billing charged it. */
async function rentFirstCar(page: Page, name: string): Promise<void> {
  await page.goto('/')
  await page.getByLabel('Your name').fill(name)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByTestId('who')).toHaveText(name)
  const cars = page.getByTestId('cars').locator('li')
  await expect(cars.first()).toBeVisible()
  await cars.first().getByRole('button', { name: 'Rent' }).click()
  const rental = page.getByTestId('rental')
  await expect(rental).toBeVisible()
  rented.push((await rental.getAttribute('data-id')) ?? '')
  await expect(page.getByTestId('billing')).toHaveText('charged')
}

test('signs in, lists the cars and rents one; billing charges it', async ({ page }) => {
  await rentFirstCar(page, 'alice')
  await expect(page.getByTestId('quote')).not.toBeEmpty()
})

test('DEMO: the receipt button throws in the page (rig fails the test with the browser error)', async ({ page }) => {
  test.fail()
  await rentFirstCar(page, 'bob')
  await page.getByRole('button', { name: 'Receipt' }).click()
})
