// The RabbitMQ guard against a broker rig started: what a test left in a vhost (messages,
// unacknowledged messages, queues, exchanges, bindings) is reported and put back.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AmqpChannel, type AmqpConnection, connectAmqp } from '../../src/drivers/amqp.ts'
import { createGuard, type Guard, rabbitmqStore, storesFor } from '../../src/guard/index.ts'
import { defineConfig, type Environment, rabbitmq, startEnvironment } from '../../src/index.ts'

let env: Environment
let conn: AmqpConnection
let ch: AmqpChannel
let guard: Guard

/** Ready messages of `queue`, read without consuming them. */
async function peek(queue: string): Promise<Array<{ body: string; redelivered: boolean; headers: unknown }>> {
  const c = await conn.createChannel()
  const out: Array<{ body: string; redelivered: boolean; headers: unknown }> = []
  let last
  for (;;) {
    const m = await c.get(queue, { noAck: false })
    if (!m) break
    last = m
    out.push({ body: m.content.toString(), redelivered: m.fields.redelivered, headers: m.properties.headers })
  }
  if (last) c.nack(last, true, true)
  await c.close()
  return out
}

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { mq: rabbitmq() } }))
  conn = await connectAmqp(env.get('mq').url)
  ch = await conn.createConfirmChannel()
  await ch.assertExchange('events', 'topic', { durable: true })
  await ch.assertQueue('billing.jobs', { durable: true, arguments: { 'x-max-length': 1000, 'x-dead-letter-exchange': 'events' } })
  await ch.bindQueue('billing.jobs', 'events', 'rental.*')
  await ch.assertQueue('audit', { durable: true })
  ch.publish('', 'audit', Buffer.from('fixture 1'), { headers: { n: 1 } })
  ch.publish('', 'audit', Buffer.from('fixture 2'), { headers: { n: 2 } })
  await ch.assertQueue('celery.tasks', { durable: true })
  await ch.waitForConfirms()
  guard = createGuard({ stores: [rabbitmqStore(env.get('mq'), { exclude: ['celery.*'] })] })
  await guard.baseline()
})

afterAll(async () => {
  await guard?.close()
  await conn?.close().catch(() => {})
  await env?.stop()
})

beforeEach(async () => {
  // Every test starts from the baseline, whatever the previous one did.
  const r = await guard.check('(between tests)')
  expect(r.errors).toEqual([])
})

