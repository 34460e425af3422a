// The Redis guard's two ways of finding changed keys against a real redis() rig started: the
// keys keyspace events named since the clean state ('events'), and every watched key ('scan').
// What a check reports must not depend on which ran; the events must give way to a scan
// whenever they cannot vouch for the key space (FLUSHDB, SWAPDB, a lost subscriber).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { createGuard, type Guard, prepareWorkers, type RedisStore, redisStore } from '../../src/guard/index.ts'
import { defineConfig, type Environment, redis, startEnvironment } from '../../src/index.ts'

let env: Environment
let r: RedisClient
const cmd = (...args: string[]): Promise<unknown> => r.sendCommand(args)
const open: Guard[] = []

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
  r = await connectRedis(env.get('cache').url)
})

afterAll(async () => {
  for (const g of open) await g.close().catch(() => {})
  r?.destroy()
  await env?.stop()
})

/** A guard over the keys `<prefix>:*` only, baselined now. */
async function watch(prefix: string, options: Parameters<typeof redisStore>[1] = {}, source = env.get('cache') as Parameters<typeof redisStore>[0]): Promise<{ guard: Guard; store: RedisStore }> {
  const store = redisStore(source, { keys: `${prefix}:*`, ...options })
  const guard = createGuard({ stores: [store] })
  open.push(guard)
  await guard.baseline()
  return { guard, store }
}

const detectionOf = (rep: Awaited<ReturnType<Guard['check']>>): string | undefined => rep.stores[0]?.detection
const line = (rep: Awaited<ReturnType<Guard['check']>>): string => rep.message?.split('\n')[1]?.trim() ?? ''

