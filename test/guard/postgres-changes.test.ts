// What a test can do to a PostgreSQL database, seen and undone on both paths: changes logged by
// rig's triggers (the default where the server allows it) and counted (the fallback).
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard, type PostgresStore, postgresStore, prepareWorkers } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { connect, DETECTIONS, sql, useDetection } from './helpers.ts'

const BIG = 20_000

const SCHEMA = `
  create table cars (id serial primary key, name text not null unique);
  create table rentals (id serial primary key, car_id int not null references cars(id), day date);
  create table big (id int primary key, v text not null, n int not null);
  create table pairs (a int, b text, v int, primary key (a, b));
  create table "Odd ""Name""" (id text primary key, "we ird" text);
  create table events (kind text, body jsonb);
  create table whole (id int primary key, v text);
  alter table whole replica identity full;
  create table measures (day date not null, v int, primary key (day)) partition by range (day);
  create table measures_2024 partition of measures for values from ('2024-01-01') to ('2025-01-01');
  create table measures_2025 partition of measures for values from ('2025-01-01') to ('2026-01-01');
  create table counters (id int generated always as identity primary key, v int);
  create sequence tickets;
  insert into cars (name) select 'car ' || g from generate_series(1, 10) g;
  insert into big select g, md5(g::text), g from generate_series(1, ${BIG}) g;
  insert into pairs select g, 'k ' || g, g from generate_series(1, 5) g;
  insert into "Odd ""Name""" values ('it''s', 'a b'), ('x y', 'c');
  insert into events values ('seed', '{"n": 1}'), ('seed', '{"n": 2}');
  insert into whole values (1, 'one'), (2, 'two');
  insert into measures values ('2024-06-01', 1), ('2025-06-01', 2);
  insert into counters (v) values (1), (2);
  select nextval('tickets');
`

/** A fingerprint of every table's content, in key order. */
const dump = async (url: string): Promise<unknown> =>
  (
    await sql(
      url,
      `select json_build_object(
        'cars', (select md5(string_agg(c::text, ',' order by id)) from cars c), 'rentals', (select count(*) from rentals),
        'big', (select md5(string_agg(b::text, ',' order by id)) from big b), 'pairs', (select json_agg(p order by a, b) from pairs p),
        'odd', (select json_agg(o order by id) from "Odd ""Name""" o), 'events', (select json_agg(e order by body->>'n') from events e),
        'whole', (select json_agg(w order by id) from whole w), 'measures', (select json_agg(m order by day) from measures m),
        'counters', (select json_agg(c order by id) from counters c)) as d`,
    )
  )[0]

