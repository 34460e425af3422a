// Redis with `tls: true` against the real server rig starts: node-redis over rediss:// with
// rig's CA verifies it (and fails without the CA: the check is on), the plain port is off,
// rig's own clients (readiness, SHUTDOWN at stop, the guard, `rig check`'s expectRedis) speak
// TLS, and the bad input is refused before anything starts.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { respCommand } from '../../src/drivers/resp.ts'
import { expectRedis } from '../../src/checks/helpers/stores.ts'
import { createGuard, storesFor } from '../../src/guard/index.ts'
import { command, external, postgres, redis, tcp, type Environment } from '../../src/index.ts'
import { loadCA, type LocalCA } from '../../src/tls/ca.ts'
import type { ProvidedService } from '../../src/runner/provided.ts'
import { prepareWorkerDatabases } from '../../src/runner/worker-databases.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'
import { REPO } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

const project = `rtls-${process.pid}`
const APP = path.join(import.meta.dirname, 'fixtures/redis-app.mjs')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-redis-tls-'))

let ca: LocalCA
let env: Environment | undefined
beforeAll(() => {
  process.env.RIG_CA_DIR = path.join(tmp, 'ca')
  ca = loadCA() as LocalCA
})
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  delete process.env.RIG_CA_DIR
  fs.rmSync(tmp, { recursive: true, force: true })
  await assertNothingLeft()
})

type Client = { connect(): Promise<unknown>; sendCommand(a: string[]): Promise<unknown>; destroy(): void; on(e: 'error', f: (err: Error) => void): unknown }

/** A node-redis client as an application makes one: the URL, and the CA when given. */
async function client(url: string, caFile?: string): Promise<Client> {
  const { createClient } = await import('redis')
  const c = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 5000, ...(caFile ? { tls: true as const, ca: fs.readFileSync(caFile, 'utf8') } : {}) } }) as unknown as Client
  c.on('error', () => {})
  return c
}