describe.each(['events', 'scan'] as const)('redis guard, detection %s', (detection) => {
  const p = `${detection}x`

  it('reports keys added, removed and changed (a script included), and restores them', async () => {
    await cmd('SET', `${p}1:keep`, 'a')
    await cmd('SET', `${p}1:gone`, 'b')
    await cmd('HSET', `${p}1:user`, 'name', 'Ada')
    const { guard, store } = await watch(`${p}1`, { detection })
    await cmd('SET', `${p}1:new`, 'x')
    await cmd('DEL', `${p}1:gone`)
    await r.sendCommand(['EVAL', "redis.call('HSET', KEYS[1], 'name', 'Grace')", '1', `${p}1:user`])
    const rep = await guard.check('edits')
    expect(detectionOf(rep)).toBe(detection)
    expect(line(rep)).toBe(`redis cache: 1 key added without TTL: ${p}1:new; 1 key removed: ${p}1:gone; 1 key changed: ${p}1:user`)
    expect(await cmd('EXISTS', `${p}1:new`)).toBe(0)
    expect(await cmd('GET', `${p}1:gone`)).toBe('b')
    expect(await cmd('HGET', `${p}1:user`, 'name')).toBe('Ada')
    await cmd('SET', `${p}1:keep`, 'a')
    expect((await guard.check('next')).leaked).toBe(false)
    expect(store.detection.method).toBe(detection)
  })

  it('finds no change in keys set back to their baseline, deleted and re-created alike, or added and removed again', async () => {
    await cmd('SET', `${p}2:a`, 'one')
    await cmd('RPUSH', `${p}2:list`, 'x', 'y')
    const { guard } = await watch(`${p}2`, { detection })
    await cmd('SET', `${p}2:a`, 'two')
    await cmd('SET', `${p}2:a`, 'one')
    await cmd('DEL', `${p}2:list`)
    await cmd('RPUSH', `${p}2:list`, 'x', 'y')
    await cmd('SET', `${p}2:tmp`, '1')
    await cmd('DEL', `${p}2:tmp`)
    const rep = await guard.check('round trip')
    expect(rep.leaked).toBe(false)
    expect(detectionOf(rep)).toBe(detection)
  })

  it('reports a key whose type changed under the same name, and puts the old type back', async () => {
    await cmd('SET', `${p}3:k`, 'text')
    const { guard } = await watch(`${p}3`, { detection })
    await cmd('DEL', `${p}3:k`)
    await cmd('SADD', `${p}3:k`, 'text')
    const rep = await guard.check('retypes')
    expect(line(rep)).toBe(`redis cache: 1 key changed: ${p}3:k`)
    expect(await cmd('TYPE', `${p}3:k`)).toBe('string')
  })

  it('reports TTL-only changes (a TTL given, removed, moved) and puts the TTLs back', async () => {
    await cmd('SET', `${p}4:forever`, 'a')
    await cmd('SET', `${p}4:expiring`, 'b', 'EX', '600')
    await cmd('SET', `${p}4:moved`, 'c', 'EX', '600')
    const { guard } = await watch(`${p}4`, { detection })
    await cmd('EXPIRE', `${p}4:forever`, '60')
    await cmd('PERSIST', `${p}4:expiring`)
    await cmd('EXPIRE', `${p}4:moved`, '30')
    const rep = await guard.check('ttl')
    expect(line(rep)).toBe(`redis cache: 3 keys changed: ${p}4:expiring, ${p}4:forever, ${p}4:moved`)
    expect(await cmd('PTTL', `${p}4:forever`)).toBe(-1)
    expect(Number(await cmd('PTTL', `${p}4:expiring`))).toBeGreaterThan(590_000)
    expect(Number(await cmd('PTTL', `${p}4:moved`))).toBeGreaterThan(590_000)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('reports renamed keys as removed and added, and a key that expired during the test as nothing', async () => {
    await cmd('SET', `${p}5:old`, 'v')
    const { guard } = await watch(`${p}5`, { detection })
    await cmd('RENAME', `${p}5:old`, `${p}5:new`)
    await cmd('SET', `${p}5:brief`, 'x', 'PX', '20')
    await new Promise((res) => setTimeout(res, 60))
    const rep = await guard.check('renames')
    expect(line(rep)).toBe(`redis cache: 1 key added without TTL: ${p}5:new; 1 key removed: ${p}5:old`)
    expect(await cmd('GET', `${p}5:old`)).toBe('v')
    expect(await cmd('EXISTS', `${p}5:new`, `${p}5:brief`)).toBe(0)
  })

  it('reports a change deep inside a large key and restores the key whole', async () => {
    const fields = Array.from({ length: 20_000 }, (_, i) => [`f${i}`, `value ${i}`]).flat()
    await cmd('HSET', `${p}6:big`, ...fields)
    await cmd('SET', `${p}6:blob`, 'z'.repeat(2_000_000))
    const { guard } = await watch(`${p}6`, { detection })
    await cmd('HSET', `${p}6:big`, 'f12345', 'other')
    await cmd('SETRANGE', `${p}6:blob`, '1999999', 'y')
    const rep = await guard.check('big')
    expect(line(rep)).toBe(`redis cache: 2 keys changed: ${p}6:big, ${p}6:blob`)
    expect(await cmd('HGET', `${p}6:big`, 'f12345')).toBe('value 12345')
    expect(await cmd('HLEN', `${p}6:big`)).toBe(20_000)
    expect(await cmd('GETRANGE', `${p}6:blob`, '1999999', '1999999')).toBe('z')
  })

  it('sees a key whose name is not UTF-8, byte for byte, and deletes it', async () => {
    const { guard } = await watch(`${p}8`, { detection })
    const key = Buffer.concat([Buffer.from(`${p}8:`), Buffer.from([0xff, 0x00])])
    await r.sendCommand(['SET', key, 'x'])
    const rep = await guard.check('binary')
    expect(detectionOf(rep)).toBe(detection)
    expect(line(rep)).toBe(`redis cache: 1 key added without TTL: ${p}8:\\xff\\x00`)
    expect(await r.sendCommand(['EXISTS', key])).toBe(0)
  })

  it('applies the patterns and exclusions to the keys events name', async () => {
    const { guard } = await watch(`${p}7`, { detection, exclude: [`${p}7:skip:*`] })
    await cmd('SET', `${p}7:skip:1`, 'x')
    await cmd('SET', `${p}7other`, 'x')
    expect((await guard.check('outside')).leaked).toBe(false)
    await cmd('SET', `${p}7:in`, 'x')
    expect(line(await guard.check('inside'))).toBe(`redis cache: 1 key added without TTL: ${p}7:in`)
    await cmd('DEL', `${p}7:skip:1`, `${p}7other`)
  })
})

describe('redis guard, keyspace events', () => {
  it('reads only the keys events named: a check on a large key space reports what a scan reports', async () => {
    await Promise.all(Array.from({ length: 2000 }, (_, i) => cmd('SET', `big:${i}`, `v${i}`)))
    const { guard, store } = await watch('big')
    expect(store.detection).toEqual({ method: 'events' })
    await cmd('SET', 'big:7', 'changed')
    await cmd('SET', 'big:new', 'x')
    const rep = await guard.check('one of many')
    expect(detectionOf(rep)).toBe('events')
    expect(line(rep)).toBe('redis cache: 1 key added without TTL: big:new; 1 key changed: big:7')
    expect(rep.stores[0]?.restore?.touched.sort()).toEqual(['big:7', 'big:new'])
    expect(await cmd('GET', 'big:7')).toBe('v7')
  })

  it('sees keys moved or copied in from another database (their events name the watched one)', async () => {
    const other = await connectRedis(`${env.get('cache').url.replace(/\/\d*$/, '')}/8`)
    try {
      await other.sendCommand(['SET', 'mv:moved', 'a'])
      await other.sendCommand(['SET', 'mv:copied', 'b'])
      const { guard } = await watch('mv')
      await other.sendCommand(['MOVE', 'mv:moved', '0'])
      await other.sendCommand(['COPY', 'mv:copied', 'mv:copied', 'DB', '0'])
      const rep = await guard.check('moves')
      expect(detectionOf(rep)).toBe('events')
      expect(line(rep)).toBe('redis cache: 2 keys added without TTL: mv:copied, mv:moved')
      expect(await cmd('EXISTS', 'mv:moved', 'mv:copied')).toBe(0)
    } finally {
      await other.sendCommand(['FLUSHDB'])
      other.destroy()
    }
  })

  it('scans after a FLUSHDB (no per-key events), restores, then trusts the events again', async () => {
    await cmd('SET', 'fl:a', '1')
    await cmd('SET', 'fl:b', '2')
    const { guard, store } = await watch('fl')
    await cmd('FLUSHDB')
    await cmd('SET', 'fl:c', '3')
    const rep = await guard.check('flushes')
    expect(detectionOf(rep)).toBe('scan')
    expect(store.detection.lastScan).toBe('FLUSHDB ran (no per-key events)')
    expect(line(rep)).toBe('redis cache: 1 key added without TTL: fl:c; 2 keys removed: fl:a, fl:b')
    expect(await cmd('MGET', 'fl:a', 'fl:b', 'fl:c')).toEqual(['1', '2', null])
    await cmd('SET', 'fl:d', '4')
    const next = await guard.check('writes after')
    expect(detectionOf(next)).toBe('events')
    expect(store.detection.lastScan).toBeUndefined()
    expect(line(next)).toBe('redis cache: 1 key added without TTL: fl:d')
  })

  it('scans after a SWAPDB, which moves whole databases without an event', async () => {
    await cmd('SET', 'sw:a', '1')
    const { guard, store } = await watch('sw')
    await cmd('SWAPDB', '0', '9')
    const rep = await guard.check('swaps')
    expect(detectionOf(rep)).toBe('scan')
    expect(store.detection.lastScan).toBe('SWAPDB ran (no per-key events)')
    expect(line(rep)).toContain('sw:a')
    const nine = await connectRedis(`${env.get('cache').url.replace(/\/\d*$/, '')}/9`)
    await nine.sendCommand(['FLUSHDB'])
    nine.destroy()
  })

  it('scans when the subscriber connection was killed, sees the writes made meanwhile, and tracks again after', async () => {
    await cmd('SET', 'kill:a', '1')
    const { guard, store } = await watch('kill')
    await cmd('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await cmd('SET', 'kill:a', '2')
    const rep = await guard.check('while lost')
    expect(detectionOf(rep)).toBe('scan')
    expect(store.detection.lastScan).toMatch(/subscriber connection|no longer receives/)
    expect(line(rep)).toBe('redis cache: 1 key changed: kill:a')
    await cmd('SET', 'kill:b', '1')
    const again = await guard.check('tracking restarted')
    expect(detectionOf(again)).toBe('scan')
    expect(line(again)).toBe('redis cache: 1 key added without TTL: kill:b')
    await cmd('SET', 'kill:c', '1')
    const tracked = await guard.check('tracked')
    expect(detectionOf(tracked)).toBe('events')
    expect(line(tracked)).toBe('redis cache: 1 key added without TTL: kill:c')
  })

  it("follows each worker's own database: events of another database are not its keys", async () => {
    await cmd('SET', 'wk:seed', 's')
    const seed = redisStore(env.get('cache'), { keys: 'wk:*' })
    const set = await prepareWorkers({ stores: [seed], count: 2 })
    try {
      const url = set.workers[0]?.urls.cache as string
      expect(url).not.toBe(env.get('cache').url)
      const { guard } = await watch('wk', {}, { ...env.get('cache'), url })
      const w = await connectRedis(url)
      await w.sendCommand(['SET', 'wk:mine', 'x'])
      await w.sendCommand(['DEL', 'wk:seed'])
      await cmd('SET', 'wk:theirs', 'x')
      const rep = await guard.check('worker')
      expect(detectionOf(rep)).toBe('events')
      expect(line(rep)).toBe('redis cache: 1 key added without TTL: wk:mine; 1 key removed: wk:seed')
      expect(await w.sendCommand(['GET', 'wk:seed'])).toBe('s')
      w.destroy()
    } finally {
      await set.drop()
      await seed.close()
      await cmd('DEL', 'wk:theirs')
    }
  })

  it('scans where a key pattern uses what only SCAN MATCH reads ([ ], a backslash)', async () => {
    const { guard, store } = await watch('br', { keys: 'br:[ab]' })
    expect(store.detection.method).toBe('scan')
    expect(store.detection.reason).toMatch(/SCAN MATCH/)
    await cmd('SET', 'br:a', '1')
    await cmd('SET', 'br:c', '1')
    const rep = await guard.check('bracket')
    expect(detectionOf(rep)).toBe('scan')
    expect(line(rep)).toBe('redis cache: 1 key added without TTL: br:a')
    await cmd('DEL', 'br:c')
  })

  it("refuses detection 'events' where the events cannot be tracked, and a detection it does not know, saying what to do", async () => {
    const strict = createGuard({ stores: [redisStore(env.get('cache'), { keys: 'br:[ab]', detection: 'events' })] })
    open.push(strict)
    await expect(strict.baseline()).rejects.toThrow(/store "cache": keyspace events cannot be tracked: a key pattern uses \[ \] .* Use detection 'auto'/)
    const bad = createGuard({ stores: [redisStore(env.get('cache'), { keys: 'x:*', detection: 'wal' as 'auto' })] })
    open.push(bad)
    await expect(bad.baseline()).rejects.toMatchObject({ code: 'RIG_GUARD_BAD_DETECTION' })
  })

  it("leaves the config of a server rig did not start alone unless told: scans, or adds the events with detection 'events'", async () => {
    await cmd('CONFIG', 'SET', 'notify-keyspace-events', '')
    const external = { ...env.get('cache'), provider: 'external' }
    const watched = redisStore(external, { keys: 'ext:*' })
    const g1 = createGuard({ stores: [watched] })
    open.push(g1)
    await g1.baseline()
    expect(watched.detection.method).toBe('scan')
    expect(watched.detection.reason).toMatch(/lacks .* and rig did not start it/)
    expect((await r.sendCommand<string[]>(['CONFIG', 'GET', 'notify-keyspace-events']))[1]).toBe('')
    await g1.close()
    const opted = redisStore(external, { keys: 'ext:*', detection: 'events' })
    const g2 = createGuard({ stores: [opted], allowClean: ['cache'] })
    open.push(g2)
    await g2.baseline()
    expect(opted.detection.method).toBe('events')
    expect((await r.sendCommand<string[]>(['CONFIG', 'GET', 'notify-keyspace-events']))[1]).toMatch(/E/)
    await cmd('SET', 'ext:1', 'x')
    const rep = await g2.check('external')
    expect(detectionOf(rep)).toBe('events')
    expect(line(rep)).toBe('redis cache: 1 key added without TTL: ext:1')
    expect(await cmd('EXISTS', 'ext:1')).toBe(0)
    await g2.close()
  })
})
