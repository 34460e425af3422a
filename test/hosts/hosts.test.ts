// Services on hosts (network namespaces): PostgreSQL on core1, Redis and a service that queries
// PostgreSQL on core2. A partition between the hosts cuts the real route between them while the
// test process reaches both; a host's loss cuts it off from everyone. Nothing is left in the
// kernel after a stop.
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { command, postgres, redis, type Environment } from '../../src/index.ts'
import { respCommand } from '../../src/drivers/resp.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { expectNothingInKernel, NO_HOSTS, tryConnect } from './support.ts'

const CLIENT = path.join(import.meta.dirname, 'fixtures/db-client.mjs')

interface Answer {
  status: number
  body: { ok: boolean; error?: string }
}

async function ask(url: string): Promise<Answer> {
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  return { status: r.status, body: (await r.json()) as Answer['body'] }
}

describe.skipIf(NO_HOSTS)('services on hosts', () => {
  let env: Environment
  beforeAll(async () => {
    env = await start({
      hosts: { core1: {}, core2: {} },
      services: {
        db: postgres({ host: 'core1' }),
        cache: redis({ host: 'core2' }),
        api: command({ host: 'core2', run: [process.execPath, CLIENT], env: ({ db }) => ({ DATABASE_URL: db?.url ?? '', PORT: '{port}', HOST: '{host}' }), dependsOn: ['db'] }),
      },
    })
  })
  afterEach(async () => {
    await env.hosts?.reset()
  })
  afterAll(async () => {
    await env?.stop()
    await assertNothingLeft(env)
    expectNothingInKernel()
  })

  const dbAnswers = async (): Promise<unknown> => (await pgQuery(env.get('db').url, 'select 42 as n')).rows[0]
  const cacheAnswers = async (): Promise<string> => String(await respCommand(env.get('cache').host, env.get('cache').port, [['AUTH', 'default', env.get('cache').env.RIG_CACHE_PASSWORD ?? ''], ['PING']]))

  it('each service runs in its host and is reached at the host address', async () => {
    const core1 = env.host('core1')
    const core2 = env.host('core2')
    expect(core1.address).not.toBe(core2.address)
    expect(env.get('db').host).toBe(core1.address)
    expect(env.get('db').url).toContain(`@${core1.address}:`)
    expect(env.get('cache').host).toBe(core2.address)
    expect(env.get('api').url).toBe(`http://${core2.address}:${env.get('api').port}`)
    // The process lives in the host's namespace, not in the test's.
    const fs = await import('node:fs')
    const nsOf = (pid: number): string => fs.readlinkSync(`/proc/${pid}/ns/net`)
    expect(nsOf(env.get('db').pid as number)).not.toBe(nsOf(process.pid))
    expect(nsOf(env.get('db').pid as number)).not.toBe(nsOf(env.get('cache').pid as number))
    expect(nsOf(env.get('cache').pid as number)).toBe(nsOf(env.get('api').pid as number))
    // Servers still run as the service account, not as root.
    const status = fs.readFileSync(`/proc/${env.get('db').pid}/status`, 'utf8')
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).not.toBe('0')
    expect(await dbAnswers()).toEqual({ n: 42 })
    expect(await cacheAnswers()).toBe('PONG')
    expect((await ask(env.get('api').url)).body).toEqual({ ok: true })
  })

  it('a partition cuts core1 from core2; the test reaches both; the service on core2 recovers after', async () => {
    await env.host('core1').partition('core2')
    expect(env.hosts?.state().partitions).toEqual([['core1', 'core2']])
    const cut = await ask(env.get('api').url)
    expect(cut.status).toBe(503)
    expect(cut.body.error).toBe('EHOSTUNREACH')
    // The test process, outside both hosts, still reaches each.
    expect(await dbAnswers()).toEqual({ n: 42 })
    expect(await cacheAnswers()).toBe('PONG')

    await env.host('core2').heal('core1')
    expect(env.hosts?.state().partitions).toEqual([])
    expect(await ask(env.get('api').url)).toEqual({ status: 200, body: { ok: true } })
  })

  it("a host's loss: nothing reaches it, it reaches nothing, and up() brings it back", async () => {
    await env.host('core1').down()
    expect(env.hosts?.state().hosts.find((h) => h.name === 'core1')?.down).toBe(true)
    expect(await tryConnect(env.get('db').host, env.get('db').port, 3000)).not.toBe('connected')
    const lost = await ask(env.get('api').url)
    expect(lost.status).toBe(503)
    // core2 itself is untouched.
    expect(await cacheAnswers()).toBe('PONG')
    await env.host('core1').up()
    expect(await dbAnswers()).toEqual({ n: 42 })
    expect(await ask(env.get('api').url)).toEqual({ status: 200, body: { ok: true } })
  })

  it('reset() heals every partition and brings every host up', async () => {
    await env.host('core1').partition('core2')
    await env.host('core2').down()
    expect(await env.hosts?.reset()).toBe(true)
    expect(env.hosts?.state().partitions).toEqual([])
    expect(env.hosts?.state().hosts.every((h) => !h.down)).toBe(true)
    expect(await ask(env.get('api').url)).toEqual({ status: 200, body: { ok: true } })
    expect(await env.hosts?.reset()).toBe(false)
  })

  it("reset(owner) undoes only what that test worker set, and a partition both set lasts until both reset", async () => {
    const net = env.hosts!
    await net.partition('core1', 'core2', 'w1')
    await net.partition('core2', 'core1', 'w2')
    await net.down('core1', 'w2')
    expect(await net.reset('w1')).toBe(false)
    expect(net.state().partitions).toEqual([['core1', 'core2']])
    // The route is still cut: core2's service cannot reach core1's.
    expect((await ask(env.get('api').url)).status).toBe(503)
    expect(await net.reset('w2')).toBe(true)
    expect(net.state().partitions).toEqual([])
    expect(net.state().hosts.every((h) => !h.down)).toBe(true)
    expect(await ask(env.get('api').url)).toEqual({ status: 200, body: { ok: true } })
  })
})
