// Controls of a single service, as failover tests use them: stop, kill, restart, pause, resume.
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { controlRequest } from '../../src/env/control-client.ts'
import { serveControl } from '../../src/env/control-server.ts'
import { external, postgres, redis, redisPing, runProbe, tcp, type Environment } from '../../src/index.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { groupAlive, pidAlive, waitUntil } from '../support/procs.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const ping = (url: string, timeoutMs = 1000) => runProbe(redisPing({ url }), { timeoutMs })

/** State letter and process group of a process, from /proc. */
function procStat(pid: number): { state: string; pgrp: number } {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return { state: f[0] ?? '?', pgrp: Number(f[2]) }
}

/** Pids the environment's registry holds for the watchdog. */
const recorded = (e: Environment): number[] => (JSON.parse(fs.readFileSync(path.join(e.dir, 'processes.json'), 'utf8')) as Array<{ pid: number }>).map((p) => p.pid)

describe('pause / resume', () => {
  it('freezes Redis: PING times out while paused and passes after resume', async () => {
    env = await start({ services: { cache: redis() } })
    const c = env.get('cache')
    expect((await ping(c.url)).status).toBe('pass')
    c.pause()
    expect(c.status).toBe('paused')
    const frozen = await ping(c.url, 300)
    expect(frozen).toMatchObject({ status: 'fail', reason: 'timeout' })
    c.resume()
    expect(c.status).toBe('ready')
    expect(await waitUntil(async () => (await ping(c.url)).status === 'pass')).toBe(true)
    expect(env.events.map((e) => e.type)).toEqual(expect.arrayContaining(['paused', 'resumed']))
  })

  it('freezes PostgreSQL: a query hangs while paused', async () => {
    env = await start({ services: { db: postgres() } })
    const db = env.get('db')
    db.pause()
    const ac = new AbortController()
    const hung = pgQuery(db.url, 'select 1', { signal: ac.signal }).then(
      () => 'answered',
      () => 'failed',
    )
    const first = await Promise.race([hung, new Promise((r) => setTimeout(() => r('hanging'), 500))])
    expect(first).toBe('hanging')
    ac.abort()
    await hung
    db.resume()
    expect((await pgQuery<{ one: number }>(db.url, 'select 1 as one')).rows[0]?.one).toBe(1)
  })

  it('freezes connections opened before the pause: a pooled PostgreSQL connection does not answer until resume', async () => {
    env = await start({ services: { db: postgres() } })
    const db = env.get('db')
    const pool = new pg.Pool({ connectionString: db.url, max: 1 })
    pool.on('error', () => {})
    try {
      const backend = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid as number
      // The backend left the postmaster's process group: a signal to the group alone misses it.
      expect(procStat(backend).pgrp).not.toBe(db.pid)
      db.pause()
      // A signal takes effect when the process next runs: poll for the stopped state.
      expect(await waitUntil(() => procStat(backend).state === 'T' && procStat(db.pid!).state === 'T')).toBe(true)
      // Recorded for the watchdog while frozen (rig dying now must not leave it stopped forever).
      expect(recorded(env)).toContain(backend)
      const answer = pool.query('select 1 as one').then(
        () => 'answered',
        (err: Error) => `failed: ${err.message}`,
      )
      expect(await Promise.race([answer, new Promise((r) => setTimeout(() => r('hanging'), 1000))])).toBe('hanging')
      db.resume()
      expect(await answer).toBe('answered')
      expect(recorded(env)).not.toContain(backend)
    } finally {
      await pool.end()
    }
  })

  it('kill of a paused PostgreSQL leaves no frozen backend behind', async () => {
    env = await start({ services: { db: postgres() } })
    const db = env.get('db')
    const client = new pg.Client({ connectionString: db.url })
    client.on('error', () => {})
    await client.connect()
    const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid as number
    db.pause()
    await db.kill()
    expect(await waitUntil(() => !pidAlive(backend))).toBe(true)
    void client.end().catch(() => {})
  })

  it('stops a paused service without waiting for the grace period', async () => {
    env = await start({ services: { cache: redis() } })
    const pid = env.get('cache').pid!
    env.get('cache').pause()
    const t = performance.now()
    await env.stop()
    expect(groupAlive(pid)).toBe(false)
    // SIGTERM to a stopped process is only delivered after SIGCONT; stop() resumes it first.
    expect(performance.now() - t).toBeLessThan(2900)
  })
})

