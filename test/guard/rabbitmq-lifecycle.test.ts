// The RabbitMQ guard beyond one check: named snapshots, a vhost per worker, a broker that dies
// mid-run, safety on a broker rig did not start.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AmqpChannel, type AmqpConnection, connectAmqp } from '../../src/drivers/amqp.ts'
import { createGuard, GuardRefusedError, prepareWorkers, rabbitmqStore, SnapshotNotFoundError, sweepWorkers } from '../../src/guard/index.ts'
import { BrokerSession } from '../../src/guard/rabbitmq/broker-session.ts'
import { defineConfig, type Environment, rabbitmq, startEnvironment } from '../../src/index.ts'

let env: Environment
let url: string
let conn: AmqpConnection
let ch: AmqpChannel

async function count(c: AmqpChannel, queue: string): Promise<number> {
  return (await c.checkQueue(queue)).messageCount
}

/** Every test starts from the same vhost: exchange `events` → queue `jobs` holding one message. */
async function seed(): Promise<void> {
  // A test may have killed the broker (and this connection with it).
  if (!connected) await connect()
  ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  for (const q of ['jobs', 'extra']) await ch.deleteQueue(q)
  await ch.deleteExchange('other')
  await ch.assertExchange('events', 'topic', { durable: true })
  await ch.assertQueue('jobs', { durable: true, arguments: { 'x-max-priority': 5 } })
  await ch.bindQueue('jobs', 'events', 'job.*')
  ch.publish('', 'jobs', Buffer.from('seed'), { priority: 3, headers: { kind: 'seed', when: { '!': 'timestamp', value: 1700000000 } } })
  await ch.waitForConfirms()
}

let connected = false
async function connect(): Promise<void> {
  conn = await connectAmqp(url)
  connected = true
  conn.on('close', () => (connected = false))
}

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { mq: rabbitmq() } }))
  url = env.get('mq').url
  await connect()
})

beforeEach(seed)

afterAll(async () => {
  await conn?.close().catch(() => {})
  await env?.stop()
})

describe('rabbitmq snapshots', () => {
  it('save and restore definitions and queued messages; list and drop them', async () => {
    await using guard = createGuard({ stores: [rabbitmqStore(env.get('mq'))] })
    await guard.baseline()
    await guard.saveSnapshot('seeded')
    await ch.deleteQueue('jobs')
    await ch.assertExchange('other', 'fanout')
    await ch.assertQueue('extra')
    ch.publish('', 'extra', Buffer.from('x'))
    await ch.waitForConfirms()
    await guard.restoreSnapshot('seeded')
    const m = await ch.get('jobs', { noAck: false })
    expect(m && m.content.toString()).toBe('seed')
    expect(m && m.properties.priority).toBe(3)
    expect(m && m.properties.headers).toEqual({ kind: 'seed', when: { '!': 'timestamp', value: 1700000000 } })
    if (m) ch.nack(m, false, true)
    // The 404 closes the channel.
    await expect(ch.checkQueue('extra')).rejects.toThrow(/NOT_FOUND/)
    ch = await conn.createConfirmChannel()
    ch.publish('events', 'job.new', Buffer.from('routed'))
    await ch.waitForConfirms()
    expect(await count(ch, 'jobs')).toBe(2)
    await ch.purgeQueue('jobs')
    expect(await guard.listSnapshots()).toEqual([{ name: 'seeded', stores: ['mq'] }])
    await expect(guard.restoreSnapshot('nope')).rejects.toBeInstanceOf(SnapshotNotFoundError)
    expect(await guard.dropSnapshot('seeded')).toBe(true)
    expect(await guard.listSnapshots()).toEqual([])
    await guard.restore()
    expect(await count(ch, 'jobs')).toBe(1)
  })
})

