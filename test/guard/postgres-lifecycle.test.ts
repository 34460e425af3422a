import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, GuardRefusedError, postgresStore, prepareWorkers, SnapshotNotFoundError, sweepWorkers } from '../../src/guard/index.ts'
import { withMaintenance } from '../../src/guard/postgres/connection.ts'
import { copyDatabase, copyMeta } from '../../src/guard/postgres/template-db.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { DETECTIONS, SCHEMA, sql, useDetection } from './helpers.ts'

describe.each(DETECTIONS)('postgres guard: dropped tables, snapshots, safety, workers (changes: $detection)', ({ detection }) => {
  useDetection(detection)
  let env: Environment
  let url: string

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'app' }) } }))
    url = env.get('db').url
    await sql(url, SCHEMA)
  })

  afterAll(async () => {
    await env?.stop()
  })

  it('reports a dropped table, restores the rest, and does not blame the next test', async () => {
    await sql(url, `create table doomed (x int); insert into doomed values (1)`)
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    await sql(url, `drop table doomed; insert into cars (name) values ('extra')`)
    const r = await guard.check('drops a table')
    expect(r.stores[0]?.detection).toBe(detection)
    expect(r.message).toContain('public.doomed dropped')
    expect(r.message).toContain('public.cars +1 row')
    expect(r.errors.map((e) => e.code)).toEqual(['RIG_GUARD_TABLE_DROPPED'])
    expect(r.message).toContain('not restored: store "db": public.doomed was dropped by the test')
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
    const next = await guard.check('next')
    expect(next.leaked).toBe(false)
    expect(next.errors).toEqual([])
  })

  it('brings a dropped table back from the baseline snapshot under auto', async () => {
    await sql(url, `create table precious (x int); insert into precious values (1), (2)`)
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))], snapshot: true })
    await guard.baseline()
    await sql(url, `drop table precious`)
    const r = await guard.check('drops precious')
    expect(r.message).toContain('public.precious dropped')
    expect(r.errors).toEqual([])
    expect(r.stores[0]?.restore?.strategy).toBe('snapshot')
    expect(await sql(url, `select count(*)::int as n from precious`)).toEqual([{ n: 2 }])
    expect((await guard.check('next')).leaked).toBe(false)
    await sql(url, `drop table precious`)
  })

  it('saves and restores named snapshots, and lists them', async () => {
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    await guard.saveSnapshot('ten-cars')
    await sql(url, `delete from rentals; delete from cars where id > 5`)
    await guard.restoreSnapshot('ten-cars')
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
    expect(await guard.listSnapshots()).toEqual([{ name: 'ten-cars', stores: ['db'] }])
    // The restored snapshot is the new baseline: nothing to blame.
    expect((await guard.check('after restore')).leaked).toBe(false)
    await expect(guard.restoreSnapshot('nope')).rejects.toBeInstanceOf(SnapshotNotFoundError)
    await expect(guard.saveSnapshot('bad name;drop')).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_BAD_NAME' })
    expect(await guard.dropSnapshot('ten-cars')).toBe(true)
    expect(await guard.listSnapshots()).toEqual([])
  })

  it('refuses under NODE_ENV=production and names the database', () => {
    const before = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      expect(() => createGuard({ stores: [postgresStore(env.get('db'))] })).toThrow(/rig will not clean postgres:\/\/postgres@127\.0\.0\.1:\d+\/app: NODE_ENV is "production"/)
    } finally {
      process.env.NODE_ENV = before
    }
  })

  it('does not clean a store rig did not start unless opted in by name', async () => {
    // Same server, but declared by URL only: the guard must treat it as someone else's.
    const foreign = { name: 'ext', url }
    await using guard = createGuard({ stores: [postgresStore(foreign)] })
    await guard.baseline()
    await sql(url, `insert into cars (name) values ('foreign')`)
    const r = await guard.check('writes to ext')
    // Watching only: no triggers on a store rig may not write to.
    expect(r.stores[0]?.detection).toBe('count')
    expect(r.message).toContain('public.cars +1 row')
    const refused = r.errors[0]
    expect(refused).toBeInstanceOf(GuardRefusedError)
    expect(refused?.message).toMatch(/rig will not clean postgres:\/\/postgres@127\.0\.0\.1:\d+\/app: rig did not start "ext".*allowClean: \['ext'\]/)
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 11 }])
    await expect(guard.restoreSnapshot('x')).rejects.toBeInstanceOf(GuardRefusedError)

    await using allowed = createGuard({ stores: [postgresStore(foreign)], allowClean: ['ext'] })
    await sql(url, `delete from cars where name = 'foreign'`)
    await allowed.baseline()
    await sql(url, `insert into cars (name) values ('foreign')`)
    const r2 = await allowed.check('writes to ext, allowed')
    expect(r2.errors).toEqual([])
    // Cleaned, but its schema gets no triggers: counted.
    expect(r2.stores[0]?.detection).toBe('count')
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
  })

  it('clones one database per worker, drops them, and sweeps clones of dead runs', async () => {
    const store = postgresStore(env.get('db'))
    await using set = await prepareWorkers({ stores: [store], count: 2 })
    expect(set.workers).toHaveLength(2)
    const w2 = set.workers[1]
    expect(w2?.env.RIG_DB_URL).toBe(w2?.urls.db)
    expect(w2?.env.RIG_DB_DATABASE).toMatch(/^rig_w_app_/)
    for (const w of set.workers) expect(await sql(w.urls.db as string, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
    await sql(set.workers[0]?.urls.db as string, `insert into cars (name) values ('only in w1')`)
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
    await set.drop()
    expect(await sql(url, `select count(*)::int as n from pg_database where datname like 'rig_w_%'`)).toEqual([{ n: 0 }])

    // A clone left by a run whose process is gone.
    await withMaintenance(url, (m) => copyDatabase(m, 'app', 'rig_w_app_dead_1', { ...copyMeta('worker', 'app', 'rig_w_app_dead_1', 'dead'), pid: 2 ** 22 + 12345 }))
    expect(await sweepWorkers([store])).toBe(1)
    expect(await sql(url, `select count(*)::int as n from pg_database where datname like 'rig_w_%'`)).toEqual([{ n: 0 }])
    await store.close()
  })

  it('says which store went away, does not blame the test, and takes a new baseline once it is back', async () => {
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    await env.get('db').stop()
    const r = await guard.check('runs while the database is down')
    expect(r.leaked).toBe(false)
    expect(r.failed).toBe(false)
    expect(r.stores[0]?.status).toBe('unavailable')
    expect(r.errors[0]?.code).toBe('RIG_GUARD_STORE_UNAVAILABLE')
    expect(r.errors[0]?.message).toMatch(/store "db" \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/app\) went away/)
    const r2 = await guard.check('still down')
    expect(r2.failed).toBe(false)
    expect(r2.stores[0]?.status).toBe('unavailable')
    await env.get('db').restart()
    const r3 = await guard.check('back')
    expect(r3.stores[0]?.status).toBe('rebaselined')
    expect(r3.failed).toBe(false)
    await sql(url, `insert into cars (name) values ('x')`)
    expect((await guard.check('leaks after recovery')).failed).toBe(true)
  })
})
