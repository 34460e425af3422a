// Settle before the check, against servers rig started: the guard waits for the application's
// work in flight (messages in consumed queues, transactions on its connections, Redis lists and
// streams named as queues) and, at the deadline, says what was still moving. The application is
// played by child processes (their connections are not the test process's).
import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { type AmqpChannel, type AmqpConnection, connectAmqp } from '../../src/drivers/amqp.ts'
import { connectMysql, queryMysql } from '../../src/drivers/mysql.ts'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, type Guard, mariadbStore, NotSettledError, postgresStore, rabbitmqStore, redisStore, settleStores, type StoreAdapter } from '../../src/guard/index.ts'
import { defineConfig, type Environment, mariadb, postgres, rabbitmq, redis, startEnvironment } from '../../src/index.ts'
import { NODE, REPO } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { connect, sql } from './helpers.ts'

let env: Environment
let guard: Guard
let stores: { db: StoreAdapter; maria: StoreAdapter }
let mq: AmqpConnection
let ch: AmqpChannel
const children: ChildProcess[] = []

/**
 * Starts a process that plays the application: it opens a transaction as `app` on `url`
 * (PostgreSQL or MariaDB), says "open", and commits after `holdMs` (never when 0).
 */
async function appTransaction(kind: 'pg' | 'mysql', url: string, holdMs: number): Promise<ChildProcess> {
  const script =
    kind === 'pg'
      ? `const pg = (await import('pg')).default; const c = new pg.Client({ connectionString: process.env.URL, application_name: 'billing' }); await c.connect();
         await c.query('begin'); await c.query('select 1'); console.log('open');
         if (${holdMs} > 0) setTimeout(async () => { await c.query('commit'); await c.end(); }, ${holdMs}); else setInterval(() => {}, 1000)`
      : `const m = await import('mysql2/promise'); const c = await m.createConnection(process.env.URL); await c.query('start transaction'); await c.query('insert into jobs values (1)'); console.log('open');
         if (${holdMs} > 0) setTimeout(async () => { await c.query('rollback'); await c.end(); }, ${holdMs}); else setInterval(() => {}, 1000)`
  const child = spawn(NODE, ['--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, URL: url }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('open') && resolve())
    child.on('exit', (code) => reject(new Error(`the application process exited ${code}`)))
  })
  return child
}

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { db: postgres(), maria: mariadb(), mq: rabbitmq({ readyTimeout: 120_000 }), cache: redis() } }))
  await sql(env.get('db').url, 'create table jobs (id int)')
  const m = await connectMysql(env.get('maria').url)
  await m.query('create table jobs (id int primary key)')
  await m.end()
  mq = await connectAmqp(env.get('mq').url)
  ch = await mq.createConfirmChannel()
  await ch.assertQueue('billing.jobs', { durable: true })
  await ch.assertQueue('audit', { durable: true })
  stores = { db: postgresStore(env.get('db')), maria: mariadbStore(env.get('maria')) }
  guard = createGuard({
    stores: [stores.db, stores.maria, rabbitmqStore(env.get('mq')), redisStore(env.get('cache'), { queues: ['billing:jobs', 'events:*'] })],
    settle: { timeoutMs: 400 },
  })
  await guard.baseline()
}, 240_000)

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  await guard.check('(between tests)')
})

afterAll(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  await mq?.close().catch(() => {})
  await guard?.close()
  await env?.stop()
})

