// The consumer project's suite for Playwright Test (copied there as e2e/shop.spec.ts): the
// same three tests as every runner's copy, the first one in Chromium. rig must fail the last
// two, and say why.
import { test, expect } from 'testrig/playwright'

test('lists the items', async ({ page, services }) => {
  await page.goto(`${services.app!.url}/items`)
  await expect(page.locator('body')).toContainText('[')
})

test('leaks a row', async ({ request, services }) => {
  expect((await request.post(`${services.app!.url}/items`, { data: 'forgotten' })).status()).toBe(201)
})

test('logs an error', async ({ request, services }) => {
  expect((await request.post(`${services.app!.url}/checkout`)).status()).toBe(502)
  // It goes on, as tests do (the app's line reaches rig's log file as it is written).
  expect((await request.get(`${services.app!.url}/items`)).status()).toBe(200)
})