describe.each(DETECTIONS)('postgres guard, what tests do (changes: $detection)', ({ detection }) => {
  useDetection(detection)
  let env: Environment
  let url: string
  let guard: Guard
  let store: PostgresStore
  let baseline: unknown

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres() } }))
    url = env.get('db').url
    await sql(url, SCHEMA)
    store = postgresStore(env.get('db'))
    guard = createGuard({ stores: [store] })
    await guard.baseline()
    baseline = await dump(url)
    expect(store.detection.method).toBe(detection)
  })

  afterAll(async () => {
    await guard?.close()
    await env?.stop()
  })

  /**
   * Checks, expects the leak text, and that everything is back. `withCheck`: logged changes of
   * plain rows and sequences are restored in the check's own round trip; DDL, TRUNCATE and
   * transactions left open by the usual restore after it.
   */
  const leaks = async (test: string, text: RegExp | string, withCheck = true): Promise<void> => {
    const r = await guard.check(test)
    expect(r.stores[0]?.restore?.withCheck).toBe(detection === 'triggers' && withCheck ? true : undefined)
    expect(r.errors).toEqual([])
    expect(r.stores[0]?.detection).toBe(detection)
    if (typeof text === 'string') expect(r.message).toContain(text)
    else expect(r.message).toMatch(text)
    expect(await dump(url)).toEqual(baseline)
    const next = await guard.check(`after ${test}`)
    expect(next.stores[0]?.changes).toEqual([])
  }

  it('sees writes committed by another process, asynchronously or not', async () => {
    const script = `
      import pg from 'pg'
      const c = new pg.Client({ connectionString: process.argv[1] })
      await c.connect()
      await c.query("set synchronous_commit = off; insert into cars (name) values ('from a child'); update big set n = -1 where id = 77")
      await c.query("insert into rentals (car_id) values (2)")
      await c.end()`
    execFileSync(process.execPath, ['--input-type=module', '-e', script, url], { cwd: process.cwd(), stdio: 'pipe' })
    await leaks('writes from another process', 'public.big 1 row changed, public.cars +1 row, public.rentals +1 row')
  })

  it('puts back a large seeded table by touching only the rows the test changed', async () => {
    const ctids = async (): Promise<Map<string, string>> => new Map((await sql<{ id: string; ctid: string }>(url, `select id::text, ctid::text from big`)).map((r) => [r.id, r.ctid]))
    const before = await ctids()
    await sql(url, `update big set v = 'changed' where id = 5; delete from big where id = 6; insert into big values (${BIG + 1}, 'new', 0)`)
    // Counting cannot tell a deleted row plus a new one from two changed rows.
    await leaks('touches three rows of a large table', detection === 'triggers' ? 'public.big +1 row, -1 row, 1 row changed' : 'public.big 2 rows changed')
    const after = await ctids()
    const moved = [...after].filter(([id, ctid]) => before.get(id) !== ctid).map(([id]) => id)
    expect(moved.sort()).toEqual(['5', '6'])
  })

  it('puts back rows whose key changed, composite and quoted keys, and REPLICA IDENTITY FULL tables', async () => {
    await sql(
      url,
      `update pairs set a = 50, b = 'moved' where a = 1; update pairs set v = 0 where a = 2 and b = 'k 2'; delete from pairs where a = 3;
       update "Odd ""Name""" set "we ird" = 'z' where id = 'it''s'; update "Odd ""Name""" set id = 'new''id' where id = 'x y';
       delete from whole where id = 1; update whole set v = 'TWO' where id = 2; insert into whole values (3, 'three')`,
    )
    await leaks('rewrites keys', /public\.Odd "Name" 2 rows changed|public\.Odd "Name" \+1 row, -1 row, 1 row changed/)
  })

  it('restores a table without a key and a partitioned table', async () => {
    await sql(url, `insert into events values ('x', '{}'); update events set body = '{"n": 9}' where body->>'n' = '1'; insert into measures values ('2025-02-01', 3); update measures set v = 10 where day = '2024-06-01'`)
    await leaks('touches events and measures', /public\.events \+1 row, 1 row changed.*|public\.measures \+1 row, 1 row changed/)
  })

  it('catches TRUNCATE, restores the data, and the sequences it restarted', async () => {
    await sql(url, `insert into rentals (car_id) values (1)`)
    await guard.check('makes a rental')
    const [{ id: next } = { id: 0 }] = await sql<{ id: number }>(url, `insert into rentals (car_id) values (1) returning id`)
    await guard.check('makes another')
    await sql(url, `truncate cars, rentals restart identity; insert into cars (name) values ('only one')`)
    await leaks('truncates', detection === 'triggers' ? 'public.cars +1 row, -10 rows' : 'public.cars -9 rows, 1 row changed', false)
    const [{ id } = { id: -1 }] = await sql<{ id: number }>(url, `insert into rentals (car_id) values (1) returning id`)
    expect(id).toBe(next)
    await guard.check('after')
  })

  it('reports tables created and drops them; a table created and dropped within the test is no leak', async () => {
    await sql(url, `create table scratch (x int); insert into scratch values (1); create table gone (x int); drop table gone; create index on cars (name, id)`)
    const r = await guard.check('creates tables')
    expect(r.message).toContain('public.scratch created')
    expect(r.stores[0]?.restore?.withCheck).toBeUndefined()
    expect(r.message).not.toContain('gone')
    expect(await sql(url, `select to_regclass('public.scratch') as t`)).toEqual([{ t: null }])
    expect((await guard.check('after')).leaked).toBe(false)
  })

  it('follows a table renamed by a test', async () => {
    await sql(url, `alter table whole rename to renamed; update renamed set v = 'x' where id = 1`)
    const r = await guard.check('renames a table')
    expect(r.errors).toEqual([])
    expect(r.message).toContain('public.renamed 1 row changed')
    expect(await sql(url, `select v from renamed where id = 1`)).toEqual([{ v: 'one' }])
    await sql(url, `alter table renamed rename to whole`)
    expect((await guard.check('renames it back')).leaked).toBe(false)
    expect(await dump(url)).toEqual(baseline)
  })

  it('resets sequences advanced without a row: nextval, a failed insert, an identity column', async () => {
    const ids = async (): Promise<unknown> => sql(url, `select nextval('tickets') as t, nextval('cars_id_seq') as c`)
    const first = await ids()
    await guard.check('takes ids')
    await sql(url, `insert into cars (name) values ('car 1')`).catch(() => {})
    await sql(url, `select nextval('tickets')`)
    await sql(url, `begin; insert into counters (v) values (3); rollback`)
    const r = await guard.check('fails to insert')
    expect(r.leaked).toBe(false)
    expect(r.stores[0]?.changes.map((c) => c.text).sort()).toEqual(['public.cars_id_seq advanced', 'public.counters_id_seq advanced', 'public.tickets advanced'])
    expect(r.stores[0]?.restore?.withCheck).toBe(detection === 'triggers' ? true : undefined)
    expect(await ids()).toEqual(first)
    await guard.check('takes ids again')
  })

  it('never blames the next test for rig’s own writes, VACUUM, ANALYZE or a checkpoint', async () => {
    for (let i = 0; i < 20; i++) {
      await sql(url, `update cars set name = 'x${i}' where id = ${1 + (i % 10)}; insert into rentals (car_id) values (${1 + (i % 10)})`)
      expect((await guard.check(`writes ${i}`)).leaked).toBe(true)
      if (i % 5 === 0) {
        await sql(url, `vacuum analyze`)
        await sql(url, `checkpoint`)
      }
      const next = await guard.check(`reads ${i}`)
      expect(next.stores[0]?.changes).toEqual([])
    }
    expect(await dump(url)).toEqual(baseline)
  })

  it('reports a transaction left open that wrote, and restores what others committed meanwhile', async () => {
    const c = await connect(url)
    c.on('error', () => {})
    await c.query(`begin; insert into cars (name) values ('uncommitted')`)
    await sql(url, `update cars set name = 'committed' where id = 1`)
    const r = await guard.check('leaves a transaction open')
    expect(r.message).toMatch(/public\.cars 1 row changed, transaction left open \(pid \d+/)
    // Terminated first, then restored the usual way.
    expect(r.stores[0]?.restore?.withCheck).toBeUndefined()
    await c.end().catch(() => {})
    expect(await dump(url)).toEqual(baseline)
    expect((await guard.check('after')).leaked).toBe(false)
  })
})

