// The environment engine against real servers: PostgreSQL, Redis, the team's own processes,
// and the system PostgreSQL as an external service.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { respCommand } from '../../src/drivers/resp.ts'
import { command, external, http, logLine, postgres, redis, type Environment, type EnvEvent } from '../../src/index.ts'
import { assertNothingLeft, spawned, start } from '../support/env.ts'
import { groupAlive } from '../support/procs.ts'

const FIX = path.join(import.meta.dirname, '../support/fixtures')
const NODE = process.execPath
const echoServer = (extra: Partial<Parameters<typeof command>[0]> = {}) => command({ run: [NODE, path.join(FIX, 'echo-server.cjs')], ready: http('/health'), ...extra })

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  // Every pid any test here spawned, checked once more at the end.
  expect(spawned.size).toBeGreaterThan(5)
  await assertNothingLeft()
})

function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

describe('postgres()', () => {
  it('runs a real server honouring database, user and settings', async () => {
    env = await start({ services: { db: postgres({ database: 'app', user: 'alice', settings: { work_mem: '8MB', log_min_messages: 'info' } }) } })
    const db = env.get('db')
    const password = env.vars().RIG_DB_PASSWORD
    expect(password).toMatch(/^[\w-]{24}$/)
    expect(db.url).toBe(`postgres://alice:${password}@127.0.0.1:${db.port}/app`)
    expect(db.provider).toBe('process')
    expect(db.status).toBe('ready')
    expect(db.pid).toBeGreaterThan(0)
    const { rows } = await pgQuery<Record<string, string>>(db.url, 'select 1 as one, current_user as u, current_database() as d')
    expect(rows[0]).toEqual({ one: 1, u: 'alice', d: 'app' })
    for (const [name, want] of [['fsync', 'off'], ['synchronous_commit', 'off'], ['full_page_writes', 'off'], ['work_mem', '8MB']] as const) {
      const r = await pgQuery<Record<string, string>>(db.url, `show ${name}`)
      expect(r.rows[0]?.[name], name).toBe(want)
    }
    expect(env.vars()).toMatchObject({ RIG_DB_URL: db.url, RIG_DB_HOST: '127.0.0.1', RIG_DB_PORT: String(db.port), RIG_DB_DATABASE: 'app', RIG_DB_USER: 'alice', RIG_DB_PASSWORD: password })
  })

  it('gives two instances separate ports and data', async () => {
    env = await start({ services: { a: postgres(), b: postgres() } })
    const [a, b] = [env.get('a'), env.get('b')]
    expect(a.port).not.toBe(b.port)
    await pgQuery(a.url, 'create table only_in_a (id int)')
    const r = await pgQuery<{ n: string }>(b.url, `select count(*)::text as n from pg_tables where tablename = 'only_in_a'`)
    expect(r.rows[0]?.n).toBe('0')
  })
})

describe('redis()', () => {
  it('runs a real server answering PING, SET and GET', async () => {
    env = await start({ services: { cache: redis({ settings: { maxmemory: '16mb' } }) } })
    const c = env.get('cache')
    const password = env.vars().RIG_CACHE_PASSWORD as string
    expect(c.url).toBe(`redis://default:${password}@127.0.0.1:${c.port}`)
    const auth = ['AUTH', password]
    expect(await respCommand('127.0.0.1', c.port, [auth, ['PING']])).toBe('PONG')
    expect(await respCommand('127.0.0.1', c.port, [auth, ['SET', 'k', 'v'], ['GET', 'k']])).toBe('v')
    expect(await respCommand('127.0.0.1', c.port, [auth, ['CONFIG', 'GET', 'maxmemory']])).toEqual(['maxmemory', String(16 * 1024 * 1024)])
    expect(env.vars()).toMatchObject({ RIG_CACHE_URL: c.url, RIG_CACHE_PORT: String(c.port) })
  })
})

