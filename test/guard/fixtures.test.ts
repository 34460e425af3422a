import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis } from '../../src/drivers/redis.ts'
import { createGuard, type Guard, type PostgresStore, postgresStore, redisStore } from '../../src/guard/index.ts'
import { splitCommand } from '../../src/guard/redis/redis-store.ts'
import { defineConfig, type Environment, postgres, redis, startEnvironment } from '../../src/index.ts'
import { DETECTIONS, sql, useDetection } from './helpers.ts'

// The tests of a data set build on each other: in order (the option reaches nested suites).
describe('fixtures', { shuffle: false }, () => {
  describe.each(DETECTIONS)('postgres changes: $detection', ({ detection }) => {
  useDetection(detection)
    let env: Environment
    let url: string
    let guard: Guard
    let dir: string
    let usersLoaded = 0

    const cars = async (): Promise<string[]> => (await sql<{ name: string }>(url, `select name from cars order by id`)).map((r) => r.name)
    const keys = async (): Promise<string[]> => {
      const r = await connectRedis(env.get('cache').url)
      try {
        return ((await r.sendCommand(['KEYS', '*'])) as string[]).sort()
      } finally {
        r.destroy()
      }
    }

    beforeAll(async () => {
      env = await startEnvironment(defineConfig({ services: { db: postgres(), cache: redis() } }))
      url = env.get('db').url
      await sql(url, `create table cars (id serial primary key, name text not null unique); create table users (id serial primary key, email text); insert into cars (name) values ('base 1'), ('base 2')`)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-fixtures-'))
      fs.writeFileSync(path.join(dir, 'fleet.sql'), `insert into cars (name) values ('van'), ('truck');\ninsert into cars (name) values ('bus');\n`)
      fs.writeFileSync(path.join(dir, 'fleet.redis'), `# prices\nSET price:van 10\nHSET "car:van" name "the van" seats 3\n`)
      fs.writeFileSync(path.join(dir, 'broken.sql'), `insert into cars (name) values ('ok');\n\ninsert into carz (name) values ('typo');\n`)
      guard = createGuard({
        stores: [postgresStore(env.get('db')), redisStore(env.get('cache'))],
        root: dir,
        fixtures: {
          fleet: { db: 'fleet.sql', cache: 'fleet.redis' },
          users: async ({ urls }) => {
            usersLoaded++
            await sql(urls.db as string, `insert into users (email) values ('a@x'), ('b@x')`)
          },
          broken: { db: 'broken.sql' },
        },
      })
      await guard.baseline()
    })

    afterAll(async () => {
      await guard?.close()
      await env?.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('loads a named data set from SQL and Redis files and makes it the baseline', async () => {
      await guard.useFixture('fleet')
      expect(guard.fixture).toBe('fleet')
      expect(await cars()).toEqual(['base 1', 'base 2', 'van', 'truck', 'bus'])
      expect(await keys()).toEqual(['car:van', 'price:van'])
      expect((await guard.check('reads the fleet')).leaked).toBe(false)
      await sql(url, `delete from cars where name = 'bus'; insert into cars (name) values ('bike')`)
      const r = await guard.check('sells the bus')
      expect(r.message).toContain('public.cars')
      expect(r.stores[0]?.detection).toBe(detection)
      expect(await cars()).toEqual(['base 1', 'base 2', 'van', 'truck', 'bus'])
    })

    it('switches to another data set from the state before any fixture', async () => {
      await guard.useFixture('users')
      expect(await cars()).toEqual(['base 1', 'base 2'])
      expect(await keys()).toEqual([])
      expect(await sql(url, `select email from users order by id`)).toEqual([{ email: 'a@x' }, { email: 'b@x' }])
      expect((await guard.check('reads users')).leaked).toBe(false)
    })

    it('loads each data set once: switching back restores its snapshot', async () => {
      fs.writeFileSync(path.join(dir, 'fleet.sql'), `insert into cars (name) values ('changed after the first load')`)
      await guard.useFixture('fleet')
      expect(await cars()).toEqual(['base 1', 'base 2', 'van', 'truck', 'bus'])
      await guard.useFixture('users')
      await guard.useFixture('users')
      expect(usersLoaded).toBe(1)
      expect(await sql(url, `select count(*)::int as n from users`)).toEqual([{ n: 2 }])
    })

    it('goes back to the data held before the first fixture', async () => {
      await guard.resetFixture()
      expect(guard.fixture).toBeUndefined()
      expect(await cars()).toEqual(['base 1', 'base 2'])
      expect(await sql(url, `select count(*)::int as n from users`)).toEqual([{ n: 0 }])
      expect((await guard.check('after reset')).leaked).toBe(false)
    })

    it('names the file and line of a failing statement and leaves no half-loaded data', async () => {
      const err = await guard.useFixture('broken').catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'RIG_FIXTURE_FAILED' })
      expect((err as Error).message).toMatch(/fixture "broken" \(store "db"\) failed to load: .*broken\.sql:3:\d+: relation "carz" does not exist/)
      expect(await cars()).toEqual(['base 1', 'base 2'])
      expect((await guard.check('after a failed load')).leaked).toBe(false)
    })

    it('rejects unknown fixtures and steps for unknown stores, with a suggestion', async () => {
      await expect(guard.useFixture('fleat')).rejects.toMatchObject({ code: 'RIG_FIXTURE_UNKNOWN', message: expect.stringContaining('did you mean "fleet"?') })
      expect(() => createGuard({ stores: [postgresStore(env.get('db'))], fixtures: { fleet: { dbb: 'x.sql' } } })).toThrow(/loads into "dbb", which is not a service — did you mean "db"\?/)
      expect(() => createGuard({ stores: [postgresStore(env.get('db'))], fixtures: { 'bad name': () => {} } })).toThrow(/fixture name "bad name" is not valid/)
    })

    it('drops the snapshots fixtures made when the guard closes', async () => {
      const g = createGuard({ stores: [postgresStore(env.get('db'))], fixtures: { one: { db: path.join(dir, 'fleet.sql') } } })
      await g.baseline()
      await g.useFixture('one')
      const snaps = async (): Promise<number> => (await sql<{ n: number }>(url, `select count(*)::int as n from pg_database where datname like 'rig_snap_%'`))[0]?.n ?? -1
      expect(await snaps()).toBeGreaterThanOrEqual(2)
      await g.resetFixture()
      await g.close()
      await guard.close()
      expect(await snaps()).toBe(0)
    })
  })
})

