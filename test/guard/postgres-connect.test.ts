import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, postgresStore } from '../../src/guard/index.ts'
import { connectGuard, GuardConnectError, openGuardSession } from '../../src/guard/postgres/connection.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { waitUntil } from '../support/procs.ts'
import { sql } from './helpers.ts'

// A loaded machine, played by a real server frozen with SIGSTOP: it accepts the TCP connection
// (the kernel does) and answers nothing until SIGCONT.
describe('postgres guard: connecting on a loaded machine', () => {
  let env: Environment
  let url: string

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'app' }) } }))
    url = env.get('db').url
    await sql(url, `create table cars (id serial primary key, name text)`)
  })

  afterAll(async () => {
    if (env?.get('db').status === 'paused') env.get('db').resume()
    await env?.stop()
  })

  /** Freezes the server for `ms`, then lets it go on. */
  const freezeFor = (ms: number): Promise<void> => {
    env.get('db').pause()
    return new Promise((resolve) =>
      setTimeout(() => {
        env.get('db').resume()
        resolve()
      }, ms),
    )
  }

  it('tries an attempt that timed out again, longer, and connects once the server answers', async () => {
    const retries: string[] = []
    const thawed = freezeFor(1500)
    const client = await connectGuard(url, { waitMs: 30_000, firstAttemptMs: 300, onRetry: (_, err) => retries.push((err as Error).message) })
    await thawed
    try {
      expect((await client.query<{ n: number }>('select 1 as n')).rows).toEqual([{ n: 1 }])
    } finally {
      await client.end()
    }
    // 300 ms, then 600 ms timed out while the server was frozen.
    expect(retries.length).toBeGreaterThanOrEqual(2)
    expect(retries[0]).toMatch(/timeout expired|terminated/i)
  })

  it('takes its baseline through a freeze longer than the first attempt', async () => {
    // The first attempt gives up after 5 s; the second waits 10 s.
    const thawed = freezeFor(5500)
    await using guard = createGuard({ stores: [postgresStore(env.get('db'), { connectTimeoutMs: 30_000 })] })
    await guard.baseline()
    await thawed
    await sql(url, `insert into cars (name) values ('x')`)
    const r = await guard.check('writes after the freeze')
    expect(r.stores[0]?.changes.map((c) => c.text)).toContain('public.cars +1 row')
  })

  it('names the database, the wait and what to do when the server stays frozen', async () => {
    env.get('db').pause()
    try {
      const err = await connectGuard(url, { waitMs: 1200, firstAttemptMs: 300 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GuardConnectError)
      expect((err as GuardConnectError).attempts).toBeGreaterThanOrEqual(2)
      expect((err as Error).message).toMatch(/could not connect to database "app" at postgres:\/\/postgres@127\.0\.0\.1:\d+\/app within 1\.2 s \(\d+ attempts/)
      expect((err as Error).message).toMatch(/run fewer workers, or wait longer with the store option `connectTimeoutMs` or RIG_GUARD_CONNECT_TIMEOUT_MS/)
      // Through the store: the guard reports it as unavailable, with the same words.
      const guard = createGuard({ stores: [postgresStore(env.get('db'), { connectTimeoutMs: 800 })] })
      const failed = await guard.baseline().catch((e: unknown) => e)
      expect((failed as Error).message).toMatch(/store "db" .* could not connect to database "app" .* within 0\.8 s/s)
      await guard.close()
    } finally {
      env.get('db').resume()
    }
  })

  it('gives up within a few seconds on a server that refuses connections, and says so', async () => {
    const port = new URL(url).port
    const down = url.replace(`:${port}/`, `:1/`)
    const err = await connectGuard(down, { waitMs: 60_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GuardConnectError)
    expect((err as Error).message).toMatch(/could not connect to database "app" .*: refused for \d+(\.\d)? s .*ECONNREFUSED.*`rig env status`/s)
  })

  it('closes its connection when the server rejects the session settings', async () => {
    // lock_timeout above 2^31-1 ms: the server refuses the session's SET.
    const probe = new URL(url)
    probe.searchParams.set('application_name', 'rig-settings-probe')
    const sessions = async (): Promise<number> => (await sql<{ n: number }>(url, `select count(*)::int as n from pg_stat_activity where application_name = 'rig-settings-probe'`))[0]?.n ?? -1
    await expect(openGuardSession(probe.href, 1e10)).rejects.toThrow(/lock_timeout/)
    expect(await waitUntil(async () => (await sessions()) === 0, 5000)).toBe(true)
  })

  it('refuses a connect timeout that is not a positive number', () => {
    expect(() => postgresStore(env.get('db'), { connectTimeoutMs: 0 })).toThrow(/connect timeout must be a number of milliseconds above 0, got 0/)
    const before = process.env.RIG_GUARD_CONNECT_TIMEOUT_MS
    process.env.RIG_GUARD_CONNECT_TIMEOUT_MS = 'soon'
    try {
      expect(() => postgresStore(env.get('db'))).toThrow(/got "soon" \(option `connectTimeoutMs` or RIG_GUARD_CONNECT_TIMEOUT_MS\)/)
    } finally {
      if (before === undefined) delete process.env.RIG_GUARD_CONNECT_TIMEOUT_MS
      else process.env.RIG_GUARD_CONNECT_TIMEOUT_MS = before
    }
  })
})
