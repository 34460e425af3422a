// external() and the guard on a broker rig did not start: this machine's own RabbitMQ (5672),
// in a vhost this file creates and deletes, touching nothing else of it. Without rig's agent
// the guard watches the queues it is told about, through passive declares.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpHandshake } from '../../src/drivers/amqp-handshake.ts'
import { type AmqpChannel, type AmqpConnection, connectAmqp } from '../../src/drivers/amqp.ts'
import { createGuard, GuardRefusedError, rabbitmqStore } from '../../src/guard/index.ts'
import { amqpOpen, defineConfig, external, startEnvironment } from '../../src/index.ts'

const ctl = (...args: string[]) => promisify(execFile)('rabbitmqctl', args, { timeout: 60_000 })
const vhost = `rig-test-${process.pid}-${randomBytes(3).toString('hex')}`
const url = `amqp://guest:guest@127.0.0.1:5672/${vhost}`
const systemBroker = await amqpHandshake('amqp://guest:guest@127.0.0.1:5672/').then(
  () => ctl('help').then(() => true, () => false),
  () => false,
)

let conn: AmqpConnection
let ch: AmqpChannel

describe.skipIf(!systemBroker)('the system broker through external()', () => {
  beforeAll(async () => {
    await ctl('add_vhost', vhost)
    await ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')
    conn = await connectAmqp(url)
    ch = await conn.createConfirmChannel()
    ch.on('error', () => {})
    await ch.assertQueue('orders', { durable: false })
    ch.publish('', 'orders', Buffer.from('fixture'))
    await ch.waitForConfirms()
  })

  afterAll(async () => {
    await conn?.close().catch(() => {})
    await ctl('delete_vhost', vhost).catch(() => {})
  })

  it('is ready once connection.open succeeds in the vhost', async () => {
    await using env = await startEnvironment(defineConfig({ services: { sys: external({ url, ready: amqpOpen() }) } }))
    expect(env.get('sys').port).toBe(5672)
    expect(env.vars().RIG_SYS_URL).toBe(url)
  })

  it('asks for the queues to watch: it cannot list them without rig agent', async () => {
    await using guard = createGuard({ stores: [rabbitmqStore({ name: 'sys', url, provider: 'external' })] })
    await expect(guard.baseline()).rejects.toMatchObject({ code: 'RIG_RABBITMQ_NO_AGENT', message: expect.stringMatching(/name the ones to watch with `queues/) })
  })

  it('reports messages left in a watched queue, and cleans only with allowClean', async () => {
    const store = () => rabbitmqStore({ name: 'sys', url, provider: 'external' }, { queues: ['orders'] })
    await using readOnly = createGuard({ stores: [store()] })
    await readOnly.baseline()
    ch.publish('', 'orders', Buffer.from('left 1'))
    ch.publish('', 'orders', Buffer.from('left 2'))
    await ch.waitForConfirms()
    const r = await readOnly.check('publishes')
    expect(r.leaked).toBe(true)
    expect(r.stores[0]?.changes.map((c) => c.text)).toEqual(['queue orders +2 messages (ready 3, unacked 0)'])
    expect(r.errors[0]).toBeInstanceOf(GuardRefusedError)
    expect((await ch.checkQueue('orders')).messageCount).toBe(3)

    await ch.purgeQueue('orders')
    ch.publish('', 'orders', Buffer.from('fixture'))
    await ch.waitForConfirms()
    await using cleaning = createGuard({ stores: [store()], allowClean: ['sys'] })
    await cleaning.baseline()
    ch.publish('', 'orders', Buffer.from('left'))
    await ch.waitForConfirms()
    const c = await cleaning.check('publishes again')
    expect(c.errors).toEqual([])
    const m = await ch.get('orders', { noAck: false })
    expect(m && m.content.toString()).toBe('fixture')
    if (m) ch.nack(m, false, true)
    expect((await ch.checkQueue('orders')).messageCount).toBe(1)

    await ch.deleteQueue('orders')
    const gone = await cleaning.check('deletes the queue')
    expect(gone.message).toContain('queue orders deleted')
    expect(gone.errors[0]?.message).toMatch(/queue orders was deleted, and rig does not know its definition/)
  })
})
