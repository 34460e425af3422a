// PostgreSQL with replicas: streaming from copies of the init cache, ready once caught up, the
// role addresses following switchover, failover, promote and rejoin, and bad input refused with
// what to do, nothing left running.
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { external, postgres, type Environment } from '../../src/index.ts'
import { expectGroupsGone } from '../support/procs.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

let env: Environment | undefined
const memberPids = new Set<number>()
const remember = (e: Environment): void => {
  for (const n of e.get('db').topology?.nodes() ?? []) if (n.pid) memberPids.add(n.pid)
}
afterEach(async () => {
  if (env) remember(env)
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await expectGroupsGone([...memberPids])
  await assertNothingLeft()
})

async function query<R = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(sql, params)).rows as R[]
  } finally {
    await c.end()
  }
}

/** Polls `fn` until it returns true (replication is asynchronous), at most 20 s. */
async function eventually(fn: () => Promise<boolean>): Promise<boolean> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (await fn()) return true
  return false
}

const count = async (url: string, table: string): Promise<number> => (await query<{ n: number }>(url, `select count(*)::int as n from ${table}`))[0]?.n ?? -1

const inRecovery = async (url: string): Promise<boolean> => (await query<{ r: boolean }>(url, 'select pg_is_in_recovery() as r'))[0]?.r === true

describe('postgres({ replicas })', () => {
  it('streams to replicas started from copies; the role addresses follow a switchover and back', async () => {
    env = await start({ services: { db: postgres({ replicas: 1 }) } })
    const v = env.vars()
    expect(v.RIG_DB_PRIMARY_URL).toBe(v.RIG_DB_URL)
    expect(Object.keys(v)).toEqual(expect.arrayContaining(['RIG_DB_REPLICA_URL', 'RIG_DB_REPLICA_PORT', 'RIG_DB_REPLICA_1_URL', 'RIG_DB_REPLICA_1_PORT']))
    const primary = v.RIG_DB_PRIMARY_URL as string
    const replica = v.RIG_DB_REPLICA_URL as string
    await query(primary, 'create table cars (id int primary key)')
    await query(primary, 'insert into cars values (1)')
    expect(await inRecovery(primary)).toBe(false)
    expect(await inRecovery(replica)).toBe(true)
    expect(await inRecovery(v.RIG_DB_REPLICA_1_URL as string)).toBe(true)

    const db = env.get('db')
    const topo = db.topology
    const change = await topo?.switchover()
    env.record('db', 'role', change?.text ?? '')
    expect(change?.text).toBe('switchover: node 0 → replica, node 1 promoted')
    expect(topo?.nodes().map((n) => n.role)).toEqual(['replica', 'primary'])
    // The same addresses: writes go to node 1, reads to node 0, which followed it.
    await query(primary, 'insert into cars values (2)')
    expect(await inRecovery(primary)).toBe(false)
    expect(await inRecovery(replica)).toBe(true)
    expect(await inRecovery(v.RIG_DB_REPLICA_1_URL as string)).toBe(false)
    // The service follows its primary: it is ready, its pid the new primary's.
    expect(db.status).toBe('ready')
    expect(db.pid).toBe(topo?.nodes()[1]?.pid)

    await topo?.switchover()
    expect(topo?.nodes().map((n) => n.role)).toEqual(['primary', 'replica'])
    expect(await query(primary, 'select id from cars order by id')).toEqual([{ id: 1 }, { id: 2 }])
    expect(env.changes.map((c) => c.text)).toEqual(['switchover: node 0 → replica, node 1 promoted'])
  })

  it('synchronous: a failover loses no committed write; the killed primary rejoins as a replica', async () => {
    env = await start({ services: { db: postgres({ replicas: 1, synchronous: true }) } })
    const v = env.vars()
    const primary = v.RIG_DB_PRIMARY_URL as string
    await query(primary, 'create table rentals (id serial primary key)')
    for (let i = 0; i < 20; i++) await query(primary, 'insert into rentals default values')
    // remote_apply: a committed write is already on the replica.
    expect(await query(v.RIG_DB_REPLICA_URL as string, 'select count(*)::int as n from rentals')).toEqual([{ n: 20 }])
    const topo = env.get('db').topology
    remember(env)
    const killed = topo?.nodes()[0]?.pid as number
    const change = await topo?.failover()
    expect(change?.text).toBe('failover: node 0 killed, node 1 promoted')
    await expectGroupsGone([killed])
    expect(topo?.nodes().map((n) => n.role)).toEqual(['down', 'primary'])
    expect(await query(primary, 'select count(*)::int as n from rentals')).toEqual([{ n: 20 }])
    // Alone, the primary commits without waiting for a replica.
    await query(primary, 'insert into rentals default values')
    // With no replica left, the replica address reaches the primary.
    expect(await inRecovery(v.RIG_DB_REPLICA_URL as string)).toBe(false)

    const back = await topo?.rejoin()
    expect(back?.text).toMatch(/^rejoin: node 0 back as a replica \((pg_rewind|pg_basebackup)\)$/)
    expect(topo?.nodes().map((n) => n.role)).toEqual(['replica', 'primary'])
    expect(await inRecovery(v.RIG_DB_REPLICA_URL as string)).toBe(true)
    await query(primary, 'insert into rentals default values')
    expect(await query(v.RIG_DB_REPLICA_URL as string, 'select count(*)::int as n from rentals')).toEqual([{ n: 22 }])
  })

  it('promote: once the primary is killed, a replica is promoted and the address follows', async () => {
    env = await start({ services: { db: postgres({ replicas: 2 }) } })
    const db = env.get('db')
    const topo = db.topology
    remember(env)
    const primary = env.vars().RIG_DB_PRIMARY_URL as string
    await query(primary, 'create table t (x int)')
    const v = env.vars()
    // Asynchronous: the replicas have the table once they replayed it.
    expect(await eventually(async () => (await count(v.RIG_DB_REPLICA_1_URL as string, 't').catch(() => -1)) === 0 && (await count(v.RIG_DB_REPLICA_2_URL as string, 't').catch(() => -1)) === 0)).toBe(true)
    // A running primary is not replaced behind its back.
    const two = await rejection(topo?.promote(2) as Promise<unknown>)
    expect(two.code).toBe('RIG_TOPOLOGY_INVALID')
    expect(two.message).toContain('node 0 of "db" is still the running primary: promoting node 2 would make two primaries. Use switchover()')
    await db.kill()
    expect(db.status).toBe('stopped')
    await topo?.promote(2)
    expect(db.status).toBe('ready')
    await query(primary, 'insert into t values (1)')
    // Node 1 follows the new primary.
    expect(await eventually(async () => (await count(v.RIG_DB_REPLICA_1_URL as string, 't')) === 1)).toBe(true)
    expect(topo?.nodes().map((n) => n.role)).toEqual(['down', 'replica', 'primary'])
  })
})

