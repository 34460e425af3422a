import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, postgresStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { connect, DETECTIONS, SCHEMA, sql, useDetection } from './helpers.ts'

describe.each(DETECTIONS)('postgres guard (changes: $detection)', ({ detection }) => {
  useDetection(detection)
  let env: Environment
  let url: string
  let guard: Guard

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
    url = env.get('db').url
    await sql(url, SCHEMA)
    guard = createGuard({ stores: [postgresStore(env.get('db'), { exclude: ['audit_*'] })] })
    await guard.baseline()
  })

  afterAll(async () => {
    await guard?.close()
    await env?.stop()
  })

  it('reports nothing for a test that leaves nothing', async () => {
    const r = await guard.check('reads only', 'test/a.test.ts')
    expect(r.leaked).toBe(false)
    expect(r.failed).toBe(false)
    expect(r.message).toBeUndefined()
    expect(r.stores[0]?.status).toBe('clean')
    expect(r.stores[0]?.detection).toBe(detection)
  })

  it('names the test, the tables and the rows left behind, then restores the baseline', async () => {
    await sql(url, `insert into rentals (car_id) values (1); insert into payments (rental_id, amount) select currval('rentals_id_seq'), x from (values (10), (20)) v(x); update cars set name = 'crashed' where id = 3`)
    const r = await guard.check('rents a car for a day', 'test/rentals.test.ts')
    expect(r.failed).toBe(true)
    expect(r.error?.code).toBe('RIG_DATA_LEAK')
    expect(r.message).toBe('Data left behind by "rents a car for a day" (test/rentals.test.ts):\n  postgres db: public.cars 1 row changed, public.payments +2 rows, public.rentals +1 row')
    expect(r.stores[0]?.restore?.strategy).toBe('delete')
    expect(r.stores[0]?.detection).toBe(detection)
    expect((await guard.check('next test')).leaked).toBe(false)
    expect(await sql(url, `select name from cars where id = 3`)).toEqual([{ name: 'car 3' }])
    expect(await sql(url, `select count(*)::int as n from rentals`)).toEqual([{ n: 0 }])
  })

  it('resets sequences so the next test sees the same ids', async () => {
    const [first] = await sql<{ id: number }>(url, `insert into rentals (car_id) values (2) returning id`)
    await guard.check('t1')
    const [second] = await sql<{ id: number }>(url, `insert into rentals (car_id) values (2) returning id`)
    await guard.check('t2')
    expect(second?.id).toBe(first?.id)
  })

  it('does not blame a test that cleaned up after itself, but still resets the sequence it advanced', async () => {
    await sql(url, `insert into rentals (car_id) values (2); delete from rentals`)
    const r = await guard.check('tidy test')
    expect(r.leaked).toBe(false)
    expect(r.stores[0]?.status).toBe('drift')
    expect(r.stores[0]?.changes.map((c) => c.kind)).toEqual(['sequence'])
  })

  it('catches deleted seeded rows and restores them (not an empty table)', async () => {
    await sql(url, `delete from cars where id > 8`)
    const r = await guard.check('deletes cars')
    expect(r.message).toContain('public.cars -2 rows')
    expect(await sql(url, `select count(*)::int as n from cars`)).toEqual([{ n: 10 }])
  })

  it('restores a table without a primary key to its baseline content', async () => {
    await sql(url, `insert into events values ('x', '{}'); update events set body = '{"n": 9}' where body->>'n' = '1'`)
    const r = await guard.check('touches events')
    expect(r.message).toContain('public.events +1 row, 1 row changed')
    expect(await sql(url, `select kind, body from events order by body->>'n'`)).toEqual([
      { kind: 'seed', body: { n: 1 } },
      { kind: 'seed', body: { n: 2 } },
    ])
  })

  it('handles foreign-key cycles with delete and truncate', async () => {
    for (const strategy of ['delete', 'truncate'] as const) {
      const g = createGuard({ stores: [postgresStore(env.get('db'), { exclude: ['audit_*'] })], strategy })
      await g.baseline()
      await sql(url, `insert into a values (2, null); insert into b values (2, 2); update a set b_id = 2 where id = 2; update a set b_id = 2 where id = 1`)
      const r = await g.check(`cycle ${strategy}`)
      expect(r.errors).toEqual([])
      expect(r.stores[0]?.restore?.strategy).toBe(strategy)
      expect(await sql(url, `select id, b_id from a order by id`)).toEqual([{ id: 1, b_id: 1 }])
      expect(await sql(url, `select id, a_id from b order by id`)).toEqual([{ id: 1, a_id: 1 }])
      await g.close()
    }
    // Another guard's restore rewrote rows: take the baseline again for the next tests.
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
    expect(r.message).toContain('public.scratch created')
    expect(await sql(url, `select to_regclass('public.scratch') as t`)).toEqual([{ t: null }])
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('reports a transaction left open, terminates it, then restores', async () => {
    const c = await connect(url)
    c.on('error', () => {})
    await c.query(`begin; insert into rentals (car_id) values (1)`)
    const r = await guard.check('leaves a transaction open')
    expect(r.message).toMatch(/transaction left open \(pid \d+/)
    expect(await sql(url, `select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'`)).toEqual([{ n: 0 }])
    await c.end().catch(() => {})
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('is not blocked by a lock an open transaction holds', async () => {
    const c = await connect(url)
    c.on('error', () => {})
    await c.query(`begin; lock table cars in access exclusive mode`)
    const r = await guard.check('locks cars')
    expect(r.message).toMatch(/transaction left open \(pid \d+/)
    expect(r.errors).toEqual([])
    await c.end().catch(() => {})
    expect((await guard.check('after')).leaked).toBe(false)

    // With a committed write too, the check must count rows and meets the lock: it waits no
    // longer than lock_timeout, terminates the holder and counts again.
    const d = await connect(url)
    d.on('error', () => {})
    await sql(url, `insert into rentals (car_id) values (1)`)
    await d.query(`begin; lock table cars in access exclusive mode`)
    const r2 = await guard.check('writes and locks')
    if (detection === 'triggers') {
      // Nothing to count: the check never waits for the lock; the holder is terminated by the restore.
      expect(r2.message).toMatch(/public\.rentals \+1 row, transaction left open \(pid \d+, [\d.]+ s\)/)
      expect(r2.stores[0]?.restore?.strategy).toBe('delete')
    } else {
      expect(r2.message).toMatch(/public\.rentals \+1 row, transaction left open \(pid \d+, [\d.]+ s\), terminated|transaction left open \(pid \d+, [\d.]+ s\), terminated, public\.rentals \+1 row/)
    }
    expect(await sql(url, `select count(*)::int as n from pg_stat_activity where state like 'idle in transaction%'`)).toEqual([{ n: 0 }])
    await d.end().catch(() => {})
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('rolls back a transaction client between tests', async () => {
    const store = postgresStore(env.get('db'), { exclude: ['audit_*'] })
    const g = createGuard({ stores: [store], strategy: 'transaction' })
    await g.baseline()
    const tx = await store.transactionClient()
    await tx.query(`insert into rentals (car_id) values (1)`)
    await tx.query('begin')
    await tx.query(`update cars set name = 'inner' where id = 1`)
    await tx.query('commit')
    const r = await g.check('uses the transaction client')
    expect(r.message).toContain('public.rentals +1 row')
    expect(r.stores[0]?.restore?.strategy).toBe('transaction')
    expect(await tx.query(`select name from cars where id = 1`).then((x) => x.rows)).toEqual([{ name: 'car 1' }])
    expect((await g.check('after')).leaked).toBe(false)
    await g.close()
    expect((await guard.check('after')).leaked).toBe(false)
  })
})
