import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, type Guard, type GuardOptions, postgresStore, redisStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, redis, startEnvironment } from '../../src/index.ts'
import { DETECTIONS, sql, useDetection } from './helpers.ts'

const kept = async (url: string): Promise<string[]> => (await sql<{ n: string }>(url, `select nspname as n from pg_namespace where nspname like 'rig_kept_%' order by 1`)).map((r) => r.n)

describe.each(DETECTIONS)('keepOnFailure on PostgreSQL (changes: $detection)', ({ detection }) => {
  useDetection(detection)
  let env: Environment
  let url: string
  // Tests run shuffled: each starts from nothing kept, with a guard of its own.
  const open = async (options: Partial<GuardOptions> = {}): Promise<Guard> => {
    const guard = createGuard({ stores: [postgresStore(env.get('db'))], keepOnFailure: { max: 2 }, ...options })
    await guard.dropKept()
    await guard.baseline()
    return guard
  }

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
    url = env.get('db').url
    await sql(url, `create table job (id serial primary key, state text not null); insert into job (state) values ('seeded')`)
  })

  afterAll(async () => {
    await env?.stop()
  })

  it('copies what a failed test left to rig_kept_<n>, says where, restores the database, and never looks at the copy again', async () => {
    await using guard = await open()
    await sql(url, `insert into job (state) values ('active'), ('failed'); update job set state = 'retry' where id = 1;
      create schema pgboss_t1; create table pgboss_t1.job (id int primary key, name text); insert into pgboss_t1.job values (1, 'send-mail')`)
    const r = await guard.check('fetches a job', 'test/fetch.test.ts', { failed: true })
    expect(r.stores[0]?.kept).toEqual({ where: 'schema rig_kept_1 (2 tables: public.job, pgboss_t1.job)' })
    expect(r.message).toContain('\n    kept as the test left it: schema rig_kept_1 (2 tables: public.job, pgboss_t1.job)')
    expect(await sql(url, `select id, state from rig_kept_1."public.job" order by id`)).toEqual([{ id: 1, state: 'retry' }, { id: 2, state: 'active' }, { id: 3, state: 'failed' }])
    expect(await sql(url, `select * from rig_kept_1."pgboss_t1.job"`)).toEqual([{ id: 1, name: 'send-mail' }])
    expect(await sql(url, `select obj_description('rig_kept_1'::regnamespace) as c`)).toEqual([{ c: expect.stringMatching(/^rig kept what "fetches a job" left, 20/) }])
    // Restored as without keeping: the next test starts from the baseline, and the copy is no leak.
    expect(await sql(url, `select id, state from job`)).toEqual([{ id: 1, state: 'seeded' }])
    expect(await sql(url, `select count(*)::int as n from pg_namespace where nspname = 'pgboss_t1'`)).toEqual([{ n: 0 }])
    expect(r.stores[0]?.restore?.touched).toContain('schema pgboss_t1')
    const next = await guard.check('next')
    expect(next.leaked).toBe(false)
    expect(next.stores[0]?.status).toBe('clean')
  })

  it('keeps when the leak itself fails the test, not when the test passed with an allowed leak or the guard only warns', async () => {
    await using guard = await open()
    await sql(url, `insert into job (state) values ('leaked')`)
    const r = await guard.check('leaks', undefined, { failed: false })
    expect(r.failed).toBe(true)
    expect(r.stores[0]?.kept?.where).toBe('schema rig_kept_1 (1 table: public.job)')
    await sql(url, `insert into job (state) values ('allowed')`)
    const allowed = await guard.check('allowed leak', undefined, { allowed: new Set(['db']) })
    expect(allowed.stores[0]?.kept).toBeUndefined()
    await using warn = createGuard({ stores: [postgresStore(env.get('db'))], keepOnFailure: true, mode: 'warn' })
    await warn.baseline()
    await sql(url, `insert into job (state) values ('warned')`)
    expect((await warn.check('warned')).stores[0]?.kept).toBeUndefined()
    expect(await kept(url)).toEqual(['rig_kept_1'])
  })

  it('keeps no more than max tests, says so, and restores all the same; a run start drops them', async () => {
    await using guard = await open()
    for (const n of [1, 2]) {
      await sql(url, `insert into job (state) values ('failure ${n}')`)
      expect((await guard.check(`failure ${n}`, undefined, { failed: true })).stores[0]?.kept?.where).toBe(`schema rig_kept_${n} (1 table: public.job)`)
    }
    await sql(url, `insert into job (state) values ('third')`)
    const r = await guard.check('third failure', undefined, { failed: true })
    expect(r.stores[0]?.kept).toEqual({ note: "not kept: 2 failed tests' data kept already in this run (keepOnFailure.max)" })
    expect(r.message).toContain("\n    not kept: 2 failed tests' data kept already in this run (keepOnFailure.max)")
    expect(await sql(url, `select count(*)::int as n from job`)).toEqual([{ n: 1 }])
    expect(await kept(url)).toEqual(['rig_kept_1', 'rig_kept_2'])
    expect(await guard.dropKept()).toBe(2)
    expect(await kept(url)).toEqual([])
    expect((await guard.check('after the drop')).leaked).toBe(false)
  })
})