describe('settle', () => {
  it('answers in one round when nothing is in flight', async () => {
    const r = await guard.settle()
    expect(r).toMatchObject({ settled: true, rounds: 1, moving: {}, errors: [] })
  })

  it('waits for a consumer to ack, then is settled', async () => {
    const consumer = await mq.createChannel()
    await consumer.prefetch(1)
    await consumer.consume('billing.jobs', (m) => m && setTimeout(() => consumer.ack(m), 150))
    ch.publish('', 'billing.jobs', Buffer.from('job'))
    await ch.waitForConfirms()
    const r = await guard.settle()
    await consumer.close()
    expect(r.settled, r.error?.message).toBe(true)
    expect(r.rounds).toBeGreaterThan(1)
    expect((await guard.check('acked')).leaked).toBe(false)
  })

  it('a consumer that never acks: not settled, with the queue and its counts', async () => {
    const consumer = await mq.createChannel()
    await consumer.consume('billing.jobs', () => {})
    ch.publish('', 'billing.jobs', Buffer.from('job'))
    await ch.waitForConfirms()
    const r = await guard.settle()
    expect(r.settled).toBe(false)
    expect(r.error).toBeInstanceOf(NotSettledError)
    expect(r.error?.message).toMatch(/^not settled after 400 ms: rabbitmq mq: queue billing\.jobs 0 ready, 1 unacked\n/)
    expect(r.error?.message).toContain('await rig.settle()')
    expect(r.ms).toBeGreaterThanOrEqual(400)
    await consumer.close()
  })

  it('ready messages of a queue nobody consumes are a leak for the check, not work in flight', async () => {
    ch.publish('', 'audit', Buffer.from('left'))
    await ch.waitForConfirms()
    expect((await guard.settle()).settled).toBe(true)
    const c = await guard.check('left a message')
    expect(c.message).toContain('queue audit +1 message')
  })

  it('a queue deleted by the test: settled, reported by the check and declared again', async () => {
    await ch.deleteQueue('audit')
    expect((await guard.settle()).settled).toBe(true)
    const c = await guard.check('deleted a queue')
    expect(c.message).toContain('queue audit deleted')
    expect((await ch.checkQueue('audit')).messageCount).toBe(0)
  })

  it("waits for the application's PostgreSQL transaction, and names it when it never ends", async () => {
    await appTransaction('pg', env.get('db').url, 150)
    const r = await guard.settle()
    expect(r.settled, r.error?.message).toBe(true)
    expect(r.rounds).toBeGreaterThan(1)
    await appTransaction('pg', env.get('db').url, 0)
    const stuck = await guard.settle()
    expect(stuck.error?.message).toMatch(/not settled after 400 ms: postgres db: 1 transaction idle in transaction from "billing" \(\d+\.\d s\)/)
    // The application goes; the server ends its backend once it reads the closed socket, which
    // the next test's settle must not see.
    for (const c of children.splice(0)) c.kill('SIGKILL')
    expect(await waitUntil(async () => (await sql(env.get('db').url, "select 1 from pg_stat_activity where application_name = 'billing'")).length === 0)).toBe(true)
  })

  it("the test's own open transaction is left to the check (reported, ended), not waited for", async () => {
    const c = await connect(env.get('db').url)
    c.on('error', () => {})
    await c.query('begin')
    await c.query('insert into jobs values (1)')
    const r = await guard.settle()
    expect(r.settled, r.error?.message).toBe(true)
    expect(r.rounds).toBe(1)
    const check = await guard.check('left a transaction open')
    expect(check.message).toMatch(/transaction left open \(pid \d+/)
    await c.end().catch(() => {})
  })

  it("waits for the application's MariaDB transaction; the test's own is left to the check", async () => {
    await appTransaction('mysql', env.get('maria').url, 0)
    const stuck = await guard.settle()
    expect(stuck.error?.message).toMatch(/mariadb maria: 1 transaction open \(idle, \d+ s\) from [\w.]+:\d+ \(connection \d+\)/)
    for (const c of children.splice(0)) c.kill('SIGKILL')
    const m = await connectMysql(env.get('maria').url)
    await m.query('start transaction')
    await m.query('insert into jobs values (2)')
    expect((await guard.settle()).settled).toBe(true)
    expect((await guard.check('left a transaction open')).message).toMatch(/transaction left open \(connection \d+/)
    m.destroy()
  })

  it('Redis lists and streams named as queues: waits for them to drain', async () => {
    const cache: RedisClient = await connectRedis(env.get('cache').url)
    onTestFinished(() => cache.destroy())
    await cache.sendCommand(['RPUSH', 'billing:jobs', 'a', 'b'])
    await cache.sendCommand(['XGROUP', 'CREATE', 'events:rentals', 'billing', '$', 'MKSTREAM'])
    await cache.sendCommand(['XADD', 'events:rentals', '*', 'rental', '1'])
    const r = await guard.settle()
    expect(r.error?.message).toContain('redis cache: list billing:jobs 2 waiting, stream events:rentals 1 undelivered, 0 pending')
    await cache.sendCommand(['XREADGROUP', 'GROUP', 'billing', 'w1', 'STREAMS', 'events:rentals', '>'])
    expect((await guard.settle()).error?.message).toContain('stream events:rentals 0 undelivered, 1 pending')
    setTimeout(() => void cache.sendCommand(['DEL', 'billing:jobs', 'events:rentals']), 100)
    expect((await guard.settle()).settled).toBe(true)
  })

  it('a store that dies mid-run is not waited for: the error names it, the check skips it', async () => {
    await env.get('cache').kill()
    try {
      const r = await guard.settle()
      // Left out at the first look: one round, not looks repeated until the deadline.
      expect(r.rounds).toBe(1)
      expect(r.settled).toBe(true)
      expect(r.errors.map((e) => e.message).join('\n')).toMatch(/store "cache" .* went away/)
      const c = await guard.check('after redis died')
      expect(c.stores.find((s) => s.store === 'cache')?.status).toBe('unavailable')
      // The next settle leaves it out until the check finds it again.
      expect((await guard.settle()).errors).toEqual([])
    } finally {
      // Back before afterEach's check, which finds it again for the next test's settle.
      await env.get('cache').restart()
    }
  })

  it('a store that hangs (paused) holds the wait no longer than the deadline', async () => {
    await env.get('maria').pause()
    try {
      const r = await guard.settle({ timeoutMs: 300 })
      expect(r.settled).toBe(false)
      expect(r.ms).toBeLessThan(1500)
      expect(r.error?.message).toContain('mariadb maria: did not answer before the deadline')
    } finally {
      await env.get('maria').resume()
    }
  })

  describe('a store that answered earlier rounds but not the last look (frozen mid-settle)', () => {
    /**
     * Settles PostgreSQL and MariaDB and freezes MariaDB (SIGSTOP) once it answered a look: its
     * next look hangs until the deadline. Resumed in every case before the test ends.
     */
    async function settleFreezingMaria(): Promise<Awaited<ReturnType<typeof settleStores>>> {
      const maria = env.get('maria')
      let answers = 0
      const counted = {
        info: stores.maria.info,
        settle: async () => {
          const r = await stores.maria.settle!()
          answers++
          return r
        },
      } as Pick<StoreAdapter, 'info' | 'settle'> as StoreAdapter
      const settling = settleStores([stores.db, counted], { timeoutMs: 1500 })
      let paused = false
      try {
        expect(await waitUntil(() => answers > 0, 1500, 2)).toBe(true)
        maria.pause()
        paused = true
        return await settling
      } finally {
        if (paused) maria.resume()
        await settling.catch(() => {})
      }
    }

    /** Waits until the application's killed sessions ended on both servers: the next test's settle must not see them. */
    async function applicationGone(): Promise<void> {
      for (const c of children.splice(0)) c.kill('SIGKILL')
      expect(await waitUntil(async () => (await sql(env.get('db').url, "select 1 from pg_stat_activity where application_name = 'billing'")).length === 0)).toBe(true)
      expect(await waitUntil(async () => Number((await queryMysql<{ n: string }>(env.get('maria').url, 'select count(*) as n from information_schema.innodb_trx'))[0]?.n) === 0)).toBe(true)
    }

    it('after "nothing in flight": still had work in flight at the deadline, not "did not answer"', async () => {
      // The application's PostgreSQL transaction keeps the rounds going.
      await appTransaction('pg', env.get('db').url, 0)
      try {
        const r = await settleFreezingMaria()
        expect(r.settled).toBe(false)
        expect(r.error?.message).toContain('mariadb maria: still had work in flight at the deadline (it did not answer the last look in time; its last answer found nothing in flight)')
        expect(r.error?.message).not.toContain('did not answer before the deadline')
        expect(r.error?.message).toMatch(/postgres db: 1 transaction idle in transaction from "billing"/)
      } finally {
        await applicationGone()
      }
    })

    it('after reporting work: still had work in flight at the deadline, with what it last reported', async () => {
      await appTransaction('mysql', env.get('maria').url, 0)
      try {
        const r = await settleFreezingMaria()
        expect(r.settled).toBe(false)
        expect(r.error?.message).toMatch(/mariadb maria: still had work in flight at the deadline \(it did not answer the last look in time; it last reported 1 transaction open \(idle, \d+ s\) from [\w.]+:\d+ \(connection \d+\)\)/)
        expect(r.moving.maria?.[0]?.text).toMatch(/^1 transaction open/)
      } finally {
        await applicationGone()
      }
    })
  })

  it('a PostgreSQL store waited for alone: the look and the check in one step; an application transaction in flight is waited for and its write caught by this check', async () => {
    const url = new URL(env.get('db').url)
    await sql(url.toString(), 'create database solo')
    url.pathname = '/solo'
    const soloUrl = url.toString()
    await sql(soloUrl, 'create table jobs (id int primary key)')
    const store = postgresStore({ name: 'solo', url: soloUrl, provider: 'process' })
    const calls = { settle: 0, fused: 0 }
    const counted = new Proxy(store, {
      get(t, p) {
        const v = Reflect.get(t, p, t) as unknown
        if (typeof v !== 'function') return v
        return (...args: unknown[]) => {
          if (p === 'settle') calls.settle++
          if (p === 'settleDiffAndRestore') calls.fused++
          return (v as (...a: unknown[]) => unknown).apply(t, args)
        }
      },
    })
    // A Redis store without queues beside it: its look finds nothing without asking, it does not count.
    const kvUrl = new URL(env.get('cache').url)
    kvUrl.pathname = '/7'
    const kv = await connectRedis(kvUrl.toString())
    onTestFinished(() => kv.destroy())
    const solo = createGuard({ stores: [counted, redisStore({ name: 'kv', url: kvUrl.toString(), provider: 'process' })], settle: { timeoutMs: 2000 } })
    onTestFinished(() => solo.close())
    await solo.baseline()
    expect(store.detection.method).toBe('triggers')
    // The first check after a baseline writes the restore's statements: settled the usual way.
    expect((await solo.settleAndCheck('reads')).report.leaked).toBe(false)
    Object.assign(calls, { settle: 0, fused: 0 })
    await sql(soloUrl, 'insert into jobs values (1)')
    await kv.sendCommand(['SET', 'session:1', 'x'])
    const one = await solo.settleAndCheck('writes')
    expect(one.settled).toMatchObject({ settled: true, rounds: 1 })
    expect(one.report.message).toContain('public.jobs +1 row')
    // The other store is still checked and restored in the same check.
    expect(one.report.message).toContain('session:1')
    expect(await kv.sendCommand(['EXISTS', 'session:1'])).toBe(0)
    expect(one.report.stores[0]?.restore?.withCheck).toBe(true)
    expect(calls).toEqual({ settle: 0, fused: 1 })
    // The application's transaction writes, and commits 150 ms later: waited for, then caught.
    const script = `const pg = (await import('pg')).default; const c = new pg.Client({ connectionString: process.env.URL, application_name: 'billing' }); await c.connect();
      await c.query('begin'); await c.query('insert into jobs values (2)'); console.log('open'); setTimeout(async () => { await c.query('commit'); await c.end(); }, 150)`
    const child = spawn(NODE, ['--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, URL: soloUrl }, stdio: ['ignore', 'pipe', 'inherit'] })
    children.push(child)
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('open') && resolve())
      child.on('exit', (code) => reject(new Error(`the application process exited ${code}`)))
    })
    const waited = await solo.settleAndCheck('the application still writes')
    expect(waited.settled.settled, waited.settled.error?.message).toBe(true)
    expect(waited.settled.rounds).toBeGreaterThan(1)
    expect(waited.report.message).toContain('public.jobs +1 row')
    expect(await sql(soloUrl, 'select id from jobs')).toEqual([])
    expect(calls.settle).toBeGreaterThan(0)
  })

  it('settle: false and skip leave stores out', async () => {
    const consumer = await mq.createChannel()
    await consumer.consume('billing.jobs', () => {})
    ch.publish('', 'billing.jobs', Buffer.from('job'))
    await ch.waitForConfirms()
    expect((await guard.settle({ skip: ['mq'] })).settled).toBe(true)
    const off = createGuard({ stores: [rabbitmqStore(env.get('mq'))], settle: false })
    expect(await off.settle()).toMatchObject({ settled: true, rounds: 0 })
    await off.close()
    await consumer.close()
  })
})
