// The guard connected as a role that is not a superuser: it cannot switch foreign-key triggers
// off (session_replication_role), so its restore must respect every constraint on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type PostgresStore, postgresStore } from '../../src/guard/index.ts'
import { withDatabase } from '../../src/guard/postgres/connection.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { sql } from './helpers.ts'

let env: Environment
let url: string
let guard: Guard

// Non-deferrable foreign keys everywhere, an FK cycle, an ON DELETE CASCADE child, a unique
// natural key, and an identity column that is GENERATED ALWAYS.
const SCHEMA = `
  create table owners (id int generated always as identity primary key, email text not null unique);
  create table cars (id serial primary key, owner_id int not null references owners(id), name text not null);
  create table photos (id serial primary key, car_id int not null references cars(id) on delete cascade, url text);
  create table a (id int primary key, b_id int);
  create table b (id int primary key, a_id int not null references a(id));
  alter table a add foreign key (b_id) references b(id);
  create table tags (name text);
  insert into owners (email) select 'o' || g || '@x' from generate_series(1, 3) g;
  insert into cars (owner_id, name) select 1 + g % 3, 'car ' || g from generate_series(1, 6) g;
  insert into photos (car_id, url) select g, 'p' || g from generate_series(1, 6) g;
  insert into a values (1, null); insert into b values (1, 1); update a set b_id = 1 where id = 1;
  insert into tags values ('x'), ('y');
`

/** Every watched row, in a stable order: equal before and after a restore means nothing was lost. */
const dump = async (): Promise<unknown[]> =>
  sql(
    url,
    `select json_build_object(
      'owners', (select json_agg(o order by id) from owners o), 'cars', (select json_agg(c order by id) from cars c),
      'photos', (select json_agg(p order by id) from photos p), 'a', (select json_agg(a order by id) from a),
      'b', (select json_agg(b order by id) from b), 'tags', (select json_agg(t order by name) from tags t)) as d`,
  )

let baseline: unknown[]

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
  const admin = env.get('db').url
  await sql(admin, `create role app login password 'app-secret'`)
  await sql(admin, `create database app owner app`)
  const u = new URL(withDatabase(admin, 'app'))
  u.username = 'app'
  u.password = 'app-secret'
  url = u.toString()
  await sql(url, SCHEMA)
  expect(await sql(url, `select current_setting('is_superuser') as s`)).toEqual([{ s: 'off' }])
  guard = createGuard({ stores: [postgresStore({ name: 'db', url, provider: 'process' })] })
  await guard.baseline()
  baseline = await dump()
})

afterAll(async () => {
  await guard?.close()
  await env?.stop()
})

describe('postgres guard without superuser rights', () => {
  it('restores changed parents, added children and re-pointed rows without breaking a foreign key', async () => {
    await sql(
      url,
      `insert into owners (email) values ('new@x');
       update cars set owner_id = (select max(id) from owners), name = 'moved' where id = 2;
       insert into cars (owner_id, name) values ((select max(id) from owners), 'added');
       insert into photos (car_id, url) values (currval('cars_id_seq'), 'added');
       update owners set email = 'changed@x' where id = 1`,
    )
    const r = await guard.check('moves a car to a new owner')
    expect(r.errors).toEqual([])
    // pg_walinspect needs a superuser: this role's changes are counted.
    expect(r.stores[0]?.detection).toBe('count')
    expect(guard.store<PostgresStore>('db').detection.reason).toBe('the guard does not connect as a superuser')
    expect(r.message).toContain('public.owners +1 row, 1 row changed')
    expect(r.stores[0]?.restore?.strategy).toBe('delete')
    expect(await dump()).toEqual(baseline)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('updates a changed row in place, so ON DELETE CASCADE does not take seeded children along', async () => {
    await sql(url, `update cars set name = 'renamed' where id = 3`)
    const r = await guard.check('renames a car')
    expect(r.errors).toEqual([])
    expect(await dump()).toEqual(baseline)
  })

  it('puts back deleted parents and their children, and the rows of a table without a key', async () => {
    await sql(url, `delete from photos where car_id = 4; delete from cars where id = 4; delete from tags where name = 'y'`)
    const r = await guard.check('deletes a car')
    expect(r.errors).toEqual([])
    expect(r.message).toContain('public.cars -1 row')
    expect(await dump()).toEqual(baseline)
  })

  it('handles a foreign-key cycle of non-deferrable constraints', async () => {
    await sql(url, `insert into a values (2, null); insert into b values (2, 2); update a set b_id = 2 where id = 2; update a set b_id = 2 where id = 1`)
    const r = await guard.check('grows the cycle')
    expect(r.errors).toEqual([])
    expect(await dump()).toEqual(baseline)
  })

  it('restores with the truncate strategy too', async () => {
    const g = createGuard({ stores: [postgresStore({ name: 'db', url, provider: 'process' })], strategy: 'truncate' })
    await g.baseline()
    await sql(url, `insert into b values (3, 1); update owners set email = 'z@x' where id = 2; insert into photos (car_id, url) values (1, 'more')`)
    const r = await g.check('truncate')
    expect(r.errors).toEqual([])
    expect(r.stores[0]?.restore?.strategy).toBe('truncate')
    expect(await dump()).toEqual(baseline)
    await g.close()
    await guard.baseline()
  })
})