describe('keepOnFailure on Redis', () => {
  let env: Environment
  let r: RedisClient
  const cmd = (...args: string[]): Promise<unknown> => r.sendCommand(args)

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
    r = await connectRedis(env.get('cache').url)
    await cmd('SET', 'config:currency', 'EUR')
  })

  afterAll(async () => {
    r?.destroy()
    await env?.stop()
  })

  it('copies added and changed keys under rig:kept:<n>: without TTL, restores the rest, and never reports the copies', async () => {
    await using guard = createGuard({ stores: [redisStore(env.get('cache'))], keepOnFailure: true })
    await guard.dropKept()
    await guard.baseline()
    await cmd('HSET', 'bull:q:1', 'data', '{}')
    await cmd('SET', 'bull:q:lock', 'token', 'PX', '30000')
    await cmd('SET', 'config:currency', 'USD')
    const rep = await guard.check('processes a job', 'test/worker.test.ts', { failed: true })
    expect(rep.stores[0]?.kept).toEqual({ where: "keys rig:kept:1:* (3 keys, the test's name in rig:kept:1:test)" })
    expect(await cmd('HGET', 'rig:kept:1:bull:q:1', 'data')).toBe('{}')
    expect(await cmd('GET', 'rig:kept:1:config:currency')).toBe('USD')
    expect(await cmd('PTTL', 'rig:kept:1:bull:q:lock')).toBe(-1)
    expect(await cmd('GET', 'rig:kept:1:test')).toBe('processes a job')
    expect(await cmd('EXISTS', 'bull:q:1', 'bull:q:lock')).toBe(0)
    expect(await cmd('GET', 'config:currency')).toBe('EUR')
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('keeps the copies through a whole-database restore, and drops them on request', async () => {
    await using guard = createGuard({ stores: [redisStore(env.get('cache'))], keepOnFailure: true, strategy: 'truncate' })
    await guard.dropKept()
    await guard.baseline()
    for (const n of [1, 2]) {
      await cmd('SET', `session:${n}`, 'x')
      const rep = await guard.check('logs in', undefined, { failed: true })
      expect(rep.stores[0]?.kept?.where).toMatch(new RegExp(`^keys rig:kept:${n}:\\* \\(1 key,`))
    }
    expect(await cmd('GET', 'rig:kept:1:session:1')).toBe('x')
    expect(await cmd('GET', 'rig:kept:2:session:2')).toBe('x')
    expect(await cmd('EXISTS', 'session:1', 'session:2')).toBe(0)
    expect(await guard.dropKept()).toBe(2)
    expect(await cmd('KEYS', 'rig:kept:*')).toEqual([])
    expect(await cmd('GET', 'config:currency')).toBe('EUR')
  })
})
