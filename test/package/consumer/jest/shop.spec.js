// The consumer project's suite for Jest (copied there as test/shop.test.js): the same three
// tests as every runner's copy. rig must fail the last two, and say why.
import { expect, test } from '@jest/globals'
import { rig } from 'testrig/jest'

const app = (route, init) => fetch(`${rig.services().app.url}${route}`, init)

test('lists the items', async () => {
  expect((await app('/items')).status).toBe(200)
})

test('leaks a row', async () => {
  expect((await app('/items', { method: 'POST', body: 'forgotten' })).status).toBe(201)
})

test('logs an error', async () => {
  expect((await app('/checkout', { method: 'POST' })).status).toBe(502)
  // It goes on, as tests do (the app's line reaches rig's log file as it is written).
  expect((await app('/items')).status).toBe(200)
})
