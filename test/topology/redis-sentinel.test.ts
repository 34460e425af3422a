// A Redis master with a replica and three sentinels, from the local redis-server: what it
// exports, that a client which asks the sentinels for the master and one on rig's stable
// address both carry on through a failover (asked for, or the master killed), and the errors
// of a failover or a member that cannot be.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createClient, createSentinel } from 'redis'
import { respCommand } from '../../src/drivers/resp.ts'
import { defineConfig, redis, type Environment } from '../../src/index.ts'
import { assertNothingLeft, recordMembers, rejection, start } from '../support/env.ts'
import { waitUntil } from '../support/procs.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

/** Starts `services` as this file's environment. */
async function up(services: Parameters<typeof defineConfig>[0]['services']): Promise<Environment> {
  env = await start(defineConfig({ services }))
  return env
}

const role = async (port: number, password: string): Promise<string> => {
  const r = await respCommand('127.0.0.1', port, [['AUTH', 'default', password], ['ROLE']])
  return Array.isArray(r) ? String(r[0]) : String(r)
}

describe('redis({ replicas, sentinels })', () => {
  it('exports the sentinels and the master name, and replicates to the replica', async () => {
    const e = await up({ cache: redis({ replicas: 1, sentinels: 3, masterName: 'main' }) })
    const vars = e.vars()
    const password = vars.RIG_CACHE_PASSWORD as string
    expect(vars.RIG_CACHE_MASTER_NAME).toBe('main')
    const sentinels = (vars.RIG_CACHE_SENTINELS as string).split(',')
    expect(sentinels).toHaveLength(3)
    const members = e.get('cache').members?.state() ?? []
    expect(members.map((m) => `${m.name}:${m.role}`)).toEqual(['node1:master', 'node2:replica', 'sentinel1:sentinel', 'sentinel2:sentinel', 'sentinel3:sentinel'])
    // Every sentinel names node1 as the master.
    for (const s of sentinels) {
      const [host, port] = s.split(':')
      const addr = await respCommand(host as string, Number(port), [['AUTH', 'default', password], ['SENTINEL', 'get-master-addr-by-name', 'main']])
      expect(addr).toEqual(['127.0.0.1', String(members[0]?.port)])
    }
    // The service's address is the master; what is written there reaches the replica.
    const client = createClient({ url: vars.RIG_CACHE_URL })
    await client.connect()
    await client.set('k', 'v')
    await client.close()
    const replica = members[1] as { port: number }
    await respCommand('127.0.0.1', replica.port, [['AUTH', 'default', password], ['WAIT', '0', '0']]).catch(() => {})
    expect(await waitUntil(async () => (await respCommand('127.0.0.1', replica.port, [['AUTH', 'default', password], ['GET', 'k']])) === 'v')).toBe(true)
    await expect(respCommand('127.0.0.1', replica.port, [['AUTH', 'default', password], ['SET', 'x', '1']])).rejects.toThrow(/READONLY/)
  })

  it('a client that asks the sentinels, and one on the stable address, keep working through failover()', async () => {
    const e = await up({ cache: redis({ replicas: 1, sentinels: 3 }) })
    const vars = e.vars()
    const password = vars.RIG_CACHE_PASSWORD as string
    const sentinel = createSentinel({
      name: vars.RIG_CACHE_MASTER_NAME as string,
      sentinelRootNodes: (vars.RIG_CACHE_SENTINELS as string).split(',').map((a) => ({ host: a.split(':')[0] as string, port: Number(a.split(':')[1]) })),
      nodeClientOptions: { password },
      sentinelClientOptions: { password },
    })
    sentinel.on('error', () => {})
    await sentinel.connect()
    const stable = createClient({ url: vars.RIG_CACHE_URL })
    stable.on('error', () => {})
    await stable.connect()
    await sentinel.set('before', '1')
    await stable.set('before-stable', '1')

    const svc = e.get('cache')
    const [node1, node2] = svc.members?.state() ?? []
    expect(await svc.failover()).toBe('node2')
    expect(svc.members?.state().find((m) => m.role === 'master')?.name).toBe('node2')
    expect(await role(node2?.port as number, password)).toBe('master')
    expect(await waitUntil(async () => (await role(node1?.port as number, password)) === 'slave')).toBe(true)

    // The sentinel client found the new master on its own; writes land there.
    await sentinel.set('after', '2')
    expect(await sentinel.get('before')).toBe('1')
    const onNode2 = await respCommand('127.0.0.1', node2?.port as number, [['AUTH', 'default', password], ['GET', 'after']])
    expect(onNode2).toBe('2')
    // The stable address follows: its connection to the old master was reset, the client reconnects to node2.
    expect(await waitUntil(async () => (await stable.set('after-stable', '2').then(() => true, () => false)))).toBe(true)
    expect(await respCommand('127.0.0.1', node2?.port as number, [['AUTH', 'default', password], ['GET', 'after-stable']])).toBe('2')
    expect(await stable.get('before-stable')).toBe('1')
    await sentinel.close()
    stable.destroy()
  })

  it('killing the master: the sentinels fail over on their own and the stable address follows', async () => {
    const e = await up({ cache: redis({ replicas: 1, sentinels: 3 }) })
    const vars = e.vars()
    const svc = e.get('cache')
    await svc.kill('master')
    expect(svc.members?.state().find((m) => m.name === 'node1')?.status).toBe('stopped')
    expect(svc.status).toBe('ready')
    const stable = createClient({ url: vars.RIG_CACHE_URL, socket: { reconnectStrategy: 50 } })
    stable.on('error', () => {})
    await stable.connect().catch(() => {})
    // Event-driven: the sentinels need down-after (1 s) and an election; generous deadline.
    expect(await waitUntil(async () => (await stable.set('k', 'v').then(() => true, () => false)), 60_000, 100)).toBe(true)
    expect(svc.members?.state().find((m) => m.role === 'master')?.name).toBe('node2')
    stable.destroy()
    // The old master comes back as a replica of the new one.
    await svc.members?.start('node1')
    const password = vars.RIG_CACHE_PASSWORD as string
    const node1 = svc.members?.state().find((m) => m.name === 'node1')
    recordMembers(e)
    expect(await waitUntil(async () => (await role(node1?.port as number, password).catch(() => '')) === 'slave', 30_000)).toBe(true)
  })
})