describe('rabbitmq per-worker vhosts', () => {
  it('copies the vhost per worker, isolated, reached through each worker URL; dropped at the end', async () => {
    const store = rabbitmqStore(env.get('mq'))
    const set = await prepareWorkers({ stores: [store], count: 2, runId: 'lifecycle' })
    try {
      expect(set.workers.map((w) => w.env.RIG_MQ_VHOST)).toEqual(['rig-w1-lifecycle', 'rig-w2-lifecycle'])
      const [w1, w2] = set.workers.map((w) => w.urls.mq as string)
      expect(new URL(w1 as string).pathname).toBe('/rig-w1-lifecycle')
      const c1 = await connectAmqp(w1 as string)
      const c2 = await connectAmqp(w2 as string)
      try {
        const ch1 = await c1.createConfirmChannel()
        const ch2 = await c2.createConfirmChannel()
        expect(await count(ch1, 'jobs')).toBe(1)
        ch1.publish('events', 'job.x', Buffer.from('only in w1'))
        await ch1.waitForConfirms()
        expect(await count(ch1, 'jobs')).toBe(2)
        expect(await count(ch2, 'jobs')).toBe(1)
        // A worker's guard watches its own vhost.
        await using g1 = createGuard({ stores: [rabbitmqStore({ name: 'mq', url: w1 as string, provider: 'process' })] })
        await g1.baseline()
        ch1.publish('', 'jobs', Buffer.from('leak'))
        await ch1.waitForConfirms()
        expect((await g1.check('w1 test')).message).toContain('queue jobs +1 message (ready 3, unacked 0)')
        expect(await count(ch2, 'jobs')).toBe(1)
      } finally {
        await c1.close().catch(() => {})
        await c2.close().catch(() => {})
      }
    } finally {
      await set.drop()
      await store.close()
    }
    const s = await BrokerSession.open(url)
    try {
      const { vhosts } = await s.agent!.request<{ vhosts: Array<{ name: string }> }>({ op: 'list_vhosts' })
      expect(vhosts.map((v) => v.name)).toEqual(['/'])
    } finally {
      await s.close()
    }
  })

  it('sweeps vhosts a dead run left behind', async () => {
    const s = await BrokerSession.open(url)
    try {
      const meta = { rig: 'worker', source: '/', name: 'rig-w1-dead', pid: 2 ** 22 + 17, host: (await import('node:os')).hostname(), createdAt: new Date().toISOString(), runId: 'dead' }
      await s.agent!.request({ op: 'add_vhost', name: 'rig-w1-dead', description: JSON.stringify(meta) })
      await s.agent!.request({ op: 'add_vhost', name: 'unrelated', description: 'not rig' })
      const store = rabbitmqStore(env.get('mq'))
      expect(await sweepWorkers([store])).toBe(1)
      await store.close()
      const { vhosts } = await s.agent!.request<{ vhosts: Array<{ name: string }> }>({ op: 'list_vhosts' })
      expect(vhosts.map((v) => v.name).sort()).toEqual(['/', 'unrelated'])
      await s.agent!.request({ op: 'delete_vhost', name: 'unrelated' })
    } finally {
      await s.close()
    }
  })
})

describe('rabbitmq guard safety', () => {
  it('only reports on a broker rig did not start, unless allowed to clean it', async () => {
    const source = { name: 'mq', url, provider: 'external' }
    await using guard = createGuard({ stores: [rabbitmqStore(source)] })
    await guard.baseline()
    ch.publish('', 'jobs', Buffer.from('left'))
    await ch.waitForConfirms()
    const r = await guard.check('leaks on a shared broker')
    expect(r.leaked).toBe(true)
    expect(r.errors[0]).toBeInstanceOf(GuardRefusedError)
    expect(await count(ch, 'jobs')).toBe(2)
    await using allowed = createGuard({ stores: [rabbitmqStore(source)], allowClean: ['mq'] })
    await ch.purgeQueue('jobs')
    ch.publish('', 'jobs', Buffer.from('seed'))
    await ch.waitForConfirms()
    await allowed.baseline()
    ch.publish('', 'jobs', Buffer.from('left'))
    await ch.waitForConfirms()
    expect((await allowed.check('cleans')).errors).toEqual([])
    expect(await count(ch, 'jobs')).toBe(1)
  })
})

describe('a broker that dies mid-run', () => {
  it('is not blamed on the test; the guard starts over once it is back', async () => {
    const mq = env.get('mq')
    await using guard = createGuard({ stores: [rabbitmqStore(mq)] })
    await guard.baseline()
    await mq.kill()
    const r = await guard.check('during the crash')
    expect(r.leaked).toBe(false)
    expect(r.stores[0]?.status).toBe('unavailable')
    expect(r.errors.map((e) => e.code)).toEqual(['RIG_GUARD_STORE_UNAVAILABLE'])
    expect(r.errors[0]?.message).toMatch(/store "mq" \(amqp:\/\/rig@127\.0\.0\.1:\d+\/%2F\) went away/)
    await mq.restart()
    expect((await guard.check('after the restart')).stores[0]?.status).toBe('rebaselined')
    expect((await guard.check('next')).stores[0]?.status).toBe('clean')
  })
})
