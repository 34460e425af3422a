import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, GuardRefusedError, mariadbStore, prepareWorkers, SnapshotNotFoundError, sweepWorkers } from '../../src/guard/index.ts'
import { copyDatabase, copyMeta, withMaintenance } from '../../src/guard/mariadb/copy-database.ts'
import { defineConfig, type Environment, mariadb, startEnvironment } from '../../src/index.ts'
import { SCHEMA, sql } from './helpers.ts'

let env: Environment
let url: string
const count = async (table: string, on = url): Promise<number> => Number((await sql<{ n: string }>(on, `select count(*) as n from ${table}`))[0]?.n)

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { db: mariadb() } }))
  url = env.get('db').url
  await sql(url, SCHEMA)
  await sql(url, `create view car_names as select name from cars; create table car_log (msg varchar(50)); create trigger cars_log after insert on cars for each row insert into car_log values (new.name)`)
}, 120_000)

afterAll(async () => {
  await env?.stop()
})

describe('mariadb guard: snapshots, safety, workers, a server that dies', () => {
  it('the snapshot strategy replaces the database by its baseline copy', async () => {
    await using guard = createGuard({ stores: [mariadbStore(env.get('db'))], snapshot: true, strategy: 'snapshot' })
    await guard.baseline()
    await sql(url, `insert into cars (name) values ('extra'); delete from events`)
    const r = await guard.check('writes')
    expect(r.message).toContain('cars +1 row')
    expect(r.stores[0]?.restore?.strategy).toBe('snapshot')
    expect(await count('cars')).toBe(10)
    expect(await count('events')).toBe(2)
    expect(await count('car_log')).toBe(0)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('saves and restores named snapshots with their views and triggers, and lists them', async () => {
    await using guard = createGuard({ stores: [mariadbStore(env.get('db'))] })
    await guard.baseline()
    await guard.saveSnapshot('ten-cars')
    await sql(url, `delete from payments; delete from rentals; delete from cars where id > 5; drop view car_names`)
    await guard.restoreSnapshot('ten-cars')
    expect(await count('cars')).toBe(10)
    expect(await count('car_names')).toBe(10)
    expect(await count('car_log')).toBe(0)
    await sql(url, `insert into cars (name) values ('fires the trigger')`)
    expect(await count('car_log')).toBe(1)
    await guard.check('trigger fired')
    expect(await guard.listSnapshots()).toEqual([{ name: 'ten-cars', stores: ['db'] }])
    expect((await guard.check('after restore')).leaked).toBe(false)
    await expect(guard.restoreSnapshot('nope')).rejects.toBeInstanceOf(SnapshotNotFoundError)
    await expect(guard.saveSnapshot('bad name;drop')).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_BAD_NAME' })
    expect(await guard.dropSnapshot('ten-cars')).toBe(true)
    expect(await guard.listSnapshots()).toEqual([])
  })

  it('refuses under NODE_ENV=production and names the database without its password', () => {
    const before = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      expect(() => createGuard({ stores: [mariadbStore(env.get('db'))] })).toThrow(/rig will not clean mysql:\/\/root@127\.0\.0\.1:\d+\/app: NODE_ENV is "production"/)
    } finally {
      process.env.NODE_ENV = before
    }
  })

  it('does not clean a store rig did not start unless opted in by name', async () => {
    const foreign = { name: 'ext', url }
    await using guard = createGuard({ stores: [mariadbStore(foreign)] })
    await guard.baseline()
    expect(await sql(url, `select count(*) as n from information_schema.schemata where schema_name like 'rig_guard%'`)).toEqual([{ n: '0' }])
    await sql(url, `insert into events values ('foreign', 'x')`)
    const r = await guard.check('writes to ext')
    expect(r.message).toContain('events +1 row')
    const refused = r.errors[0]
    expect(refused).toBeInstanceOf(GuardRefusedError)
    expect(refused?.message).toMatch(/rig will not clean mysql:\/\/root@127\.0\.0\.1:\d+\/app: rig did not start "ext".*allowClean: \['ext'\]/)
    expect(await count('events')).toBe(3)
    await expect(guard.restoreSnapshot('x')).rejects.toBeInstanceOf(GuardRefusedError)

    await using allowed = createGuard({ stores: [mariadbStore(foreign)], allowClean: ['ext'] })
    await sql(url, `delete from events where kind = 'foreign'`)
    await allowed.baseline()
    await sql(url, `insert into events values ('foreign', 'x')`)
    const r2 = await allowed.check('writes to ext, allowed')
    expect(r2.errors).toEqual([])
    expect(await count('events')).toBe(2)
  })

  it('copies one database per worker, drops them, and sweeps copies of dead runs', async () => {
    const store = mariadbStore(env.get('db'))
    await using set = await prepareWorkers({ stores: [store], count: 2 })
    expect(set.workers).toHaveLength(2)
    const w2 = set.workers[1]
    expect(w2?.env.RIG_DB_URL).toBe(w2?.urls.db)
    expect(w2?.env.RIG_DB_DATABASE).toMatch(/^rig_w_app_/)
    for (const w of set.workers) {
      expect(await count('cars', w.urls.db)).toBe(10)
      expect(await count('car_names', w.urls.db)).toBe(10)
    }
    await sql(set.workers[0]?.urls.db as string, `insert into cars (name) values ('only in w1')`)
    expect(await count('car_log', set.workers[0]?.urls.db)).toBe(1)
    expect(await count('cars')).toBe(10)
    // Each worker's guard watches its own copy.
    await using wGuard = createGuard({ stores: [mariadbStore({ name: 'db', url: w2?.urls.db as string, provider: 'process' })] })
    await wGuard.baseline()
    await sql(w2?.urls.db as string, `insert into rentals (car_id) values (3)`)
    expect((await wGuard.check('in worker 2')).message).toContain('rentals +1 row')
    await set.drop()
    expect(await sql(url, `select count(*) as n from information_schema.schemata where schema_name like 'rig\\_w\\_%'`)).toEqual([{ n: '0' }])

    // A copy left by a run whose process is gone.
    await withMaintenance(url, (m) => copyDatabase(m, 'app', 'rig_w_app_dead_1', { meta: { ...copyMeta('worker', 'app', 'rig_w_app_dead_1', 'dead'), pid: 2 ** 22 + 12345 } }))
    expect(await sweepWorkers([store])).toBe(1)
    expect(await sql(url, `select count(*) as n from information_schema.schemata where schema_name like 'rig\\_w\\_%'`)).toEqual([{ n: '0' }])
    await store.close()
  })

  it('says which store went away, does not blame the test, and takes a new baseline once it is back', async () => {
    await using guard = createGuard({ stores: [mariadbStore(env.get('db'))] })
    await guard.baseline()
    await env.get('db').kill()
    const r = await guard.check('runs while the database is down')
    expect(r.leaked).toBe(false)
    expect(r.failed).toBe(false)
    expect(r.stores[0]?.status).toBe('unavailable')
    expect(r.errors[0]?.code).toBe('RIG_GUARD_STORE_UNAVAILABLE')
    expect(r.errors[0]?.message).toMatch(/store "db" \(mysql:\/\/root@127\.0\.0\.1:\d+\/app\) went away/)
    expect((await guard.check('still down')).stores[0]?.status).toBe('unavailable')
    await env.get('db').restart()
    const r3 = await guard.check('back')
    expect(r3.stores[0]?.status).toBe('rebaselined')
    await sql(url, `insert into cars (name) values ('x')`)
    expect((await guard.check('leaks after recovery')).failed).toBe(true)
  }, 60_000)
})
