// Stores rig did not start (the machine's own PostgreSQL on 5432 and Redis on 6379) are watched
// read-only: a leak is reported, never cleaned, and every write path — snapshots, clones,
// sweeps, fixtures, restores — stops at the safety gate unless the store is opted in by name.
// Only a database and a key prefix this file creates (and drops) are touched.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, postgresStore, prepareWorkers, redisStore, storesFor, sweepWorkers } from '../../src/guard/index.ts'
import { withDatabase } from '../../src/guard/postgres/connection.ts'
import { copyMeta } from '../../src/guard/postgres/template-db.ts'
import { external, type Environment } from '../../src/index.ts'
import { openGuardSession } from '../../src/runner/guard-session.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { guardedProvided } from '../support/provided.ts'
import { sql } from './helpers.ts'

const SYSTEM_PG = 'postgres://postgres@127.0.0.1:5432/postgres'
const SYSTEM_REDIS = 'redis://127.0.0.1:6379'
const tag = `${process.pid}_${randomBytes(3).toString('hex')}`
const DB = `rig_ext_test_${tag}`
/** Looks like a worker copy a crashed rig left (owner pid long gone): what a sweep would drop. */
const FAKE_CLONE = `rig_w_${DB}_dead_1`
const PREFIX = `rig-ext-test:${tag}:`
const dbUrl = withDatabase(SYSTEM_PG, DB)

let env: Environment
let redis: RedisClient

const databases = async (): Promise<string[]> => (await sql<{ datname: string }>(SYSTEM_PG, `select datname from pg_database where datname like $1 order by 1`, [`%${tag}%`])).map((r) => r.datname)
const count = async (): Promise<number> => (await sql<{ n: number }>(dbUrl, `select count(*)::int as n from cars`))[0]?.n ?? -1

beforeAll(async () => {
  await sql(SYSTEM_PG, `create database ${DB}`)
  await sql(dbUrl, `create table cars (id serial primary key, name text); insert into cars (name) values ('a'), ('b')`)
  const meta = { ...copyMeta('worker', DB, FAKE_CLONE, 'dead'), pid: 2 ** 22 + 1 }
  await sql(SYSTEM_PG, `create database ${FAKE_CLONE}`)
  await sql(SYSTEM_PG, `comment on database ${FAKE_CLONE} is '${JSON.stringify(meta)}'`)
  redis = await connectRedis(SYSTEM_REDIS)
  await redis.sendCommand(['SET', `${PREFIX}seeded`, 'x'])
  env = await start({ services: { sys: external({ url: dbUrl }) } })
})

afterAll(async () => {
  await env?.stop()
  for (const db of [FAKE_CLONE, DB]) await sql(SYSTEM_PG, `drop database if exists ${db} with (force)`).catch(() => {})
  const keys = (await redis?.sendCommand<string[]>(['KEYS', `${PREFIX}*`])) ?? []
  if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
  redis?.destroy()
  await assertNothingLeft()
})

