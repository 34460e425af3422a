// The consumer project's suite (copied there as test/shop.test.ts), with the same three tests
// in every runner's copy: one clean, one that leaves a row behind through the app, one during
// which the app logs an error. rig must fail the last two, and say why.
import { expect, test } from 'vitest'
import { services } from 'testrig/vitest'

const app = (route: string, init?: RequestInit): Promise<Response> => fetch(`${services().app!.url}${route}`, init)

test('lists the items', async () => {
  expect((await app('/items')).status).toBe(200)
})

test('leaks a row', async () => {
  expect((await app('/items', { method: 'POST', body: 'forgotten' })).status).toBe(201)
})

test('logs an error', async () => {
  expect((await app('/checkout', { method: 'POST' })).status).toBe(502)
  // It goes on, as tests do. (The per-test scan reads rig's log files, which Vitest's main
  // process writes as output arrives: a test ending the instant the app logged could be
  // checked before the line is there.)
  expect((await app('/items')).status).toBe(200)
})
