// The plugin's worker side, through this suite's own environment (rig.config.ts).
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { redisPing } from '../../src/probes/redis.ts'
import { runProbe } from '../../src/probes/probe.ts'
import { rig, service, services } from '../../src/vitest/index.ts'

async function query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: services().db!.url })
  await client.connect()
  try {
    return (await client.query<R>(sql, params)).rows
  } finally {
    await client.end()
  }
}

describe('testrig plugin (dogfood)', () => {
  test('hands the worker its services and RIG_* variables', () => {
    const { db, cache } = services()
    expect(db?.url).toMatch(/^postgres:\/\//)
    expect(cache?.url).toMatch(/^redis:\/\//)
    expect(process.env.RIG_DB_URL).toBe(db?.url)
    expect(process.env.RIG_CACHE_PORT).toBe(String(cache?.port))
  })

  test("each worker gets its own copy of the database", async () => {
    const [row] = await query<{ db: string }>('select current_database() as db')
    expect(row?.db).not.toBe('dogfood')
    expect(row?.db).toContain('dogfood')
  })

  test('a test that leaves data on purpose says so, and the data is cleaned after it', async () => {
    rig.allowLeak('db')
    await query('create table if not exists notes (id serial primary key, body text)')
    await query("insert into notes (body) values ('left on purpose')")
    expect(await query('select * from notes')).toHaveLength(1)
  })

  test('the table a previous test created on purpose is gone again', async () => {
    const [row] = await query<{ n: number }>("select count(*)::int as n from pg_tables where tablename = 'notes'")
    expect(row?.n).toBe(0)
  })

  test('pause freezes a service for a test, resume brings it back', async () => {
    const cache = service('cache')
    const target = { name: 'cache', host: cache.host, port: cache.port, url: cache.url, logLines: () => [] }
    await cache.pause()
    try {
      const frozen = await runProbe(redisPing(), { target, timeoutMs: 300 })
      expect(frozen.status).toBe('fail')
      expect(frozen.reason).toBe('timeout')
    } finally {
      await cache.resume()
    }
    expect((await runProbe(redisPing(), { target })).status).toBe('pass')
  })

  test('an error the test expects a service to log does not fail it', async () => {
    rig.expectLog('db', /relation "no_such_table" does not exist/)
    await expect(query('select * from no_such_table')).rejects.toThrow(/does not exist/)
  })
})
