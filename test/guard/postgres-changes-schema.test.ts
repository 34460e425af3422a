// The change log's schema (rig_guard_changes) holds what the guard's superuser runs in the
// application's database (check_call, check_restore, the restore statements in meta). The owner
// of a schema may drop any object in it, whoever made it: a schema the application's role made
// under that name before rig's first baseline (the owner of its database may) would let that
// role put its own check_call where the superuser calls it. Rig then keeps out of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type PostgresStore, postgresStore } from '../../src/guard/index.ts'
import { withDatabase } from '../../src/guard/postgres/connection.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { sql } from './helpers.ts'

describe("postgres guard, the change log's schema made by the application's role", () => {
  /** The environment, the superuser's and the role's URLs of database app, the guard and its store. */
  let t: { env: Environment; url: string; appUrl: string; guard: Guard; store: PostgresStore } | undefined
  const the = (): NonNullable<typeof t> => t ?? expect.unreachable('not started')

  beforeAll(async () => {
    const env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
    const admin = env.get('db').url
    await sql(admin, `create role app login password 'app-pw'`)
    await sql(admin, `create database app owner app`)
    const url = withDatabase(admin, 'app')
    const u = new URL(url)
    u.username = 'app'
    u.password = 'app-pw'
    await sql(
      u.toString(),
      `create table cars (id serial primary key, name text not null); insert into cars (name) values ('a');
       create table public.hijack (who text, su boolean); grant insert on public.hijack to public;
       create schema rig_guard_changes`,
    )
    const store = postgresStore({ name: 'db', url, provider: 'process' }, { exclude: ['hijack'] })
    t = { env, url, appUrl: u.toString(), guard: createGuard({ stores: [store] }), store }
    await t.guard.baseline()
  }, 60_000)

  afterAll(async () => {
    await t?.guard.close()
    await t?.env.stop()
  })

  it('installs nothing in it: the role cannot swap what the superuser calls there', async () => {
    const { url, appUrl, guard, store } = the()
    expect(store.detection.method).not.toBe('triggers')
    expect(store.detection.reason).toMatch(/rig_guard_changes.*owned by app/)
    // The first check after a baseline writes the restore's statements (meta); later ones CALL check_call.
    expect((await guard.check('reads first')).stores[0]?.changes).toEqual([])
    // What the role would do: replace rig's procedure in its schema with its own.
    await sql(
      appUrl,
      `drop procedure if exists rig_guard_changes.check_call;
       create procedure rig_guard_changes.check_call(mark pg_lsn, own xid[], pids int[], db oid, cls oid, trg oid, key_limit int, gen text, do_restore boolean, look boolean,
         inout got text default null, inout after text default null, inout busy text default null) language plpgsql as $$
       begin insert into public.hijack select current_user, rolsuper from pg_roles where rolname = current_user; end $$`,
    )
    for (const name of ['b', 'c']) {
      await sql(appUrl, `insert into cars (name) values ('${name}')`)
      const r = await guard.check(`writes ${name}`)
      expect(await sql(url, `select who, su from public.hijack where su`)).toEqual([])
      expect(r.message).toContain('public.cars +1 row')
      expect(await sql(url, `select name from cars order by id`)).toEqual([{ name: 'a' }])
    }
  })
})
