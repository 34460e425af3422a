// A baseline taken once in one process and adopted by guards in others (what the test runners'
// main process does for every test file): adopted only while the database still holds it,
// checked and restored exactly as a baseline of its own, and refused after DDL or left rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, postgresStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, startEnvironment } from '../../src/index.ts'
import { DETECTIONS, SCHEMA, sql, useDetection } from './helpers.ts'

describe.each(DETECTIONS)('postgres guard: a baseline shared between processes (changes: $detection)', ({ detection }) => {
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

  /** The run's baseline, taken by one guard that is then closed (the runner's main process). */
  async function shared(): Promise<Record<string, unknown>> {
    await using main = createGuard({ stores: [postgresStore(env.get('db'))] })
    await main.baseline()
    return await main.exportBaseline()
  }

  const shadowOids = async (): Promise<string> => (await sql<{ o: string }>(url, `select coalesce(string_agg(c.oid::text, ',' order by c.oid), '') as o from pg_class c where c.relnamespace = 'rig_guard'::regnamespace`))[0]?.o ?? ''

  it('is adopted without copying again; leaks and seeded rows are found and restored to it', async () => {
    const baselines = await shared()
    expect(Object.keys(baselines)).toEqual(['db'])
    const copies = await shadowOids()
    expect(copies).not.toBe('')
    for (let file = 1; file <= 2; file++) {
      await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
      await guard.baseline(baselines)
      // Adopted: the shadow copies of the seeded tables are the run's, not made again.
      expect(await shadowOids()).toBe(copies)
      await sql(url, `insert into rentals (car_id) values (1); update cars set name = 'changed' where id = 2; delete from events where body->>'n' = '1'`)
      const r = await guard.check(`leaks in file ${file}`)
      expect(r.stores[0]?.detection).toBe(detection)
      expect(r.message).toContain('public.rentals +1 row')
      expect(r.message).toContain('public.cars 1 row changed')
      expect(r.message).toContain('public.events -1 row')
      expect(await sql(url, `select name from cars where id = 2`)).toEqual([{ name: 'car 2' }])
      expect(await sql(url, `select count(*)::int as n from events`)).toEqual([{ n: 2 }])
      // The sequence is back too: the next file's first rental gets id 1 again.
      expect(await sql(url, `select nextval('rentals_id_seq')::int as n`)).toEqual([{ n: 1 }])
      expect((await guard.check('restores the sequence')).leaked).toBe(false)
      expect((await guard.check('clean')).stores[0]?.status).toBe('clean')
    }
  })

  it('is not adopted once a table was altered, created or rows were left: a baseline of its own is taken, as without one', async () => {
    const baselines = await shared()
    const copies = await shadowOids()
    // Rows a process left behind (a worker that died before its restore) become that guard's baseline, as they always did.
    await sql(url, `insert into rentals (car_id) values (3)`)
    {
      await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
      await guard.baseline(baselines)
      expect(await shadowOids()).not.toBe(copies)
      expect((await guard.check('after a left row')).leaked).toBe(false)
    }
    await sql(url, `delete from rentals; select setval('rentals_id_seq', 1, false)`)
    for (const ddl of [`alter table cars add column color text`, `create table extra (id int)`, `alter table events rename to happenings`]) {
      const before = await shared()
      const shadows = await shadowOids()
      await sql(url, ddl)
      await using guard = createGuard({ stores: [postgresStore(env.get('db'))] })
      await guard.baseline(before)
      expect(await shadowOids(), ddl).not.toBe(shadows)
      await sql(url, `update cars set name = 'moved' where id = 1`)
      const r = await guard.check(`after ${ddl}`)
      expect(r.message, ddl).toContain('public.cars 1 row changed')
      expect(await sql(url, `select name from cars where id = 1`)).toEqual([{ name: 'car 1' }])
    }
    await sql(url, `alter table cars drop column color; drop table extra; alter table happenings rename to events`)
  })

  it('a baseline taken with other options (read-only, other exclusions) is not adopted', async () => {
    const baselines = await shared()
    const copies = await shadowOids()
    await using guard = createGuard({ stores: [postgresStore(env.get('db'), { exclude: ['events'] })] })
    await guard.baseline(baselines)
    expect(await shadowOids()).not.toBe(copies)
    await sql(url, `insert into events values ('test', null)`)
    expect((await guard.check('writes an excluded table')).leaked).toBe(false)
    await sql(url, `delete from events where kind = 'test'`)
  })
})
