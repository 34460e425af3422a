import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, type Guard, prepareWorkers, redisStore, sweepWorkers } from '../../src/guard/index.ts'
import { defineConfig, type Environment, redis, startEnvironment } from '../../src/index.ts'

let env: Environment
let r: RedisClient
let guard: Guard
const cmd = (...args: string[]) => r.sendCommand(args)

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
  r = await connectRedis(env.get('cache').url)
  await cmd('SET', 'config:currency', 'EUR')
  await cmd('HSET', 'user:1', 'name', 'Ada')
  await cmd('SET', 'ttl:short', 'x', 'PX', '60000')
  await cmd('SET', 'bull:job:1', 'queued')
  guard = createGuard({ stores: [redisStore(env.get('cache'), { exclude: ['bull:*'] })] })
  await guard.baseline()
})

afterAll(async () => {
  await guard?.close()
  r?.destroy()
  await env?.stop()
})

describe('redis guard', () => {
  it('reports nothing when nothing was written', async () => {
    const rep = await guard.check('reads only')
    expect(rep.leaked).toBe(false)
  })

  it('reports keys added by pattern and keys without TTL, then deletes them', async () => {
    await cmd('SET', 'session:1', 'a', 'EX', '600')
    await cmd('SET', 'session:2', 'b')
    await cmd('SET', 'session:3', 'c', 'EX', '600')
    const rep = await guard.check('logs in', 'test/login.test.ts')
    expect(rep.message).toBe('Data left behind by "logs in" (test/login.test.ts):\n  redis cache: 3 keys added: 1 without TTL (session:2), 2 with a TTL (session:1 10 min, session:3 10 min)')
    expect(await cmd('EXISTS', 'session:1', 'session:2', 'session:3')).toBe(0)
  })

  it('names the keys of a library with one prefix, a few then a count, short TTLs apart from keys that never expire', async () => {
    const queue = createGuard({ stores: [redisStore(env.get('cache'))] })
    await queue.baseline()
    for (let i = 1; i <= 7; i++) await cmd('HSET', `bull:q:${i}`, 'data', '{}')
    await cmd('SET', 'bull:q:lock', 'token', 'PX', '30000')
    await cmd('SET', 'bull:q:stalled-check', '1', 'PX', '5000')
    const rep = await queue.check('processes a job')
    expect(rep.message).toBe(
      'Data left behind by "processes a job":\n' +
        '  redis cache: 9 keys added: 7 without TTL (bull:q:1, bull:q:2, bull:q:3 and 4 more), 2 with a TTL (bull:q:stalled-check 5 s, bull:q:lock 30 s)',
    )
    expect(await cmd('EXISTS', 'bull:q:1', 'bull:q:lock')).toBe(0)
    await queue.close()
  })

  it('escapes and shortens key names a terminal would garble', async () => {
    const long = `upload:${'x'.repeat(200)}:end`
    await cmd('SET', long, '1')
    await cmd('SET', 'evil:\u202egnp.exe', '1')
    await cmd('SET', 'nl:a\nb', '1')
    const rep = await guard.check('uploads')
    const line = rep.message?.split('\n')[1] ?? ''
    expect(line).toBe(`  redis cache: 3 keys added without TTL: evil:\\u{202e}gnp.exe, nl:a\\u{a}b, upload:${'x'.repeat(37)}…${'x'.repeat(11)}:end`)
    expect(await cmd('EXISTS', long, 'evil:\u202egnp.exe', 'nl:a\nb')).toBe(0)
  })

  it('restores removed and changed keys with their TTL (DUMP/RESTORE)', async () => {
    await cmd('DEL', 'config:currency')
    await cmd('HSET', 'user:1', 'name', 'Grace')
    const rep = await guard.check('edits')
    expect(rep.message).toContain('redis cache: 1 key removed: config:currency; 1 key changed: user:1')
    expect(await cmd('GET', 'config:currency')).toBe('EUR')
    expect(await cmd('HGET', 'user:1', 'name')).toBe('Ada')
    const ttl = Number(await cmd('PTTL', 'ttl:short'))
    expect(ttl).toBeGreaterThan(0)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('ignores excluded patterns and watches only the given ones', async () => {
    await cmd('SET', 'bull:job:2', 'queued')
    expect((await guard.check('queues')).leaked).toBe(false)
    const narrow = createGuard({ stores: [redisStore(env.get('cache'), { keys: 'cart:*' })] })
    await narrow.baseline()
    await cmd('SET', 'other:1', 'x')
    await cmd('SET', 'cart:1', 'x', 'EX', '600')
    const rep = await narrow.check('carts')
    expect(rep.message).toContain('1 key added with a TTL: cart:1 10 min')
    expect(rep.message).not.toContain('other')
    await narrow.close()
    await cmd('DEL', 'other:1', 'bull:job:2')
    await guard.baseline()
  })

  it('saves and restores snapshots', async () => {
    await guard.saveSnapshot('base')
    await cmd('FLUSHDB')
    await guard.restoreSnapshot('base')
    expect(await cmd('GET', 'config:currency')).toBe('EUR')
    expect(await guard.listSnapshots()).toEqual([{ name: 'base', stores: ['cache'] }])
    expect(await guard.dropSnapshot('base')).toBe(true)
  })

  it('gives each worker its own database with the baseline keys, and drops them', async () => {
    const store = redisStore(env.get('cache'))
    const set = await prepareWorkers({ stores: [store], count: 3 })
    expect(set.workers.map((w) => w.urls.cache)).toEqual(expect.arrayContaining([expect.stringMatching(/\/\d+$/)]))
    const w1 = await connectRedis(set.workers[0]?.urls.cache as string)
    expect(await w1.sendCommand(['GET', 'config:currency'])).toBe('EUR')
    await w1.sendCommand(['SET', 'only:w1', 'x'])
    expect(await cmd('EXISTS', 'only:w1')).toBe(0)
    w1.destroy()
    await set.drop()
    expect(await sweepWorkers([store])).toBe(0)
    await store.close()
  })

  it('falls back to a key prefix per worker', async () => {
    const store = redisStore(env.get('cache'), { workers: { mode: 'prefix' } })
    const set = await prepareWorkers({ stores: [store], count: 2, runId: 'abc' })
    expect(set.workers[1]?.env.RIG_CACHE_PREFIX).toBe('rig:w2:abc:')
    expect(await cmd('GET', 'rig:w2:abc:config:currency')).toBe('EUR')
    await set.drop()
    expect(await cmd('EXISTS', 'rig:w2:abc:config:currency')).toBe(0)
    await store.close()
  })
})