describe('fixtures on the embedded PGlite fallback', () => {
  it('refuses to switch with a clear error, before loading anything', async () => {
    const emb = await startEnvironment(defineConfig({ services: { db: postgres({ provider: 'embedded' }) } }))
    try {
      let loaded = false
      const g = createGuard({ stores: [postgresStore(emb.get('db'))], fixtures: { f: () => void (loaded = true) } })
      await g.baseline()
      expect((g.stores[0] as PostgresStore).detection).toEqual({ method: 'count', reason: 'the embedded PGlite fallback has no pg_walinspect' })
      await expect(g.useFixture('f')).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_UNSUPPORTED', message: expect.stringContaining('need a PostgreSQL server') })
      expect(loaded).toBe(false)
      await g.close()
    } finally {
      await emb.stop()
    }
  }, 120_000)
})

describe('redis script lines', () => {
  it('splits like redis-cli: quotes, escapes, comments', () => {
    expect(splitCommand(`  SET "a b" 'c d' e\\n`)).toEqual(['SET', 'a b', 'c d', 'e\\n'])
    expect(splitCommand(`HSET h f "line\\nbreak \\"q\\""`)).toEqual(['HSET', 'h', 'f', 'line\nbreak "q"'])
    expect(splitCommand('# comment')).toEqual([])
    expect(splitCommand('   ')).toEqual([])
  })
})