describe('stop / kill / restart', () => {
  it('restart keeps the port and the data', async () => {
    env = await start({ services: { db: postgres({ database: 'app' }) } })
    const db = env.get('db')
    const { port, url } = db
    const pid1 = db.pid!
    await pgQuery(db.url, 'create table kept (v text)')
    await pgQuery(db.url, `insert into kept values ('survives')`)
    await db.restart()
    expect(db.status).toBe('ready')
    expect(db.port).toBe(port)
    expect(db.url).toBe(url)
    expect(db.pid).toBeGreaterThan(0)
    expect(db.pid).not.toBe(pid1)
    expect(groupAlive(pid1)).toBe(false)
    const r = await pgQuery<{ v: string }>(db.url, 'select v from kept')
    expect(r.rows.map((x) => x.v)).toContain('survives')
  })

  it('stop closes the port; restart brings it back', async () => {
    env = await start({ services: { cache: redis() } })
    const c = env.get('cache')
    const pid = c.pid!
    await c.stop()
    expect(c.status).toBe('stopped')
    expect(c.pid).toBeUndefined()
    expect(groupAlive(pid)).toBe(false)
    expect((await runProbe(tcp(), { target: c })).reason).toBe('connect')
    await c.restart()
    expect(c.status).toBe('ready')
    expect((await ping(c.url)).status).toBe('pass')
  })

  it('kill SIGKILLs the whole group, like a crash', async () => {
    env = await start({ services: { db: postgres() } })
    const db = env.get('db')
    const pid = db.pid!
    await db.kill()
    expect(db.status).toBe('stopped')
    expect(await waitUntil(() => !groupAlive(pid))).toBe(true)
    // A crashed PostgreSQL recovers on restart.
    await db.restart()
    expect((await pgQuery<{ one: number }>(db.url, 'select 1 as one')).rows[0]?.one).toBe(1)
  })

  it('reports a service that dies on its own', async () => {
    env = await start({ services: { cache: redis() } })
    const c = env.get('cache')
    process.kill(c.pid!, 'SIGKILL')
    expect(await waitUntil(() => c.status === 'exited')).toBe(true)
    expect(env.events.some((e) => e.type === 'exited' && e.service === 'cache' && e.signal === 'SIGKILL')).toBe(true)
    expect(c.logLines().at(-1)).toMatch(/exited unexpectedly/)
  })

  it('names the service when pausing one that is not running', async () => {
    env = await start({ services: { cache: redis() } })
    await env.get('cache').stop()
    expect(() => env!.get('cache').pause()).toThrow(/"cache" is not running/)
    expect(() => env!.get('nope')).toThrow(/no service "nope"/)
  })

  it('refuses to control an external service with a usage error, also through the control socket', async () => {
    // The machine's own Redis, only pinged: rig must not touch it.
    env = await start({ services: { ext: external({ url: 'redis://127.0.0.1:6379' }) } })
    const svc = env.get('ext')
    expect(() => svc.pause()).toThrow(expect.objectContaining({ code: 'RIG_NOT_CONTROLLABLE', exitCode: 2, message: 'service "ext" is external: rig does not run it, so it cannot pause it' }))
    await expect(svc.restart()).rejects.toMatchObject({ code: 'RIG_NOT_CONTROLLABLE' })
    const socket = path.join(env.dir, 'control.sock')
    await serveControl(env, socket, () => {})
    for (const action of ['stop', 'kill', 'pause', 'resume', 'restart']) {
      await expect(controlRequest(socket, 'POST', `/services/ext/${action}`)).rejects.toMatchObject({ code: 'RIG_NOT_CONTROLLABLE', exitCode: 2, message: expect.stringContaining(`cannot ${action} it`) })
    }
    expect((await ping('redis://127.0.0.1:6379')).status).toBe('pass')
  })
})

it('leaves no listener behind', async () => {
  env = await start({ services: { cache: redis() } })
  const port = env.get('cache').port
  await env.stop()
  env = undefined
  const open = await new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
  expect(open).toBe(false)
})