describe('command()', () => {
  it('hands dependencies addresses through placeholders and a function env', async () => {
    env = await start({
      services: {
        db: postgres({ database: 'app' }),
        cache: redis(),
        api: echoServer({
          dependsOn: ['db', 'cache'],
          env: { PORT: '{port}', DB: '{db.url}', CACHE_PORT: '{cache.port}', CACHE_HOST: '{cache.host}', SELF: '{url}', NAME: '{name}' },
        }),
        fn: echoServer({
          dependsOn: ['db'],
          env: ({ db }, self) => ({ PORT: String(self.port), DATABASE_URL: db?.url ?? 'missing', DIR: self.dir }),
        }),
      },
    })
    const api = env.get('api')
    const get = async (svc: string, name: string) => (await fetch(`${env!.get(svc).url}/env/${name}`)).text()
    expect(await get('api', 'DB')).toBe(env.get('db').url)
    expect(await get('api', 'CACHE_PORT')).toBe(String(env.get('cache').port))
    expect(await get('api', 'CACHE_HOST')).toBe('127.0.0.1')
    expect(await get('api', 'SELF')).toBe(api.url)
    expect(await get('api', 'NAME')).toBe('api')
    // Dependencies' RIG_* vars are exported to dependents too.
    expect(await get('api', 'RIG_DB_URL')).toBe(env.get('db').url)
    expect(await get('fn', 'DATABASE_URL')).toBe(env.get('db').url)
    expect(await get('fn', 'DIR')).toBe(env.get('fn').dir)
    expect(await get('fn', 'PORT')).toBe(String(env.get('fn').port))
  })

  it('waits for a one-shot migration to complete before starting the API', async () => {
    env = await start({
      services: {
        db: postgres(),
        migrate: command({ run: [NODE, path.join(FIX, 'migrate.cjs')], dependsOn: ['db'], env: { DATABASE_URL: '{db.url}' } }),
        api: echoServer({ dependsOn: { db: 'ready', migrate: 'completed' }, env: { PORT: '{port}' } }),
      },
    })
    const m = env.get('migrate')
    expect(m.status).toBe('completed')
    expect(m.timeline.completedAt).toBeDefined()
    expect(env.get('api').timeline.startingAt).toBeGreaterThanOrEqual(m.timeline.completedAt!)
    const r = await pgQuery<{ n: string }>(env.get('db').url, `select count(*)::text as n from pg_tables where tablename = 'migrated'`)
    expect(r.rows[0]?.n).toBe('1')
    const types = env.events.filter((e) => e.service === 'migrate').map((e) => e.type)
    expect(types).toContain('completed')
  })

  it('lets a dependent on `started` go ahead before its dependency is ready', async () => {
    env = await start({
      services: {
        slow: command({ run: ['sh', '-c', 'sleep 1.5; echo now ready; exec sleep 600'], ready: logLine('now ready') }),
        eager: command({ run: ['sleep', '600'], dependsOn: { slow: 'started' } }),
      },
    })
    expect(env.get('eager').timeline.startingAt!).toBeLessThan(env.get('slow').timeline.readyAt!)
  })

  it('starts independent services concurrently', async () => {
    const slow = (n: string) => command({ run: ['sh', '-c', `sleep 1; echo ${n} up; exec sleep 600`], ready: logLine(`${n} up`) })
    env = await start({ services: { db: postgres(), cache: redis(), w1: slow('w1'), w2: slow('w2'), after: command({ run: ['sleep', '600'], dependsOn: ['w1', 'w2'] }) } })
    const t = (n: string) => env!.get(n).timeline
    const independents = ['db', 'cache', 'w1', 'w2']
    const lastStart = Math.max(...independents.map((n) => t(n).startingAt!))
    const firstReady = Math.min(...independents.map((n) => t(n).readyAt!))
    expect(lastStart).toBeLessThan(firstReady)
    expect(t('after').startingAt!).toBeGreaterThanOrEqual(Math.max(t('w1').readyAt!, t('w2').readyAt!))
  })
})

describe('external()', () => {
  it('probes the system PostgreSQL and hands out its address without running anything', async () => {
    env = await start({ services: { sys: external({ url: 'postgres://postgres@127.0.0.1:5432/postgres', exports: { ROLE: 'reader' } }) } })
    const sys = env.get('sys')
    expect(sys).toMatchObject({ host: '127.0.0.1', port: 5432, provider: 'external', status: 'ready', pid: undefined })
    expect(env.vars()).toMatchObject({ RIG_SYS_URL: 'postgres://postgres@127.0.0.1:5432/postgres', RIG_SYS_PORT: '5432', RIG_SYS_ROLE: 'reader' })
    await env.stop()
    env = undefined
    // Stopping the environment never touches an external service.
    expect(await tcpOpen(5432)).toBe(true)
  })
})

