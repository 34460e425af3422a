import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, formatLeaks, storesFor } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, redis, startEnvironment } from '../../src/index.ts'
import { DETECTIONS, sql, useDetection } from './helpers.ts'

describe.each(DETECTIONS)('guard across stores (postgres changes: $detection)', ({ detection }) => {
  useDetection(detection)
  let env: Environment
  let url: string
  let r: RedisClient

  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres(), cache: redis() } }))
    url = env.get('db').url
    r = await connectRedis(env.get('cache').url)
    await sql(url, `create table cars (id serial primary key, name text); create table rentals (id serial primary key, car_id int references cars(id));
      create table payments (id serial primary key, rental_id int references rentals(id)); insert into cars (name) values ('a'), ('b')`)
  })

  afterAll(async () => {
    r?.destroy()
    await env?.stop()
  })

  const leak = async (): Promise<void> => {
    await sql(url, `insert into rentals (car_id) values (1); insert into payments (rental_id) select id from rentals cross join generate_series(1, 2); update cars set name = 'z' where id = 2`)
    await r.sendCommand(['SET', 'session:1', 'x'])
    await r.sendCommand(['SET', 'session:2', 'x', 'EX', '600'])
    await r.sendCommand(['SET', 'session:3', 'x', 'EX', '600'])
  }

  it('writes one line per store in the leak message', async () => {
    await using guard = createGuard({ stores: storesFor(env) })
    expect(guard.stores.map((s) => `${s.info.kind}:${s.info.name}:${s.info.startedByRig}`)).toEqual(['postgres:db:true', 'redis:cache:true'])
    await guard.baseline()
    await leak()
    const rep = await guard.check('rents a car for a day', 'test/rentals.test.ts')
    expect(rep.message).toBe(
      'Data left behind by "rents a car for a day" (test/rentals.test.ts):\n' +
        '  postgres db: public.cars 1 row changed, public.payments +2 rows, public.rentals +1 row\n' +
        '  redis cache: 3 keys added: 1 without TTL (session:1), 2 with a TTL (session:2 10 min, session:3 10 min)',
    )
    expect(rep.error?.message).toBe(rep.message)
    expect(rep.stores[0]?.detection).toBe(detection)
    expect(JSON.parse(JSON.stringify(rep.stores))).toHaveLength(2)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('warn reports without failing; clean restores silently; off checks nothing', async () => {
    for (const mode of ['warn', 'clean', 'off'] as const) {
      await using guard = createGuard({ stores: storesFor(env), mode })
      await guard.baseline()
      await leak()
      const rep = await guard.check(`mode ${mode}`)
      expect(rep.failed).toBe(false)
      expect(rep.error).toBeUndefined()
      if (mode === 'warn') expect(rep.message).toContain('redis cache: 3 keys added')
      else expect(rep.message).toBeUndefined()
      if (mode === 'off') {
        expect(rep.stores).toEqual([])
        await sql(url, `delete from payments; delete from rentals; update cars set name = 'b' where id = 2`)
        await r.sendCommand(['DEL', 'session:1', 'session:2', 'session:3'])
      } else {
        expect(await sql(url, `select count(*)::int as n from rentals`)).toEqual([{ n: 0 }])
      }
    }
  })

  it('rejects misuse with codes', async () => {
    const guard = createGuard({ stores: storesFor(env) })
    await expect(guard.check('too early')).rejects.toMatchObject({ code: 'RIG_GUARD_NO_BASELINE' })
    expect(() => guard.store('nope')).toThrow(/no guarded store "nope" \(stores: db, cache\)/)
    expect(() => createGuard({ stores: [...storesFor(env), ...storesFor(env, { only: ['db'] })] })).toThrow(/two guarded stores are named "db"/)
    await guard.close()
  })

  it('formats nothing when only drift changed', () => {
    expect(formatLeaks('t', undefined, [{ store: 'db', kind: 'postgres', changes: [{ subject: 's', kind: 'sequence', count: 1, leak: false, text: 's advanced' }] }])).toBeUndefined()
  })
})
