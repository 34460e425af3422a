// The consumer project's suite for node:test (copied there as test/shop.test.js): the same
// three tests as every runner's copy. rig must fail the last two, and say why.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rig } from 'testrig/node-test'

const app = (route, init) => fetch(`${rig.services().app.url}${route}`, init)

test('lists the items', async () => {
  assert.equal((await app('/items')).status, 200)
})

test('leaks a row', async () => {
  assert.equal((await app('/items', { method: 'POST', body: 'forgotten' })).status, 201)
})

test('logs an error', async () => {
  assert.equal((await app('/checkout', { method: 'POST' })).status, 502)
  // It goes on, as tests do (the app's line reaches rig's log file as it is written).
  assert.equal((await app('/items')).status, 200)
})
