// The guard's one-round-trip check and restore (check_restore, installed in the application's
// database and run by the guard as a superuser): objects the application's own role may create
// in its database, and a check whose restore failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type PostgresStore, postgresStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { connect, sql, useDetection } from './helpers.ts'

describe('postgres guard, check_restore (the check and the restore in one round trip)', () => {
  useDetection('triggers')
  let env: Environment
  let url: string
  let appUrl: string
  let guard: Guard
  let store: PostgresStore

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
    url = env.get('db').url
    // The application's role: no superuser, but it may create objects in public (as the owner
    // of its database may, PostgreSQL 15 and later).
    await sql(url, `create role app login password 'app-pw'; grant create on schema public to app;
      create table cars (id serial primary key, name text not null); insert into cars (name) values ('a'), ('b');
      create type size as enum ('s', 'm', 'l'); create table sized (s size primary key, n int); insert into sized values ('s', 1), ('m', 2);
      grant all on cars, cars_id_seq, sized to app`)
    const u = new URL(url)
    u.username = 'app'
    u.password = 'app-pw'
    appUrl = u.toString()
    // What the role leaves for whoever resolves `'…' || oid` with public on the search path.
    await sql(
      appUrl,
      `create table public.hijack (who text, su boolean);
       create function public.cat(a text, b oid) returns text language plpgsql as $$
       begin insert into public.hijack select current_user, rolsuper from pg_roles where rolname = current_user; return a || b::text; end $$;
       create operator public.|| (leftarg = text, rightarg = oid, function = public.cat);
       grant insert on public.hijack to public`,
    )
    store = postgresStore(env.get('db'), { exclude: ['hijack'] })
    guard = createGuard({ stores: [store] })
    await guard.baseline()
    expect(store.detection.method).toBe('triggers')
  })

  afterAll(async () => {
    await guard?.close()
    await env?.stop()
  })

  it('runs none of the role’s functions or operators as the guard’s superuser', async () => {
    await sql(appUrl, `insert into cars (name) values ('c'); update cars set name = 'B' where id = 2; update sized set n = 0 where s = 'm'; insert into sized values ('l', 3)`)
    const r = await guard.check('writes as the application')
    expect(await sql(url, `select who, su from public.hijack where su`)).toEqual([])
    expect(r.errors).toEqual([])
    expect(r.stores[0]?.restore?.withCheck).toBe(true)
    expect(await sql(url, `select name from cars order by id`)).toEqual([{ name: 'a' }, { name: 'b' }])
    // A key of a type of the application's schema: the restore statements still find it.
    expect(await sql(url, `select s::text, n from sized order by n`)).toEqual([{ s: 's', n: 1 }, { s: 'm', n: 2 }])
  })

  it('checks in one CALL, which runs on pg_catalog’s search path alone, also once rig’s schema was made again', async () => {
    // The restore session's last statement: the CALL whether the test wrote or not.
    const called = async (): Promise<number> =>
      (await sql(url, `select 1 from pg_stat_activity where application_name = 'rig-guard' and query like 'call %check_call(%'`)).length
    const writeAndCheck = async (name: string): Promise<void> => {
      await sql(appUrl, `insert into cars (name) values ('${name}')`)
      const r = await guard.check(`writes ${name}`)
      expect(r.errors).toEqual([])
      expect(r.message).toContain('public.cars +1 row')
      expect(r.stores[0]?.restore?.withCheck).toBe(true)
      expect(await sql(url, `select name from cars order by id`)).toEqual([{ name: 'a' }, { name: 'b' }])
    }
    await guard.baseline()
    // The first check after a baseline writes the restore's statements (meta), the usual way.
    expect((await guard.check('reads first')).stores[0]?.changes).toEqual([])
    await writeAndCheck('c')
    expect(await called()).toBe(1)
    expect((await guard.check('reads')).stores[0]?.changes).toEqual([])
    expect(await called()).toBe(1)
    // Elsewhere than on pg_catalog's path it refuses: what it calls would resolve the application's names.
    await expect(sql(url, `call rig_guard_changes.check_call('0/0', '{}', '{}', 0, 0, 0, 0, '', false, false)`)).rejects.toThrow(/needs search_path = pg_catalog, pg_temp/)
    // Installed again (another procedure, as a rig of another version installs it): PostgreSQL
    // resolves the session's prepared CALL again.
    const [def] = await sql<{ d: string }>(url, `select pg_get_functiondef('rig_guard_changes.check_call'::regproc) as d`)
    await sql(url, `drop procedure rig_guard_changes.check_call; ${def?.d}`)
    await guard.baseline()
    expect((await guard.check('reads first again')).stores[0]?.changes).toEqual([])
    await writeAndCheck('d')
    expect(await called()).toBe(1)
  })

  it('restores in the check again after a check whose restore failed on the first round trip after the baseline', async () => {
    await guard.baseline()
    // A committed change, and a statement still running (not idle) that holds the row's lock
    // past the guard's lock timeout: the restore in the check fails, the usual one reports it.
    await sql(url, `update cars set name = 'X' where id = 1`)
    const holder = await connect(url)
    const held = holder.query(`begin; select 1 from cars where id = 1 for update; select pg_sleep(3); rollback`)
    while ((await sql(url, `select 1 from pg_stat_activity where wait_event = 'PgSleep'`)).length === 0) await new Promise((r) => setTimeout(r, 20))
    const first = await guard.check('while a row is locked')
    await held
    await holder.end()
    expect(first.stores[0]?.restore?.withCheck).toBeUndefined()
    await guard.restore()
    expect(await sql(url, `select name from cars order by id`)).toEqual([{ name: 'a' }, { name: 'b' }])
    await sql(url, `update cars set name = 'Y' where id = 2`)
    const next = await guard.check('after it')
    expect(next.errors).toEqual([])
    expect(next.stores[0]?.restore?.withCheck).toBe(true)
    expect(await sql(url, `select name from cars order by id`)).toEqual([{ name: 'a' }, { name: 'b' }])
  })

  it('restores a table the application’s role owns as that role, with none of its functions in reach of the superuser', async () => {
    // A table of the role's own with a trigger enabled ALWAYS (it fires in the restore's replica
    // mode too), and an unnest(jsonb[]) in public: an exact match beats pg_catalog's
    // unnest(anyarray) wherever public is on the path (the restore of keys by jsonb[] calls it).
    await sql(
      appUrl,
      `create table owned (id int primary key, n int); insert into owned select g, g from generate_series(1, 5) g;
       create function owned_seen() returns trigger language plpgsql as $$
       begin if current_setting('rig.restoring', true) = 'on' then insert into public.hijack select concat('trigger:', current_user), rolsuper from pg_roles where rolname = current_user; end if; return null; end $$;
       create trigger owned_seen after insert or delete on owned for each statement execute function owned_seen();
       alter table owned enable always trigger owned_seen;
       create function public.unnest(a jsonb[]) returns setof jsonb language plpgsql as $$
       begin insert into public.hijack select concat('unnest:', current_user), rolsuper from pg_roles where rolname = current_user; return query select * from pg_catalog.unnest(a); end $$`,
    )
    await guard.baseline()
    await sql(url, `delete from public.hijack`)
    await sql(appUrl, `insert into owned values (6, 6); update owned set n = 0 where id = 2`)
    const fused = await guard.check('writes to the role’s own table')
    expect(fused.errors).toEqual([])
    expect(fused.stores[0]?.restore?.withCheck).toBe(true)
    expect(await sql(url, `select id, n from owned order by id`)).toEqual([1, 2, 3, 4, 5].map((i) => ({ id: i, n: i })))
    // The usual restore (check and restore apart) runs as the owner too.
    await sql(appUrl, `insert into owned values (7, 7); delete from owned where id = 3`)
    const d = await store.diff()
    await store.restore(d, 'delete')
    expect(await sql(url, `select id, n from owned order by id`)).toEqual([1, 2, 3, 4, 5].map((i) => ({ id: i, n: i })))
    expect(await sql(url, `select who, su from public.hijack where su`)).toEqual([])
    // The trigger ran in both restores, as the table's owner; the role's unnest never ran.
    const seen = (await sql<{ who: string }>(url, `select distinct who from public.hijack order by who`)).map((r) => r.who)
    expect(seen).toEqual(['trigger:app'])
  })

  it('runs no cast the application’s role defined as the superuser that owns rig’s trigger functions', async () => {
    // A type of the role's with a cast to json: to_jsonb() of a row holding it calls the cast.
    await sql(
      appUrl,
      `create type mood as enum ('ok', 'sad');
       create function mood_json(m mood) returns json language plpgsql as $$
       begin insert into public.hijack select current_user, rolsuper from pg_roles where rolname = current_user; return to_json(m::text); end $$;
       create cast (mood as json) with function mood_json(mood);
       create table moods (id int primary key, m mood); insert into moods values (1, 'ok')`,
    )
    await guard.baseline()
    await sql(appUrl, `insert into moods values (2, 'sad'); update moods set m = 'sad' where id = 1`)
    const r = await guard.check('writes a row with the role’s type')
    expect(await sql(url, `select who, su from public.hijack where su`)).toEqual([])
    expect(r.errors).toEqual([])
    expect(r.message).toContain('public.moods +1 row, 1 row changed')
    expect(await sql(url, `select id, m::text from moods order by id`)).toEqual([{ id: 1, m: 'ok' }])
  })

  it('restores by keys again and again on one session, keys of any text, and a table dropped and made again under its name', async () => {
    // The keyed restore statements are prepared once per session (named after their text) and
    // the keys passed as a literal: quotes, backslashes and braces in a key must come through,
    // and a prepared statement of a table made again must restore the new one.
    const odd = [`it's`, 'back\\slash', '{"brace"}', 'x,y']
    const make = `drop table if exists keyed; create table keyed (k text primary key, n int); insert into keyed values ('a', 1), ('b', 2)`
    await sql(url, make)
    await guard.baseline()
    for (const key of odd) {
      await sql(url, `insert into keyed values ($1, 3)`, [key])
      await sql(url, `update keyed set n = 0 where k = 'b'`)
      const r = await guard.check(`writes the key ${key}`)
      expect(r.errors).toEqual([])
      expect(r.stores[0]?.restore?.withCheck).toBe(true)
      expect(await sql(url, `select k, n from keyed order by k`)).toEqual([{ k: 'a', n: 1 }, { k: 'b', n: 2 }])
    }
    await sql(url, make)
    await guard.baseline()
    await sql(url, `delete from keyed where k = 'a'`)
    await sql(url, `insert into keyed values ($1, 4)`, [odd[0]])
    const r = await guard.check('writes to the table made again')
    expect(r.errors).toEqual([])
    expect(r.stores[0]?.restore?.withCheck).toBe(true)
    expect(await sql(url, `select k, n from keyed order by k`)).toEqual([{ k: 'a', n: 1 }, { k: 'b', n: 2 }])
  })
})