describe('Redis with tls: true', () => {
  it('serves TLS only, with a certificate node-redis verifies against the CA; without the CA the connection is refused', async () => {
    const logsDir = path.join(tmp, 'logs')
    env = await start({ project, services: { cache: redis({ tls: true }) } }, { logsDir })
    const cache = env.get('cache')
    expect(cache.url).toMatch(/^rediss:\/\/default:[^@]+@127\.0\.0\.1:\d+$/)
    expect(cache.env.RIG_CACHE_CA_CERT).toBe(ca.certFile)
    expect(cache.env.RIG_CA_CERT).toBe(ca.certFile)
    expect(cache.env.NODE_EXTRA_CA_CERTS).toBeDefined()

    const good = await client(cache.url, cache.env.RIG_CACHE_CA_CERT)
    await good.connect()
    await good.sendCommand(['SET', 'greeting', 'hello'])
    expect(await good.sendCommand(['GET', 'greeting'])).toBe('hello')
    await good.sendCommand(['DEL', 'greeting'])
    good.destroy()

    // The same URL without the CA: Node's usual roots do not know rig's CA.
    const bad = await client(cache.url)
    const err = await rejection(bad.connect())
    expect(err.message).toMatch(/self[- ]signed certificate in certificate chain|unable to (get local issuer|verify)/)

    // No plain port: RESP without TLS on the same port gets no PONG.
    const plain = await rejection(respCommand('127.0.0.1', cache.port, [['PING']], AbortSignal.timeout(5000)))
    expect(plain.message).not.toBe('')

    // rig check's helper reaches it over TLS, verified.
    await expectRedis(cache.url)
    await env.stop()
    env = undefined
    // The stop asked Redis over TLS (SHUTDOWN NOSAVE): no SIGTERM was needed.
    const log = fs.readFileSync(path.join(logsDir, 'cache.log'), 'utf8')
    expect(log).toMatch(/User requested shutdown/)
    expect(log).not.toMatch(/Received SIGTERM/)
  })

  it('an application rig starts connects with the URL alone: NODE_EXTRA_CA_CERTS carries the CA', async () => {
    env = await start({
      project,
      services: {
        cache: redis({ tls: true }),
        api: command({ run: [process.execPath, APP], env: ({ cache }) => ({ REDIS_URL: cache?.url ?? '', PORT: '{port}' }), dependsOn: ['cache'], ready: tcp() }),
      },
    })
    const r = await fetch(env.get('api').url, { signal: AbortSignal.timeout(30_000) })
    expect(await r.json()).toEqual({ ok: true, ping: 'PONG' })
  })

  it("the guard sees a test's keys over TLS and removes them", async () => {
    env = await start({ project, services: { cache: redis({ tls: true }) } })
    const cache = env.get('cache')
    const app = await client(cache.url, cache.env.RIG_CACHE_CA_CERT)
    await app.connect()
    await app.sendCommand(['SET', 'config:currency', 'EUR'])
    const guard = createGuard({ stores: storesFor(env) })
    try {
      await guard.baseline()
      await app.sendCommand(['SET', 'session:1', 'a'])
      const rep = await guard.check('logs in')
      expect(rep.leaked).toBe(true)
      expect(rep.message).toContain('redis cache: 1 key added without TTL: session:1')
      expect(await app.sendCommand(['EXISTS', 'session:1'])).toBe(0)
      expect(await app.sendCommand(['GET', 'config:currency'])).toBe('EUR')
      expect((await guard.check('next')).leaked).toBe(false)
    } finally {
      await guard.close()
      app.destroy()
    }
  })

  it("per-worker databases (isolation: 'database') are copied and reached over TLS", async () => {
    env = await start({ project, services: { cache: redis({ tls: true }) } })
    const cache = env.get('cache')
    const app = await client(cache.url, cache.env.RIG_CACHE_CA_CERT)
    await app.connect()
    await app.sendCommand(['SET', 'config:currency', 'EUR'])
    const provided: ProvidedService = { name: 'cache', kind: 'redis', url: cache.url, host: cache.host, port: cache.port, pid: null, env: cache.env, logFile: '', errorPatterns: [], guarded: true, startedByRig: true }
    const dbs = await prepareWorkerDatabases({ cache: provided }, 2, 7)
    try {
      expect(provided.workerUrls).toEqual([expect.stringMatching(/^rediss:\/\/.*\/\d+$/), expect.stringMatching(/^rediss:\/\/.*\/\d+$/)])
      const w2 = await client(provided.workerUrls?.[1] as string, cache.env.RIG_CACHE_CA_CERT)
      await w2.connect()
      expect(await w2.sendCommand(['GET', 'config:currency'])).toBe('EUR')
      w2.destroy()
    } finally {
      await dbs.drop()
      app.destroy()
    }
  })

  it("under the Vitest plugin: each worker's guard reaches its copy over TLS, reports the key a test left and removes it", async () => {
    const p = pluginProject(`import { defineConfig, redis } from 'testrig'\nexport default defineConfig({ project: '${project}', services: { cache: redis({ tls: true }) } })\n`, "{ isolation: 'database', order: { shuffle: false } }")
    try {
      fs.symlinkSync(path.join(REPO, 'node_modules', 'redis'), path.join(p.dir, 'node_modules', 'redis'))
      const file = (n: number): string => `import fs from 'node:fs'
import { expect, test } from 'vitest'
import { createClient } from 'redis'
const client = async () => {
  const c = createClient({ url: process.env.RIG_CACHE_URL, socket: { tls: true, ca: fs.readFileSync(process.env.RIG_CACHE_CA_CERT, 'utf8'), reconnectStrategy: false } })
  await c.connect()
  return c
}
test('leaves a key ${n}', async () => {
  expect(process.env.RIG_CACHE_URL).toMatch(/^rediss:/)
  const c = await client()
  await c.set('session:${n}', 'a')
  c.destroy()
})
test('starts clean ${n}', async () => {
  const c = await client()
  expect(await c.exists('session:${n}')).toBe(0)
  c.destroy()
})
`
      for (const n of [1, 2]) p.write(`test/f${n}.test.ts`, file(n))
      const r = await vitest(p)
      expect(r.output).toContain('Data left behind by "leaves a key 1"')
      expect(r.output).toContain('redis cache: 1 key added without TTL: session:1')
      expect(r.output).toContain('redis cache: 1 key added without TTL: session:2')
      expect(r.output).toMatch(/× leaves a key 1[\s\S]*✓ starts clean 1/)
      expect(r.output).toMatch(/Tests\s+2 failed \| 2 passed \(4\)/)
      expect(r.code).toBe(1)
    } finally {
      await p.dispose()
    }
  }, 180_000)

  it("under isolation: 'stack', each worker's copy of the app reaches its Redis database over TLS with the URL alone", async () => {
    const p = pluginProject(
      `import { defineConfig, redis, command, tcp } from 'testrig'
export default defineConfig({ project: '${project}', services: {
  cache: redis({ tls: true }),
  api: command({ run: [process.execPath, ${JSON.stringify(APP)}], env: ({ cache }) => ({ REDIS_URL: cache.url, PORT: '{port}' }), dependsOn: ['cache'], ready: tcp() }),
} })
`,
      "{ isolation: 'stack', order: { shuffle: false } }",
    )
    try {
      fs.symlinkSync(path.join(REPO, 'node_modules', 'redis'), path.join(p.dir, 'node_modules', 'redis'))
      const file = (n: number): string => `import { expect, test } from 'vitest'
import { services } from 'testrig/vitest'
test('the copy of the app pings its database ${n}', async () => {
  const r = await fetch(services().api.url)
  expect(await r.json()).toEqual({ ok: true, ping: 'PONG' })
})
`
      for (const n of [1, 2]) p.write(`test/f${n}.test.ts`, file(n))
      const r = await vitest(p)
      expect(r.output).toMatch(/Tests\s+2 passed \(2\)/)
      expect(r.code).toBe(0)
    } finally {
      await p.dispose()
    }
  }, 180_000)

  it('bad input is refused before anything starts', () => {
    expect(() => validateConfig({ services: { cache: redis({ tls: 'yes' as never }) } })).toThrow(/tls must be true or false/)
    expect(() => validateConfig({ services: { cache: redis({ tls: true, replicas: 1 }) } })).toThrow(/`tls: true` with replicas is not supported.*Remove `tls`/)
    expect(() => validateConfig({ services: { cache: redis({ tls: true, sentinels: 3 }) } })).toThrow(/`tls: true` with sentinels is not supported/)
    expect(() => validateConfig({ services: { cache: redis({ tls: true, settings: { port: 6380 } }) } })).toThrow(/sets `port` itself/)
    expect(() => validateConfig({ services: { cache: redis({ ssl: true } as never) } })).toThrow(/unknown option "ssl" — did you mean "tls"\?/)
    expect(() => validateConfig({ services: { db: postgres({ tls: true } as never) } })).toThrow(/unknown option "tls" — did you mean "ssl"\?/)
    expect(() => validateConfig({ services: { cache: external({ url: 'redis://127.0.0.1:6379', tls: true } as never) } })).toThrow(/unknown option "tls": an external\(\) service is reached over TLS through its URL \(`rediss:/)
  })
})
