// Faults asked of the wrong thing: each one a clear message that says what to do, and nothing
// left running or listening.
import net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { command, postgres, redis, type Environment } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'
import { waitUntil } from '../support/procs.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const listening = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length

describe('at run time', () => {
  it('a fault on a service without a proxy names the option to add', async () => {
    env = await start({ services: { cache: redis() } })
    let err: (Error & { code?: string }) | undefined
    try {
      env.network.fault('cache', { latency: 100 })
    } catch (e) {
      err = e as Error & { code?: string }
    }
    expect(err?.code).toBe('RIG_NO_PROXY')
    expect(err?.message).toContain('service "cache" has no proxy')
    expect(err?.message).toContain('`proxy: true`')
    expect(() => env?.network.setMode('cache', 'hold')).toThrow(/proxy: true/)
  })

  it('an unknown service, a partition naming one, a bad value and a `from` that is no dependent', async () => {
    env = await start({ services: { cache: redis({ proxy: true }), api: command({ run: 'sleep 600', dependsOn: ['cache'], ready: [] }) } })
    const n = env.network
    expect(() => n.fault('nope', { latency: 1 })).toThrow(/service "nope" is not a service of this environment \(services: cache, api\)/)
    expect(() => n.fault('api', { partition: 'dbx' })).toThrow(/partition names "dbx", which is not a service/)
    expect(() => n.fault('cache', { latency: -5 })).toThrow(/latency must be a number of ms ≥ 0, got -5/)
    expect(() => n.fault('cache', { latncy: 5 } as never)).toThrow(/unknown fault "latncy"/)
    expect(() => n.fault('api', { from: 'cache', latency: 5 })).toThrow(/from "cache" matches no connection: "cache" does not depend on "api"/)
    expect(() => n.fault('cache', { from: 'cache', latency: 5 })).toThrow(/"cache" does not depend on "cache"/)
    expect(() => n.clear('nope')).toThrow(/not a service/)
    // Nothing half-applied.
    expect(n.state().proxies[0]?.faults).toEqual([])
    expect(n.state().partitions).toEqual([])
  })
})

describe('in the config', () => {
  it('a partition between services that do not talk, or naming an unknown one, is refused before anything starts', () => {
    const cut = () => validateConfig({ services: { a: redis({ faults: { partition: 'b' } }), b: redis() } })
    expect(cut).toThrow(/partition from "b" would cut nothing: .*add one to the other's dependsOn/)
    expect(() => validateConfig({ services: { a: redis({ faults: { partition: 'zz' } }) } })).toThrow(/partition names "zz", which is not a service of this environment/)
    expect(() => validateConfig({ services: { a: redis({ proxy: 'yes' as never }) } })).toThrow(/proxy must be true, false or \{ port \}/)
    expect(() => validateConfig({ services: { a: redis({ faults: { bandwidth: 'fast' as never } }) } })).toThrow(/service "a": faults: bandwidth must be bytes per second/)
  })

  it('a proxy in front of a command without a port it can reach is refused', async () => {
    const err = await rejection(start({ services: { job: command({ run: 'sleep 600', proxy: true, ready: [] }) } }))
    expect(err.message).toContain('service "job" has a proxy but no port rig knows: use {port} in its command')
    await assertNothingLeft()
  })

  it('a proxy port that is taken fails the start with the option to change, and nothing is left', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
    const taken = (blocker.address() as net.AddressInfo).port
    const before = listening()
    try {
      const err = await rejection(start({ services: { db: postgres({ proxy: true }), cache: redis({ proxy: { port: taken }, dependsOn: ['db'] }) } }))
      expect(err.code).toBe('RIG_PROXY_PORT_IN_USE')
      expect(err.message).toContain(`its proxy asks for port ${taken}, which is already in use`)
      expect(err.message).toContain('proxy: true')
      // Every proxy that did open is closed again (handles go a tick after their close callback).
      expect(await waitUntil(() => listening() === before)).toBe(true)
      await assertNothingLeft()
    } finally {
      blocker.close()
    }
  })
})
