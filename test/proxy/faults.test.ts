// rig's proxy in front of a service and the faults injected through it, against servers rig
// started: what each fault does to open and new connections, that tests keep reaching both
// sides of a partition, and that clearing goes back to the config's faults.
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectRedis } from '../../src/drivers/redis.ts'
import { pgQuery } from '../../src/drivers/pg.ts'
import { command, http, postgres, redis, type Environment } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const RELAY = path.join(import.meta.dirname, 'fixtures', 'relay.cjs')

/** Sends raw RESP and resolves with the first reply line, or 'no answer' after `ms`. */
function rawPing(port: number, password: string, ms = 400): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port })
    let got = ''
    const done = (v: string): void => {
      clearTimeout(timer)
      s.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => done('no answer'), ms)
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message))
    s.on('close', () => done(got.includes('PONG') ? 'PONG' : 'closed'))
    s.on('data', (d) => {
      got += d
      if (got.includes('PONG')) done('PONG')
    })
    s.write(`AUTH default ${password}\r\nPING\r\n`)
  })
}

/** Closes a client that a fault may have closed already. */
const drop = (c: { destroy(): void }): void => {
  try {
    c.destroy()
  } catch {
    // closed by the fault
  }
}

const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now()
  const v = await f()
  return [v, performance.now() - t]
}

describe('addresses', () => {
  it('exports the proxy as RIG_<NAME>_URL and the service itself as RIG_<NAME>_DIRECT_URL', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    expect(v.RIG_CACHE_PORT).not.toBe(v.RIG_CACHE_DIRECT_PORT)
    expect(v.RIG_CACHE_URL).toBe((v.RIG_CACHE_DIRECT_URL ?? '').replace(`:${v.RIG_CACHE_DIRECT_PORT}`, `:${v.RIG_CACHE_PORT}`))
    // The service's own address (probes, the guard) stays direct.
    expect(env.get('cache').port).toBe(Number(v.RIG_CACHE_DIRECT_PORT))
    const pw = v.RIG_CACHE_PASSWORD ?? ''
    expect(await rawPing(Number(v.RIG_CACHE_PORT), pw)).toBe('PONG')
    expect(env.network.state().proxies[0]).toMatchObject({ service: 'cache', port: Number(v.RIG_CACHE_PORT), target: `127.0.0.1:${v.RIG_CACHE_DIRECT_PORT}`, mode: 'open' })
  })

  it('gives PostgreSQL clients the proxy, and a service without proxy keeps its address', async () => {
    env = await start({ services: { db: postgres({ proxy: true }), cache: redis() } })
    const v = env.vars()
    expect((await pgQuery(v.RIG_DB_URL ?? '', 'select 41 + 1 as x')).rows).toEqual([{ x: 42 }])
    expect(v.RIG_CACHE_DIRECT_URL).toBeUndefined()
    expect(v.RIG_CACHE_URL).toBe(env.get('cache').url)
  })
})

describe('faults', () => {
  it('latency (and jitter) delays every answer; clearing goes back to the config\'s faults', async () => {
    env = await start({ services: { cache: redis({ faults: { latency: 60 } }) } })
    const c = await connectRedis(env.vars().RIG_CACHE_URL ?? '')
    try {
      const [, base] = await timed(() => c.sendCommand(['PING']))
      expect(base).toBeGreaterThanOrEqual(55)
      env.network.fault('cache', { latency: 250, jitter: 20 })
      const [pong, slow] = await timed(() => c.sendCommand(['PING']))
      expect(pong).toBe('PONG')
      expect(slow).toBeGreaterThanOrEqual(225)
      expect(env.network.reset()).toBe(true)
      const [, again] = await timed(() => c.sendCommand(['PING']))
      expect(again).toBeGreaterThanOrEqual(55)
      expect(again).toBeLessThan(225)
      expect(env.network.state().proxies[0]?.faults).toEqual([{ faults: { latency: 60 }, text: 'latency 60ms', config: true }])
    } finally {
      drop(c)
    }
  })

  it('bandwidth limits a large answer', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const c = await connectRedis(env.vars().RIG_CACHE_URL ?? '')
    try {
      await c.sendCommand(['SET', 'big', 'x'.repeat(60_000)])
      env.network.fault('cache', { bandwidth: 100_000 })
      const [v, ms] = await timed(() => c.sendCommand<string>(['GET', 'big']))
      expect(v.length).toBe(60_000)
      expect(ms).toBeGreaterThanOrEqual(500)
      await c.sendCommand(['DEL', 'big'])
    } finally {
      drop(c)
    }
  })

  it('timeout: open and new connections get no answer; clearing lets the waiting bytes through', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    const port = Number(v.RIG_CACHE_PORT)
    const pw = v.RIG_CACHE_PASSWORD ?? ''
    const c = await connectRedis(v.RIG_CACHE_URL ?? '')
    try {
      env.network.fault('cache', { timeout: true })
      expect(await rawPing(port, pw)).toBe('no answer')
      const pending = c.sendCommand(['PING'])
      const first = await Promise.race([pending, new Promise((r) => setTimeout(() => r('waiting'), 300))])
      expect(first).toBe('waiting')
      // The service itself is fine.
      expect(await rawPing(Number(v.RIG_CACHE_DIRECT_PORT), pw)).toBe('PONG')
      env.network.clear('cache')
      expect(await pending).toBe('PONG')
      expect(await rawPing(port, pw)).toBe('PONG')
    } finally {
      drop(c)
    }
  })

  it('timeout with a duration closes stalled connections after it', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    env.network.fault('cache', { timeout: 150 })
    expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '', 2000)).toBe('closed')
  })

  it('reset: open connections are reset, new ones too, until cleared', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    const c = await connectRedis(v.RIG_CACHE_URL ?? '')
    try {
      env.network.fault('cache', { reset: true })
      const err = await rejection(c.sendCommand(['PING']))
      expect(err.message).toMatch(/closed|reset|ECONNRESET/i)
      expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '')).toMatch(/ECONNRESET|closed/)
      env.network.reset()
      expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '')).toBe('PONG')
    } finally {
      drop(c)
    }
  })

  it('closeAfter cuts a connection in the middle of an answer', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const c = await connectRedis(env.vars().RIG_CACHE_URL ?? '')
    try {
      await c.sendCommand(['SET', 'big', 'y'.repeat(20_000)])
      env.network.fault('cache', { closeAfter: 5000 })
      const err = await rejection(c.sendCommand(['GET', 'big']))
      expect(err.message).toMatch(/closed|reset|socket/i)
      env.network.reset()
      const d = await connectRedis(env.vars().RIG_CACHE_URL ?? '')
      expect(await d.sendCommand(['DEL', 'big'])).toBe(1)
      d.destroy()
    } finally {
      drop(c)
    }
  })

  it('a partition cuts a dependent off its dependency while tests still reach both', async () => {
    env = await start({
      services: {
        cache: redis({ proxy: true }),
        api: command({ run: [process.execPath, RELAY], env: { PORT: '{port}' }, dependsOn: ['cache'], ready: http('/') }),
      },
    })
    const v = env.vars()
    const apiPing = async (): Promise<string> => {
      const res = await fetch(`${env?.get('api').url}/ping`)
      return `${res.status} ${await res.text()}`
    }
    expect(await apiPing()).toBe('200 PONG')
    // The api was given its own endpoint of the proxy.
    const state = env.network.state().proxies[0]
    expect(Object.keys(state?.routes ?? {})).toEqual(['api'])
    env.network.fault('api', { partition: 'cache' })
    expect(await apiPing()).toBe('504 no answer')
    expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '')).toBe('PONG')
    expect((await fetch(`${env.get('api').url}/`)).status).toBeLessThan(500)
    env.network.reset()
    expect(await apiPing()).toBe('200 PONG')
  })

  it('from: a fault on the connections of one dependent only', async () => {
    env = await start({
      services: {
        cache: redis({ proxy: true }),
        api: command({ run: [process.execPath, RELAY], env: { PORT: '{port}' }, dependsOn: ['cache'], ready: http('/') }),
      },
    })
    env.network.fault('cache', { timeout: true, from: 'api' })
    const res = await fetch(`${env.get('api').url}/ping`)
    expect(res.status).toBe(504)
    expect(await rawPing(Number(env.vars().RIG_CACHE_PORT), env.vars().RIG_CACHE_PASSWORD ?? '')).toBe('PONG')
  })
})