describe('postgres guard, the change log', () => {
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

  it('keeps logging when the guard loses its sessions: the log lives in the database', async () => {
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    await sql(url, `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'rig-guard' and datname = current_database()`)
    await sql(url, `insert into rentals (car_id) values (3)`)
    const r = await guard.check('writes while the guard is disconnected')
    expect(r.stores[0]?.detection).toBe('triggers')
    expect(r.message).toContain('public.rentals +1 row')
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('sees writes of a session in replica mode and of a role that may not touch rig’s log', async () => {
    await sql(url, `create role app_user login password 'app-pw'; grant usage on schema public to app_user; grant all on all tables in schema public to app_user; grant all on all sequences in schema public to app_user`)
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    const app = new URL(url)
    app.username = 'app_user'
    app.password = 'app-pw'
    await sql(app.toString(), `insert into cars (name) values ('by the app role')`)
    await sql(url, `set session_replication_role = replica; update cars set name = 'replica' where id = 2`)
    const r = await guard.check('writes as others')
    expect(r.errors).toEqual([])
    expect(r.message).toContain('public.cars +1 row, 1 row changed')
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('never breaks the application when a test renames a key column, and counts once when triggers are disabled', async () => {
    await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
    await guard.baseline()
    // The insert would throw if rig's trigger could not find the key column any more.
    await sql(url, `alter table pairs rename column a to aa; insert into pairs values (9, 'nine', 9)`)
    const r = await guard.check('renames a key column')
    expect(r.message).toContain('public.pairs +1 row')
    // Rows cannot be put back into a table whose columns changed (the snapshot strategy can).
    expect(r.errors.map((e) => e.code)).toEqual(['RIG_GUARD_RESTORE_FAILED'])
    await sql(url, `alter table pairs rename column aa to a`)
    expect((await guard.check('renames it back')).message).toContain('public.pairs +1 row')
    expect((await guard.check('after')).leaked).toBe(false)

    await sql(url, `alter table cars disable trigger all; insert into cars (name) values ('unseen by triggers'); alter table cars enable trigger all`)
    const r2 = await guard.check('disables triggers')
    expect(r2.stores[0]?.detection).toBe('count')
    expect(r2.message).toContain('public.cars +1 row')
    await sql(url, `update cars set name = 'logged again' where id = 1`)
    const r3 = await guard.check('next')
    expect(r3.stores[0]?.detection).toBe('triggers')
    expect(r3.message).toContain('public.cars 1 row changed')
  })

  it('keeps watching when per-worker copies are made, and the copies log their own changes', async () => {
    const store = postgresStore(env.get('db'))
    await using guard = createGuard({ stores: [store] })
    await guard.baseline()
    await using set = await prepareWorkers({ stores: [postgresStore(env.get('db'))], count: 1 })
    const w = set.workers[0]?.urls.db as string
    await using worker = createGuard({ stores: [postgresStore({ name: 'db', url: w, provider: 'process' })] })
    await worker.baseline()
    await sql(w, `insert into rentals (car_id) values (5)`)
    await sql(url, `update cars set name = 'main' where id = 5`)
    const [main, copy] = [await guard.check('main'), await worker.check('copy')]
    expect(main.message).toContain('public.cars 1 row changed')
    expect(main.message).not.toContain('rentals')
    expect(copy.stores[0]?.detection).toBe('triggers')
    expect(copy.message).toContain('public.rentals +1 row')
    expect(copy.message).not.toContain('cars')
  })

  it('logs writes to unlogged tables too', async () => {
    await sql(url, `create unlogged table scratchpad (id int primary key)`)
    try {
      const store = postgresStore(env.get('db'))
      await using guard = createGuard({ stores: [store] })
      await guard.baseline()
      expect(store.detection.method).toBe('triggers')
      await sql(url, `insert into scratchpad values (1)`)
      expect((await guard.check('writes to an unlogged table')).message).toContain('public.scratchpad +1 row')
    } finally {
      await sql(url, `drop table scratchpad`)
    }
  })

  it("refuses detection 'triggers' where it cannot log, naming why; counts with detection 'count'", async () => {
    await sql(url, `create role plain login password 'plain-pw'`)
    await sql(url, `create database plain owner plain`)
    const u = new URL(url)
    u.username = 'plain'
    u.password = 'plain-pw'
    u.pathname = '/plain'
    await sql(u.toString(), `create table notes (id serial primary key, body text); insert into notes (body) values ('kept')`)
    await using guard = createGuard({ stores: [postgresStore({ name: 'db', url: u.toString(), provider: 'process' }, { detection: 'triggers' })] })
    await expect(guard.baseline()).rejects.toMatchObject({ code: 'RIG_GUARD_LOG_UNAVAILABLE', message: expect.stringContaining('the guard does not connect as a superuser') })
    await using counted = createGuard({ stores: [postgresStore(env.get('db'), { detection: 'count' })] })
    await counted.baseline()
    expect(counted.store<PostgresStore>('db').detection).toEqual({ method: 'count', reason: 'detection: count' })
    process.env.RIG_GUARD_DETECTION = 'fast'
    try {
      await using bad = createGuard({ stores: [postgresStore(env.get('db'))] })
      await expect(bad.baseline()).rejects.toMatchObject({ code: 'RIG_GUARD_BAD_DETECTION' })
    } finally {
      delete process.env.RIG_GUARD_DETECTION
    }
  })
})
