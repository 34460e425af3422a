// `rig up` with a broker, then `rig snapshot save/restore` of its vhost (definitions and queued
// messages) from another process, and `rig down` leaving nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AmqpConnection, connectAmqp } from '../../src/drivers/amqp.ts'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const CONFIG = `import { defineConfig, rabbitmq } from 'testrig'
export default defineConfig({ services: { mq: rabbitmq({ vhost: 'app' }) } })
`

describe('rig up + rig snapshot with RabbitMQ', { shuffle: false }, () => {
  let p: Project
  let url: string
  let conn: AmqpConnection
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    url = (JSON.parse(r.stdout) as { services: Record<string, { url: string }> }).services.mq?.url as string
    conn = await connectAmqp(url)
  })
  afterAll(async () => {
    await conn?.close().catch(() => {})
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0, 20_000)).toBe(true)
  })

  it('up prints the broker with its credentials and vhost', () => {
    expect(url).toMatch(/^amqp:\/\/rig:[A-Za-z0-9_-]{24}@127\.0\.0\.1:\d+\/app$/)
  })

  it('snapshot save, change, snapshot restore: queues, exchanges and messages are back', async () => {
    const ch = await conn.createConfirmChannel()
    ch.on('error', () => {})
    await ch.assertQueue('orders', { durable: true })
    ch.publish('', 'orders', Buffer.from('order 1'))
    await ch.waitForConfirms()
    const saved = await p.rig(['snapshot', 'save', 'one', '--json'])
    expect(saved.code, saved.stderr).toBe(0)
    expect(JSON.parse(saved.stdout)).toMatchObject({ action: 'save', name: 'one', stores: ['mq'] })

    ch.publish('', 'orders', Buffer.from('order 2'))
    await ch.assertExchange('later', 'fanout')
    await ch.assertQueue('later.q')
    await ch.waitForConfirms()
    const restored = await p.rig(['snapshot', 'restore', 'one'])
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.stdout).toMatch(/restored snapshot "one" \(mq\)/)

    const check = await conn.createChannel()
    check.on('error', () => {})
    expect((await check.checkQueue('orders')).messageCount).toBe(1)
    const m = await check.get('orders', { noAck: true })
    expect(m && m.content.toString()).toBe('order 1')
    await expect(check.checkQueue('later.q')).rejects.toThrow(/NOT_FOUND/)

    const list = await p.rig(['snapshot', 'list', '--json'])
    expect(JSON.parse(list.stdout)).toEqual({ snapshots: [{ name: 'one', stores: ['mq'] }] })
  })

  it('down stops the broker and leaves nothing', async () => {
    await conn.close().catch(() => {})
    const r = await p.rig(['down'])
    expect(r.code, r.stderr).toBe(0)
    expect(await waitUntil(() => leftovers(p.dir).length === 0, 20_000)).toBe(true)
  })
})