describe('bad input', () => {
  it('promoting the primary, failing over with no replica left: refused, nothing killed', async () => {
    env = await start({ services: { db: postgres({ replicas: 1 }) } })
    const topo = env.get('db').topology
    const self = await rejection(topo?.promote(0) as Promise<unknown>)
    expect(self.code).toBe('RIG_TOPOLOGY_INVALID')
    expect(self.message).toContain('node 0 of "db" is the primary already: promote a replica (1)')
    expect((await rejection(topo?.promote(7) as Promise<unknown>)).message).toContain('service "db" has no node 7: its nodes are 0 to 1')
    await topo?.failover()
    const primaryPid = topo?.primary()?.pid
    const none = await rejection(topo?.failover() as Promise<unknown>)
    expect(none.code).toBe('RIG_TOPOLOGY_INVALID')
    expect(none.message).toContain('service "db" has no running replica to fail over to')
    expect(none.message).toContain('nothing was killed')
    expect(topo?.primary()?.pid).toBe(primaryPid)
    expect((await rejection(topo?.rejoin(1) as Promise<unknown>)).message).toContain('node 1 of "db" is running (primary)')
  })

  it('a replica that cannot catch up: the start times out naming it and what it replayed, nothing left running', async () => {
    // A delayed replica applies WAL an hour late: it streams, and never catches up.
    const err = await rejection(start({ services: { db: postgres({ replicas: 1, readyTimeout: 15_000, settings: { recovery_min_apply_delay: '1h' } }) } }))
    expect(err.code).toBe('RIG_READY_TIMEOUT')
    expect(err.message).toContain('replicas caught up with the primary')
    expect(err.message).toMatch(/replica node 1 of "db" has not caught up with the primary's WAL at [0-9A-F]+\/[0-9A-F]+: it replayed up to/)
    await assertNothingLeft()
  })

  it('replicas of PGlite or of an external() service are refused before anything starts', () => {
    expect(() => validateConfig({ services: { db: postgres({ replicas: 1, provider: 'embedded' }) } })).toThrow(/the embedded PostgreSQL \(PGlite\) has no replication: remove `replicas`/)
    expect(() => validateConfig({ services: { db: external({ url: 'postgres://localhost:5432/app', replicas: 1 } as never) } })).toThrow(/an external\(\) service runs elsewhere and rig does not start it, so it cannot start replicas of it/)
    expect(() => validateConfig({ services: { db: postgres({ synchronous: true }) } })).toThrow(/`synchronous: true` makes commits wait for a replica, but it has none: add `replicas: 1`/)
    expect(() => validateConfig({ services: { db: postgres({ replicas: 1.5 }) } })).toThrow(/replicas/)
  })

  it('role changes on a service without replicas say how to get some', async () => {
    env = await start({ services: { db: postgres() } })
    expect(env.get('db').topology).toBeUndefined()
  })
})
