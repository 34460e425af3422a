// rabbitmq(): rig's own broker beside the system one, with its own credentials, ready when an
// AMQP connection opens, gone without a trace when stopped.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpHandshake } from '../../src/drivers/amqp-handshake.ts'
import { connectAmqp } from '../../src/drivers/amqp.ts'
import { defineConfig, type Environment, rabbitmq } from '../../src/index.ts'
import { SERVICE_ACCOUNT } from '../../src/providers/process/user.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { expectPidsGone, processTree } from '../support/procs.ts'

const SYSTEM = 'amqp://guest:guest@127.0.0.1:5672'

let env: Environment
let url: string

beforeAll(async () => {
  env = await start(defineConfig({ services: { mq: rabbitmq({ vhost: 'shop' }) } }))
  url = env.get('mq').url
})

afterAll(async () => {
  // Everything the broker runs (beam.smp, erl_child_setup, inet_gethost: sessions of their own)
  // ends with the environment, and its files go.
  const tree = env?.get('mq').pid ? processTree(env.get('mq').pid as number) : []
  await env?.stop()
  await expectPidsGone(tree)
  await assertNothingLeft(env)
  // No epmd was started on the brokers' behalf (the system broker's own one runs as rabbitmq).
  const epmds = execFileSync('ps', ['-eo', 'user,stat,comm']).toString().split('\n').filter((l) => /\bepmd\b/.test(l) && !/^rabbitmq\b/.test(l) && !/\sZ/.test(l))
  expect(epmds).toEqual([])
})

describe('rabbitmq()', () => {
  it('exports a URL with its own user, a generated password and the vhost', () => {
    const u = new URL(url)
    expect(u.protocol).toBe('amqp:')
    expect(u.hostname).toBe('127.0.0.1')
    expect(u.username).toBe('rig')
    expect(u.password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(u.pathname).toBe('/shop')
    expect(Number(u.port)).not.toBe(5672)
    const vars = env.vars()
    expect(vars.RIG_MQ_URL).toBe(url)
    expect(vars.RIG_MQ_PORT).toBe(u.port)
    expect(vars.RIG_MQ_HOST).toBe('127.0.0.1')
    expect(vars.RIG_MQ_VHOST).toBe('shop')
    expect(vars.RIG_MQ_USER).toBe('rig')
    expect(vars.RIG_MQ_PASSWORD).toBe(u.password)
    expect(vars.RIG_MQ_VERSION).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('is ready for AMQP with those credentials, and for nobody else', async () => {
    expect(await amqpHandshake(url)).toMatchObject({ product: 'RabbitMQ' })
    const u = new URL(url)
    const guest = `amqp://guest:guest@127.0.0.1:${u.port}/`
    await expect(amqpHandshake(guest)).rejects.toThrow(/access refused for user "guest"/)
    u.password = 'wrong'
    await expect(amqpHandshake(u.toString())).rejects.toThrow(/access refused for user "rig"/)
    const other = new URL(url)
    other.pathname = '/other'
    await expect(amqpHandshake(other.toString())).rejects.toThrow(/vhost "other" is not open/)
  })

  it('carries messages (amqplib)', async () => {
    const conn = await connectAmqp(url)
    try {
      const ch = await conn.createChannel()
      await ch.assertQueue('orders')
      ch.publish('', 'orders', Buffer.from('hello'))
      let got: false | { content: Buffer } = false
      for (let i = 0; i < 100 && !got; i++) got = await ch.get('orders', { noAck: true })
      expect(got && got.content.toString()).toBe('hello')
      await ch.deleteQueue('orders')
    } finally {
      await conn.close()
    }
  })

  it('keeps its files in the environment and leaves the system broker alone', async () => {
    const dir = env.get('mq').dir
    expect(fs.existsSync(`${dir}/data/rig@localhost`)).toBe(true)
    expect(fs.statSync(`${dir}/home/.erlang.cookie`).mode & 0o777).toBe(0o400)
    expect(fs.statSync(`${dir}/definitions.json`).mode & 0o777).toBe(0o600)
    expect(fs.statSync(`${dir}/agent`).mode & 0o777).toBe(0o700)
    // Only the broker's account enters its directory; as root, that is rig's service account.
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    if (process.getuid?.() === 0) {
      const owner = execFileSync('ps', ['-o', 'user=', '-p', String(env.get('mq').pid)], { encoding: 'utf8' }).trim()
      expect(owner).toBe(SERVICE_ACCOUNT)
      expect(fs.statSync(dir).uid).toBe(fs.statSync(`${dir}/home/.erlang.cookie`).uid)
    }
    // The broker on 5672 (when this machine has one) still answers as before.
    const system = await amqpHandshake(SYSTEM).catch(() => undefined)
    if (system) expect(system.product).toBe('RabbitMQ')
    const cmd = fs.readFileSync(`/proc/${env.get('mq').pid}/cmdline`, 'utf8')
    expect(cmd).toContain('rig@localhost')
    expect(cmd).not.toContain('/var/lib/rabbitmq')
  })

  it('restarts on the same port and data', async () => {
    const conn = await connectAmqp(url)
    const ch = await conn.createChannel()
    await ch.assertQueue('durable.jobs', { durable: true })
    ch.publish('', 'durable.jobs', Buffer.from('kept'), { deliveryMode: 2 })
    await ch.close()
    await conn.close().catch(() => {})
    await env.get('mq').restart()
    const again = await connectAmqp(url)
    try {
      const ch2 = await again.createChannel()
      expect((await ch2.checkQueue('durable.jobs')).messageCount).toBe(1)
      await ch2.deleteQueue('durable.jobs')
    } finally {
      await again.close()
    }
  })
})

describe('rabbitmq({ management: true, settings })', () => {
  it('serves the management API on a port of its own to the same user, and applies rabbitmq.conf settings', async () => {
    const m = await start(defineConfig({ services: { mq: rabbitmq({ management: true, settings: { channel_max: 7 } }) } }))
    try {
      const { RIG_MQ_MANAGEMENT_URL: api, RIG_MQ_USER: user, RIG_MQ_PASSWORD: pass } = m.vars()
      expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const res = await fetch(`${api}/api/whoami`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ name: 'rig' })
      const conn = await connectAmqp(m.get('mq').url)
      const opened = await Promise.allSettled(Array.from({ length: 8 }, () => conn.createChannel()))
      expect(opened.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0)
      await conn.close().catch(() => {})
    } finally {
      await m.stop()
    }
  })
})