describe('bad input', () => {
  it('a failover with no replica or no sentinel says what to add; an unknown member lists them', async () => {
    const e = await up({ plain: redis(), lonely: redis({ sentinels: 1 }) })
    const plain = await rejection(e.get('plain').failover())
    expect(plain.code).toBe('RIG_NO_FAILOVER')
    expect(plain.message).toMatch(/no replica to fail over to.*replicas: 1, sentinels: 3/)
    const lonely = await rejection(e.get('lonely').failover())
    expect(lonely.code).toBe('RIG_NO_FAILOVER')
    expect(lonely.message).toMatch(/no replica to fail over to: give it replicas/)
    const unknown = await rejection(e.get('lonely').kill('node7'))
    expect(unknown.code).toBe('RIG_UNKNOWN_MEMBER')
    expect(unknown.message).toMatch(/no member or role "node7" \(members: node1 \(master\), sentinel1 \(sentinel\)\)/)
    const one = await rejection(e.get('plain').kill('node1'))
    expect(one.code).toBe('RIG_UNKNOWN_MEMBER')
  })

  it('rejects bad topology options before anything starts', async () => {
    const bad = await rejection(start(defineConfig({ services: { c: redis({ replicas: -1 }) } })))
    expect(bad.message).toMatch(/replicas.*a whole number from 0 to 9/)
    const name = await rejection(start(defineConfig({ services: { c: redis({ sentinels: 1, masterName: 'has space' }) } })))
    expect(name.message).toMatch(/masterName/)
  })
})
