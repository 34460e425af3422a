// The guard host's test files on one session: a file that loaded no fixture sends "ended" without
// waiting for the answer, so it can reach the host after the next file's "open" (another worker
// process). Such a late "ended" must not mark the next file as ended: were that file's worker to
// die mid-test, the file after it would not have its stores put back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'redis'
import { redis, type Environment } from '../../src/index.ts'
import { unixRequest } from '../../src/env/unix-http.ts'
import { serveGuard, type GuardHost } from '../../src/runner/guard-host.ts'
import { start } from '../support/env.ts'
import { guardedProvided } from '../support/provided.ts'

let env: Environment
let env2: Environment
let host: GuardHost
beforeAll(async () => {
  env = await start({ services: { cache: redis() } })
  env2 = await start({ services: { cache2: redis() } })
  const provided = guardedProvided(env, 'cache', { kind: 'redis', startedByRig: true })
  host = await serveGuard(provided)
}, 60_000)
afterAll(async () => {
  await host?.close()
  await env?.stop()
  await env2?.stop()
})

const ask = async (op: string, body: Record<string, unknown>): Promise<unknown> => {
  const r = await unixRequest(host.socket, 'POST', `/${op}`, JSON.stringify({ worker: 1, ...body }))
  expect(r.status, r.body).toBe(200)
  return JSON.parse(r.body)
}

describe('the guard host, file after file', () => {
  it("ignores a file's late \"ended\": the next file, whose worker died, is still put back when the one after it begins", async () => {
    const client = createClient({ url: env.get('cache').url })
    await client.connect()
    try {
      expect(await ask('open', { file: 'a' })).toEqual({ guarded: true })
      // File b begins before a's "ended" came in; then it arrives.
      await ask('open', { file: 'b' })
      await ask('end', { file: 'a' })
      // b's worker dies mid-test, after writing: no check, no "ended".
      await client.set('left-by-b', '1')
      await ask('open', { file: 'c' })
      expect(await client.exists('left-by-b')).toBe(0)
      // c's own "ended" ends it: the next file finds nothing to put back, and a write after that is d's.
      await ask('end', { file: 'c' })
      await ask('open', { file: 'd' })
      await client.set('left-by-d', '1')
      expect(await ask('check', { file: 'd', test: { name: 'writes', file: 'd.test.ts', failed: false }, allowed: [] })).toMatchObject({ leaks: [{ store: 'redis cache' }] })
      expect(await client.exists('left-by-d')).toBe(0)
    } finally {
      await client.quit()
    }
  })

  it('puts back the stores of a file whose worker died past a store rig only watches', async () => {
    // A second host whose first store is watched only (rig did not start it): its restore refuses.
    const watched = guardedProvided(env, 'cache', { kind: 'redis', startedByRig: false, name: 'watched' })
    const both = guardedProvided(env2, 'cache2', { kind: 'redis', startedByRig: true })
    both.services = { watched: { ...watched.services.cache!, name: 'watched' }, ...both.services }
    const host2 = await serveGuard(both)
    const client = createClient({ url: env2.get('cache2').url })
    await client.connect()
    try {
      const open = async (file: string) => {
        const r = await unixRequest(host2.socket, 'POST', '/open', JSON.stringify({ worker: 1, file }))
        expect(r.status, r.body).toBe(200)
      }
      await open('a')
      // a's worker dies after writing to the store rig started: the next file's open puts it back.
      await client.set('left-by-a', '1')
      await open('b')
      expect(await client.exists('left-by-a')).toBe(0)
    } finally {
      await client.quit()
      await host2.close()
    }
  })
})
