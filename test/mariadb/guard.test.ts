import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type MariadbStore, mariadbStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, mariadb, startEnvironment } from '../../src/index.ts'
import { connect, SCHEMA, sql } from './helpers.ts'

let env: Environment
let url: string
let guard: Guard

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { db: mariadb() } }))
  url = env.get('db').url
  await sql(url, SCHEMA)
  guard = createGuard({ stores: [mariadbStore(env.get('db'), { exclude: ['audit_*'] })] })
  await guard.baseline()
}, 120_000)

afterAll(async () => {
  await guard?.close()
  await env?.stop()
})

describe('mariadb guard', () => {
  it('reports nothing for a test that leaves nothing', async () => {
    await sql(url, 'select * from cars')
    const r = await guard.check('reads only', 'test/a.test.ts')
    expect(r.leaked).toBe(false)
    expect(r.message).toBeUndefined()
    expect(r.stores[0]?.status).toBe('clean')
  })

  it('names the test, the tables and the rows left behind, then restores the baseline', async () => {
    await sql(url, `insert into rentals (car_id) values (2); insert into payments (rental_id, amount) values (last_insert_id(), 10), (last_insert_id(), 20); update cars set name = 'crashed' where id = 3`)
    const r = await guard.check('rents a car for a day', 'test/rentals.test.ts')
    expect(r.failed).toBe(true)
    expect(r.error?.code).toBe('RIG_DATA_LEAK')
    expect(r.message).toBe('Data left behind by "rents a car for a day" (test/rentals.test.ts):\n  mariadb db: cars 1 row changed, payments +2 rows, rentals +1 row')
    expect(r.stores[0]?.restore?.strategy).toBe('delete')
    expect((await guard.check('next test')).leaked).toBe(false)
    expect(await sql(url, `select name from cars where id = 3`)).toEqual([{ name: 'car 3' }])
    expect(await sql(url, `select count(*) as n from rentals`)).toEqual([{ n: '1' }])
  })

  it('compares only the tables InnoDB says were written to, and nothing when nothing was', async () => {
    const store = guard.store<MariadbStore>('db')
    await sql(url, `insert into rentals (car_id) values (4)`)
    expect((await guard.check('one table')).message).toContain('rentals +1 row')
    expect(store.lastCheck).toEqual({ by: 'table-counters', compared: ['rentals'] })
    expect((await guard.check('nothing')).leaked).toBe(false)
    expect(store.lastCheck).toEqual({ by: 'counters', compared: [] })
  })

  it('puts auto-increment back so the next test sees the same ids', async () => {
    const [first] = await sql<{ id: string }>(url, `insert into rentals (car_id) values (2); select last_insert_id() as id`)
    await guard.check('t1')
    const [second] = await sql<{ id: string }>(url, `insert into rentals (car_id) values (2); select last_insert_id() as id`)
    await guard.check('t2')
    expect(second?.id).toBe(first?.id)
  })

  it('does not blame a test that cleaned up after itself, but still puts the counter back', async () => {
    await sql(url, `insert into rentals (car_id) values (2); delete from rentals where id > 1`)
    const r = await guard.check('tidy test')
    expect(r.leaked).toBe(false)
    expect(r.stores[0]?.status).toBe('drift')
    expect(r.stores[0]?.changes.map((c) => c.text)).toEqual(['rentals auto-increment advanced'])
    expect(await sql(url, `select auto_increment as ai from information_schema.tables where table_schema = database() and table_name = 'rentals'`)).toEqual([{ ai: '2' }])
  })

  it('catches deleted seeded rows and restores them (not an empty table)', async () => {
    await sql(url, `delete from cars where id > 8`)
    const r = await guard.check('deletes cars')
    expect(r.message).toContain('cars -2 rows')
    expect(await sql(url, `select count(*) as n, max(name) as m from cars`)).toEqual([{ n: '10', m: 'car 9' }])
  })

  it('restores a table without a primary key by emptying it and reloading its baseline rows', async () => {
    await sql(url, `insert into events values ('x', 'n=3'); update events set body = 'n=9' where body = 'n=1'`)
    const r = await guard.check('touches events')
    expect(r.message).toContain('events +1 row, 1 row changed')
    expect(await sql(url, `select kind, body from events order by body`)).toEqual([
      { kind: 'seed', body: 'n=1' },
      { kind: 'seed', body: 'n=2' },
    ])
  })

  it('restores rows with a generated column', async () => {
    await sql(url, `update totals set n = 7 where id = 1; insert into totals (id, n) values (2, 1)`)
    const r = await guard.check('totals')
    expect(r.message).toContain('totals +1 row, 1 row changed')
    expect(await sql(url, `select id, n, twice from totals`)).toEqual([{ id: 1, n: 5, twice: 10 }])
  })

  it('never lets a restore cascade: deleting a changed parent row does not remove its children', async () => {
    await sql(url, `update rentals set day = '2030-01-01' where id = 1`)
    const r = await guard.check('changes a rental')
    expect(r.message).toContain('rentals 1 row changed')
    expect(await sql(url, `select count(*) as n from payments`)).toEqual([{ n: '1' }])
    expect(await sql(url, `select day from rentals`)).toEqual([{ day: null }])
  })

  it('handles foreign-key cycles with delete and truncate', async () => {
    for (const strategy of ['delete', 'truncate'] as const) {
      const g = createGuard({ stores: [mariadbStore(env.get('db'), { exclude: ['audit_*'] })], strategy })
      await g.baseline()
      await sql(url, `insert into a values (2, null); insert into b values (2, 2); update a set b_id = 2 where id = 2; update a set b_id = 2 where id = 1`)
      const r = await g.check(`cycle ${strategy}`)
      expect(r.errors).toEqual([])
      expect(r.stores[0]?.restore?.strategy).toBe(strategy)
      expect(await sql(url, `select id, b_id from a order by id`)).toEqual([{ id: 1, b_id: 1 }])
      expect(await sql(url, `select id, a_id from b order by id`)).toEqual([{ id: 1, a_id: 1 }])
      await g.close()
    }
    // Another guard rewrote rows and its shadow copies: take the baseline again for the next tests.
    await guard.baseline()
  })

  it('ignores migration tables by default and excluded tables', async () => {
    await sql(url, `insert into schema_migrations values ('002'); insert into audit_log values ('hi')`)
    const r = await guard.check('migrates')
    expect(r.leaked).toBe(false)
  })

  it('reports a table the test created as a leak and drops it', async () => {
    await sql(url, `create table scratch (x int); insert into scratch values (1)`)
    const r = await guard.check('creates a table')
    expect(r.message).toContain('scratch created')
    expect(await sql(url, `select count(*) as n from information_schema.tables where table_schema = database() and table_name = 'scratch'`)).toEqual([{ n: '0' }])
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('brings back a table the test dropped, with its rows and foreign keys', async () => {
    await sql(url, `set foreign_key_checks = 0; drop table payments`)
    const r = await guard.check('drops payments')
    expect(r.message).toContain('payments dropped')
    expect(r.errors).toEqual([])
    expect(await sql(url, `select rental_id, amount from payments`)).toEqual([{ rental_id: 1, amount: 100 }])
    expect(await sql(url, `select count(*) as n from information_schema.referential_constraints where constraint_schema = database() and table_name = 'payments'`)).toEqual([{ n: '1' }])
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('reports a transaction left open, ends it, then restores', async () => {
    const c = await connect(url)
    await c.query(`begin; insert into rentals (car_id) values (1)`)
    const r = await guard.check('leaves a transaction open')
    expect(r.message).toMatch(/transaction left open \(connection \d+, [\d.]+ s\)/)
    expect(r.errors).toEqual([])
    c.destroy()
    expect((await guard.check('after')).leaked).toBe(false)
    expect(await sql(url, `select count(*) as n from rentals`)).toEqual([{ n: '1' }])
  })

  it('sees a transaction left open that wrote nothing, and one holding row locks on seeded rows', async () => {
    const c = await connect(url)
    await c.query(`begin; select * from cars where id = 1 for update`)
    const r = await guard.check('locks a car')
    expect(r.message).toMatch(/transaction left open \(connection \d+/)
    c.destroy()
    const d = await connect(url)
    await sql(url, `update cars set name = 'x' where id = 2`)
    await d.query(`begin; update cars set name = 'locked' where id = 2`)
    const r2 = await guard.check('writes and locks')
    expect(r2.message).toMatch(/cars 1 row changed/)
    expect(r2.message).toMatch(/transaction left open/)
    expect(r2.errors).toEqual([])
    d.destroy()
    expect(await sql(url, `select name from cars where id = 2`)).toEqual([{ name: 'car 2' }])
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('writes to another database cost a full check, not a leak', async () => {
    await sql(url, `create database if not exists elsewhere; create table if not exists elsewhere.t (x int); insert into elsewhere.t values (1)`)
    const r = await guard.check('writes elsewhere')
    expect(r.leaked).toBe(false)
    await sql(url, `drop database elsewhere`)
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('finds leaks by checksum where InnoDB counters cannot be trusted', async () => {
    await sql(url, `alter table cars stats_auto_recalc = 1`)
    const g = createGuard({ stores: [mariadbStore(env.get('db'), { exclude: ['audit_*'] })] })
    await g.baseline()
    try {
      // More than 10% of the table: InnoDB recalculates its statistics and resets the counter.
      await sql(url, `update cars set name = concat(name, '!') where id <= 3`)
      await new Promise((r) => setTimeout(r, 300))
      const r = await g.check('renames cars')
      expect(r.message).toContain('cars 3 rows changed')
      expect(g.store<MariadbStore>('db').lastCheck.by).toBe('checksum')
      expect((await g.check('after')).leaked).toBe(false)
    } finally {
      await g.close()
      await sql(url, `alter table cars stats_auto_recalc = default`)
      await guard.baseline()
    }
  })
})