describe('an external() PostgreSQL', () => {
  it('is watched: a leak is reported once, not cleaned, and the next test is not blamed', async () => {
    const stores = storesFor(env)
    expect(stores.map((s) => [s.info.name, s.info.kind, s.info.startedByRig])).toEqual([['sys', 'postgres', false]])
    // Left by the opted-in test when it ran first (this file's own database).
    await sql(dbUrl, `drop schema if exists rig_guard cascade`)
    await using guard = createGuard({ stores })
    await guard.baseline()
    expect((await guard.check('reads only')).leaked).toBe(false)
    const n0 = await count()
    await sql(dbUrl, `insert into cars (name) values ('left behind'); update cars set name = 'renamed' where id = 1`)
    const rep = await guard.check('writes', 'test/x.test.ts')
    expect(rep.failed).toBe(true)
    expect(rep.message).toContain('postgres sys: public.cars +1 row, 1 row changed')
    expect(rep.errors.map((e) => e.code)).toEqual(['RIG_GUARD_REFUSED'])
    expect(rep.errors[0]?.message).toMatch(/rig will not clean postgres:\/\/postgres@127\.0\.0\.1:5432\/rig_ext_test_\w+: rig did not start "sys", so it only watches it/)
    // Nothing written: the row stays, no shadow schema was made.
    expect(await count()).toBe(n0 + 1)
    expect(await sql(dbUrl, `select nspname from pg_namespace where nspname = 'rig_guard'`)).toEqual([])
    const next = await guard.check('next')
    expect(next.leaked).toBe(false)
    expect(next.errors).toEqual([])
    await sql(dbUrl, `delete from cars where name = 'left behind'; update cars set name = 'a' where id = 1`)
  })

  it('is never written to without an opt-in: snapshots, clones, sweeps, fixtures, restores all stop at the gate', async () => {
    // An unrelated session on the database must survive whatever rig refuses to do.
    const bystander = await sql<{ pid: number }>(dbUrl, `select pg_backend_pid() as pid`)
    expect(bystander.length).toBe(1)
    const before = await databases()
    const n0 = await count()
    await using guard = createGuard({ stores: storesFor(env) })
    const refused = { code: 'RIG_GUARD_REFUSED' }
    await expect(guard.saveSnapshot('x')).rejects.toMatchObject({ ...refused, message: expect.stringContaining('rig will not save a snapshot on postgres://') })
    await expect(guard.restoreSnapshot('x')).rejects.toMatchObject(refused)
    await expect(guard.dropSnapshot('x')).rejects.toMatchObject(refused)
    // Straight through the adapter, and through a store with no provider at all.
    const bare = postgresStore({ name: 'sys', url: dbUrl })
    await expect(bare.saveSnapshot('x')).rejects.toMatchObject(refused)
    await expect(bare.runScript('delete from cars')).rejects.toMatchObject({ ...refused, message: expect.stringContaining('rig will not load a fixture into') })
    await expect(sweepWorkers([bare])).rejects.toMatchObject({ ...refused, message: expect.stringContaining('rig will not drop worker copies on') })
    await expect(bare.workers.sweep()).rejects.toMatchObject(refused)
    await expect(prepareWorkers({ stores: [bare], count: 1 })).rejects.toMatchObject({ ...refused, message: expect.stringContaining('rig will not clone') })
    await expect(bare.workers.prepare(1, 'r')).rejects.toMatchObject(refused)
    await expect(bare.baseline({ writable: true, snapshot: false })).rejects.toMatchObject(refused)
    await bare.close()
    expect(await databases()).toEqual(before)
    expect(before).toContain(FAKE_CLONE)
    expect(await count()).toBe(n0)
  })

  it('is written to once opted in by name, and only then', async () => {
    const stores = storesFor(env)
    await using guard = createGuard({ stores, allowClean: ['sys'] })
    await guard.baseline()
    const n0 = await count()
    await sql(dbUrl, `insert into cars (name) values ('cleaned')`)
    const rep = await guard.check('writes')
    expect(rep.stores[0]?.restore?.strategy).toBe('delete')
    expect(await count()).toBe(n0)
    // The opt-in travels with the store: its own snapshot calls pass the gate too.
    await (stores[0] as (typeof stores)[0]).saveSnapshot('opted-in')
    expect(await databases()).toContain(`rig_snap_${DB}_opted_in`)
    await guard.dropSnapshot('opted-in')
    expect(await databases()).not.toContain(`rig_snap_${DB}_opted_in`)
  })

  it('is guarded by the Vitest plugin\'s worker side, read-only', async () => {
    const provided = guardedProvided(env, 'sys', { kind: 'external', startedByRig: false }, { failOnError: false })
    const session = await openGuardSession(provided)
    expect(session).toBeDefined()
    const n0 = await count()
    try {
      await sql(dbUrl, `insert into cars (name) values ('from a test')`)
      const outcome = await session!.check({ name: 'leaks into the shared database', file: 'test/x.test.ts', failed: false }, new Set())
      expect(outcome.leaks).toEqual([{ store: 'postgres sys', items: ['public.cars +1 row'] }])
      expect(outcome.failMessage).toContain('rig will not clean')
      expect(await count()).toBe(n0 + 1)
    } finally {
      await session?.close()
      await sql(dbUrl, `delete from cars where name = 'from a test'`)
    }
  })
})

describe('an external Redis', () => {
  it('is watched read-only within the keys given, and refuses every write without an opt-in', async () => {
    const store = redisStore({ name: 'shared', url: SYSTEM_REDIS, provider: 'external' }, { keys: [`${PREFIX}*`] })
    await using guard = createGuard({ stores: [store] })
    await guard.baseline()
    await redis.sendCommand(['SET', `${PREFIX}added`, 'y'])
    await redis.sendCommand(['SET', `${PREFIX}seeded`, 'changed'])
    const rep = await guard.check('writes')
    expect(rep.leaked).toBe(true)
    expect(rep.message).toContain(`redis shared: 1 key added without TTL: ${PREFIX}added; 1 key changed: ${PREFIX}seeded`)
    expect(rep.errors.map((e) => e.code)).toEqual(['RIG_GUARD_REFUSED'])
    expect(await redis.sendCommand(['GET', `${PREFIX}added`])).toBe('y')
    expect((await guard.check('next')).leaked).toBe(false)
    const refused = { code: 'RIG_GUARD_REFUSED' }
    await expect(guard.saveSnapshot('x')).rejects.toMatchObject(refused)
    await expect(guard.restoreSnapshot('x')).rejects.toMatchObject(refused)
    await expect(store.runScript(`DEL ${PREFIX}seeded`)).rejects.toMatchObject(refused)
    await expect(prepareWorkers({ stores: [store], count: 1 })).rejects.toMatchObject(refused)
    await expect(sweepWorkers([store])).rejects.toMatchObject(refused)
    expect(await redis.sendCommand(['GET', `${PREFIX}seeded`])).toBe('changed')
  })
})