describe('rabbitmq guard', () => {
  it('reports nothing when nothing changed, in about a millisecond', async () => {
    const r = await guard.check('reads only')
    expect(r.leaked).toBe(false)
    expect(r.stores[0]?.status).toBe('clean')
  })

  it('puts fixture messages back fresh (not redelivered), in order, with their headers', async () => {
    await ch.get('audit', { noAck: true })
    expect((await guard.check('takes one')).leaked).toBe(true)
    expect(await peek('audit')).toEqual([
      { body: 'fixture 1', redelivered: false, headers: { n: 1 } },
      { body: 'fixture 2', redelivered: false, headers: { n: 2 } },
    ])
  })

  it('reports messages left in a queue and purges them', async () => {
    ch.publish('events', 'rental.ended', Buffer.from('{"rental":1}'))
    ch.publish('events', 'rental.started', Buffer.from('{"rental":2}'))
    await ch.waitForConfirms()
    const r = await guard.check('ends a rental', 'test/rentals.test.ts')
    expect(r.message).toBe('Data left behind by "ends a rental" (test/rentals.test.ts):\n  rabbitmq mq: queue billing.jobs +2 messages (ready 2, unacked 0)')
    expect(r.failed).toBe(true)
    expect(r.stores[0]?.restore?.strategy).toBe('truncate')
    expect((await ch.checkQueue('billing.jobs')).messageCount).toBe(0)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('brings back fixture messages a test consumed', async () => {
    const m = await ch.get('audit', { noAck: true })
    expect(m && m.content.toString()).toBe('fixture 1')
    const r = await guard.check('consumes')
    expect(r.message).toContain('rabbitmq mq: queue audit -1 message (ready 1, unacked 0)')
    expect((await peek('audit')).map((x) => x.body)).toEqual(['fixture 1', 'fixture 2'])
  })

  it('reports messages a consumer holds unacknowledged, and takes them back', async () => {
    const other = await connectAmqp(env.get('mq').url)
    try {
      const c = await other.createChannel()
      const got: string[] = []
      await c.consume('audit', (msg) => msg && got.push(msg.content.toString()), { noAck: false })
      for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
      expect(got).toEqual(['fixture 1', 'fixture 2'])
      const r = await guard.check('never acks')
      expect(r.message).toContain('rabbitmq mq: queue audit 2 messages unacknowledged (ready 0, unacked 2)')
      // The consumer was cancelled with the queue: its messages are back, fresh.
      expect((await peek('audit')).map((x) => `${x.body}:${x.redelivered}`)).toEqual(['fixture 1:false', 'fixture 2:false'])
    } finally {
      await other.close().catch(() => {})
    }
  })

  it('does not blame messages a consumer handed back by closing right before the check', async () => {
    for (let i = 0; i < 5; i++) {
      const other = await connectAmqp(env.get('mq').url)
      const c = await other.createChannel()
      expect(await c.get('audit', { noAck: false })).toBeTruthy()
      await other.close()
      const r = await guard.check('reads and leaves')
      expect(r.leaked, r.message).toBe(false)
    }
  })

  it('deletes queues and exchanges a test created, exclusive ones included', async () => {
    const other = await connectAmqp(env.get('mq').url)
    try {
      const c = await other.createChannel()
      await c.assertQueue('tmp.replies', { exclusive: true })
      await ch.assertExchange('tmp.events', 'fanout', { durable: false })
      await ch.assertQueue('tmp.work')
      ch.publish('', 'tmp.work', Buffer.from('x'))
      await ch.waitForConfirms()
      const r = await guard.check('declares')
      expect(r.message).toContain('queue tmp.replies created')
      expect(r.message).toContain('queue tmp.work created (1 message)')
      expect(r.message).toContain('exchange tmp.events created')
      const after = await guard.check('next')
      expect(after.leaked).toBe(false)
    } finally {
      await other.close().catch(() => {})
    }
  })

  it('declares again a queue the test deleted, with its arguments and bindings', async () => {
    await ch.deleteQueue('billing.jobs')
    const r = await guard.check('deletes the queue')
    expect(r.message).toContain('rabbitmq mq: queue billing.jobs deleted')
    expect(r.message).not.toContain('binding')
    const q = await ch.checkQueue('billing.jobs')
    expect(q.messageCount).toBe(0)
    ch.publish('events', 'rental.ended', Buffer.from('routed'))
    await ch.waitForConfirms()
    expect((await peek('billing.jobs')).map((x) => x.body)).toEqual(['routed'])
    // Declared with the same arguments: the application's own declare still matches.
    await ch.assertQueue('billing.jobs', { durable: true, arguments: { 'x-max-length': 1000, 'x-dead-letter-exchange': 'events' } })
    expect((await guard.check('routed one')).message).toContain('queue billing.jobs +1 message')
  })

  it('reports bindings added or removed and puts them back', async () => {
    await ch.unbindQueue('billing.jobs', 'events', 'rental.*')
    await ch.bindQueue('audit', 'events', 'audit.#')
    const r = await guard.check('rebinds')
    expect(r.message).toContain('binding events → billing.jobs (rental.*) removed')
    expect(r.message).toContain('binding events → audit (audit.#) added')
    ch.publish('events', 'rental.x', Buffer.from('routed'))
    ch.publish('events', 'audit.x', Buffer.from('not routed'))
    await ch.waitForConfirms()
    const again = await guard.check('routes')
    expect(again.message).toContain('queue billing.jobs +1 message')
    expect(again.message).not.toContain('audit')
  })

  it('ignores excluded queues', async () => {
    ch.publish('', 'celery.tasks', Buffer.from('x'))
    await ch.waitForConfirms()
    expect((await guard.check('celery')).leaked).toBe(false)
    await ch.purgeQueue('celery.tasks')
  })

  it('is found by storesFor(env)', () => {
    expect(storesFor(env).map((s) => `${s.info.kind} ${s.info.name} ${s.info.startedByRig}`)).toEqual(['rabbitmq mq true'])
  })

  it('loads fixture files of queues, bindings and messages', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-mq-fixture-'))
    fs.writeFileSync(
      path.join(dir, 'mq.json'),
      JSON.stringify({
        queues: [{ name: 'fleet.updates' }],
        bindings: [{ source: 'events', destination: 'fleet.updates', routingKey: 'car.*' }],
        messages: [{ queue: 'fleet.updates', body: { car: 7 } }, { exchange: 'events', routingKey: 'car.moved', body: 'moved' }],
      }),
    )
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ bindings: [{ source: 'nope', destination: 'audit' }] }))
    try {
      await using g = createGuard({ stores: [rabbitmqStore(env.get('mq'), { exclude: ['celery.*'] })], fixtures: { fleet: { mq: 'mq.json' }, bad: { mq: 'bad.json' } }, root: dir })
      await g.baseline()
      await g.useFixture('fleet')
      expect((await peek('fleet.updates')).map((x) => x.body)).toEqual(['{"car":7}', 'moved'])
      ch.publish('', 'fleet.updates', Buffer.from('extra'))
      await ch.waitForConfirms()
      expect((await g.check('adds')).message).toContain('queue fleet.updates +1 message (ready 3, unacked 0)')
      expect((await peek('fleet.updates')).map((x) => x.body)).toEqual(['{"car":7}', 'moved'])
      await g.resetFixture()
      await expect(g.useFixture('bad')).rejects.toThrow(/bindings\[0\]: .*NOT_FOUND - no exchange 'nope'/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    expect((await guard.check('after fixtures')).leaked).toBe(false)
  })
})
