// The PostgreSQL guard on the embedded PGlite fallback, where one session serves every
// connection: nothing the guard sets for its own sessions may reach the application's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PgClient } from '../../src/drivers/pg.ts'
import { createGuard, type Guard, type PostgresStore, postgresStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { connect } from './helpers.ts'

describe('postgres guard on embedded PGlite (one session for every connection)', () => {
  let env: Environment
  let app: PgClient
  let guard: Guard
  let store: PostgresStore

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres({ provider: 'embedded' }) } }))
    app = await connect(env.get('db').url)
    await app.query(`create table cars (id serial primary key, name text not null);
      create table rentals (id serial primary key, car_id int not null references cars(id));
      insert into cars (name) values ('a'), ('b')`)
    // As the test runners hand it over: a store rig started, with no word that it is PGlite.
    store = postgresStore({ name: 'db', url: env.get('db').url, provider: 'process' })
    guard = createGuard({ stores: [store] })
    await guard.baseline()
  }, 120_000)

  afterAll(async () => {
    await guard?.close()
    await app?.end()
    await env?.stop()
  })

  it('restores without changing what the application’s connections resolve or enforce', async () => {
    const settings = `select current_setting('search_path') as path, current_setting('session_replication_role') as mode, current_user as who`
    const before = (await app.query(settings)).rows[0]
    for (let i = 0; i < 3; i++) {
      await app.query(`insert into cars (name) values ('x'); insert into rentals (car_id) values (1)`)
      const r = await guard.check(`write ${i}`)
      expect(r.stores[0]?.changes.map((c) => c.subject)).toEqual(expect.arrayContaining(['public.cars', 'public.rentals']))
      expect(r.stores[0]?.restore?.strategy).toBe('delete')
      // The application's unqualified names, settings and foreign keys are as they were.
      expect((await app.query(settings)).rows[0]).toEqual(before)
      expect((await app.query(`select name from cars order by id`)).rows).toEqual([{ name: 'a' }, { name: 'b' }])
      await expect(app.query(`insert into rentals (car_id) values (999)`)).rejects.toMatchObject({ code: '23503' })
    }
    expect(store.detection.method).toBe('count')
  })
})