describe('stopping', () => {
  it('stops dependents before their dependencies', async () => {
    const events: EnvEvent[] = []
    env = await start(
      {
        services: {
          db: postgres(),
          cache: redis(),
          api: echoServer({ dependsOn: ['db', 'cache'], env: { PORT: '{port}' } }),
          worker: command({ run: ['sleep', '600'], dependsOn: ['api'] }),
        },
      },
      { onEvent: (e) => events.push(e) },
    )
    await env.stop()
    const idx = (type: string, svc: string) => events.findIndex((e) => e.type === type && e.service === svc)
    for (const s of ['db', 'cache', 'api', 'worker']) expect(idx('stopped', s), s).toBeGreaterThan(-1)
    expect(idx('stopped', 'worker')).toBeLessThan(idx('stopping', 'api'))
    expect(idx('stopped', 'api')).toBeLessThan(idx('stopping', 'db'))
    expect(idx('stopped', 'api')).toBeLessThan(idx('stopping', 'cache'))
    for (const s of Object.values(env.services)) expect(s.status).toBe('stopped')
    await assertNothingLeft(env)
  })

  it('stops everything and removes its dir with `await using`', async () => {
    let dir = ''
    let pids: number[] = []
    {
      await using e = await start({ services: { db: postgres(), cache: redis() } })
      dir = e.dir
      pids = Object.values(e.services).map((s) => s.pid!)
      expect(fs.existsSync(dir)).toBe(true)
      expect(pids.every(groupAlive)).toBe(true)
    }
    expect(fs.existsSync(dir)).toBe(false)
    expect(pids.some(groupAlive)).toBe(false)
  })

  it('is idempotent', async () => {
    env = await start({ services: { cache: redis() } })
    await Promise.all([env.stop(), env.stop()])
    await env.stop()
    await assertNothingLeft(env)
  })
})

describe('logs', () => {
  it('captures stdout and stderr with timestamps to files and keeps a tail', async () => {
    const logsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-logs-'))
    try {
      env = await start(
        { services: { talk: command({ run: ['sh', '-c', 'echo to-out; echo to-err >&2; echo done; exec sleep 600'], ready: logLine('done') }), cache: redis() } },
        { logsDir },
      )
      const talk = env.get('talk')
      expect(talk.logs.file).toBe(path.join(logsDir, 'talk.log'))
      const tail = talk.logTail()
      expect(tail.some((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout +to-out$/.test(l))).toBe(true)
      expect(tail.some((l) => /Z stderr +to-err$/.test(l))).toBe(true)
      // Ready is a PING answered; the log line travels through a pipe and may land a moment later.
      await expect.poll(() => env!.get('cache').logLines().some((l) => /Ready to accept connections/i.test(l)), { timeout: 5000 }).toBe(true)
      await env.stop()
      env = undefined
      // Files stay after the stop when they live outside the environment's dir.
      const text = fs.readFileSync(path.join(logsDir, 'talk.log'), 'utf8')
      expect(text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout +to-out$/m)
      expect(text).toMatch(/Z stderr +to-err$/m)
      expect(fs.readFileSync(path.join(logsDir, 'cache.log'), 'utf8')).toMatch(/Ready to accept connections/)
    } finally {
      fs.rmSync(logsDir, { recursive: true, force: true })
    }
  })
})

describe('postgres({ provider: "embedded" })', () => {
  it('serves PGlite over a socket', async () => {
    env = await start({ services: { db: postgres({ provider: 'embedded', readyTimeout: 60_000 }) } })
    const db = env.get('db')
    expect(db.provider).toBe('embedded')
    expect((await pgQuery<{ one: number }>(db.url, 'select 1 as one')).rows[0]?.one).toBe(1)
    // PGlite compiles its WebAssembly at every start: tens of seconds on a loaded machine (readyTimeout is scaled by 2 under CI).
  }, 180_000)

  it('refuses what PGlite cannot do, clearly', async () => {
    const err = await start({ services: { db: postgres({ provider: 'embedded', database: 'app' }) } }).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    )
    expect(err?.code).toBe('RIG_EMBEDDED_UNSUPPORTED')
    expect(err?.message).toContain('single database named "postgres"')
  })
})