describe('owners', () => {
  it("what one test worker set is removed by its reset only; a switchover's hold by none", async () => {
    env = await start({ services: { cache: redis({ proxy: true }), api: command({ run: 'sleep 600', dependsOn: ['cache'], ready: [] }) } })
    const n = env.network
    const c = await connectRedis(env.vars().RIG_CACHE_URL ?? '')
    try {
      n.fault('cache', { latency: 250 }, 'w1')
      n.fault('api', { partition: 'cache' }, 'w1')
      n.setMode('cache', 'hold', 'w2')
      n.fault('cache', { jitter: 5 }, 'w2')
      n.clear('cache', 'w2')
      expect(n.state().proxies.find((p) => p.service === 'cache')).toMatchObject({ mode: 'open', faults: [{ text: 'latency 250ms', config: false }] })
      expect(n.reset('w2')).toBe(false)
      const [, slow] = await timed(() => c.sendCommand(['PING']))
      expect(slow).toBeGreaterThanOrEqual(225)
      expect(n.state().partitions).toEqual([{ between: ['api', 'cache'], config: false }])
      expect(n.reset('w1')).toBe(true)
      expect(n.state().partitions).toEqual([])
      const [, fast] = await timed(() => c.sendCommand(['PING']))
      expect(fast).toBeLessThan(225)
      // The switch a role change holds is not a test's: no reset lets new connections through.
      n.get('cache')?.setMode('hold')
      expect(n.reset('w1')).toBe(false)
      expect(n.reset()).toBe(false)
      expect(n.state().proxies.find((p) => p.service === 'cache')?.mode).toBe('hold')
      n.get('cache')?.setMode('open')
    } finally {
      drop(c)
    }
  })
})

describe('maintenance switch', () => {
  it('hold keeps new connections waiting until resume; open ones go on', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    const c = await connectRedis(v.RIG_CACHE_URL ?? '')
    try {
      env.network.setMode('cache', 'hold')
      expect(await c.sendCommand(['PING'])).toBe('PONG')
      const held = rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '', 3000)
      await new Promise((r) => setTimeout(r, 250))
      expect(env.network.state().proxies[0]?.mode).toBe('hold')
      env.network.setMode('cache', 'open')
      expect(await held).toBe('PONG')
    } finally {
      drop(c)
    }
  })

  it('refuse resets new connections; open ones go on', async () => {
    env = await start({ services: { cache: redis({ proxy: true }) } })
    const v = env.vars()
    const c = await connectRedis(v.RIG_CACHE_URL ?? '')
    try {
      env.network.setMode('cache', 'refuse')
      expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '')).toMatch(/ECONNRESET|closed/)
      expect(await c.sendCommand(['PING'])).toBe('PONG')
      env.network.reset()
      expect(await rawPing(Number(v.RIG_CACHE_PORT), v.RIG_CACHE_PASSWORD ?? '')).toBe('PONG')
    } finally {
      drop(c)
    }
  })
})
