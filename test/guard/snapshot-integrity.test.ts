// Snapshots and the guard never lose data: Redis keys that are not UTF-8 survive baseline, diff,
// restore and snapshots byte for byte; a snapshot outlives a restart of its server; and a
// restore across stores checks every store's snapshot before touching any, and says what each
// store holds when one fails anyway.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectRedis, type RedisClient } from '../../src/drivers/redis.ts'
import { respCommand } from '../../src/drivers/resp.ts'
import { createGuard, prepareWorkers, redisStore, storesFor } from '../../src/guard/index.ts'
import { defineConfig, type Environment, postgres, redis, startEnvironment } from '../../src/index.ts'
import { sql } from './helpers.ts'

let env: Environment
let r: RedisClient
let snapshotDir: string
const bytes = (...b: number[]): Buffer => Buffer.from(b)
/** Not UTF-8 (0xff, 0xfe), with a NUL and a newline in it. */
const BINARY = Buffer.concat([Buffer.from('bin:'), bytes(0xff, 0xfe, 0x00, 0x0a), Buffer.from('k')])
const BINARY_ADDED = Buffer.concat([Buffer.from('bin:'), bytes(0xc3, 0x28)])
/** Differs from BINARY only in bytes a UTF-8 decoder would turn into the same replacement character. */
const BINARY_TWIN = Buffer.concat([Buffer.from('bin:'), bytes(0xff, 0xfd, 0x00, 0x0a), Buffer.from('k')])
const get = async (key: Buffer): Promise<string | null> => {
  const v = await r.sendCommand<Buffer | string | null>(['GET', key])
  return v === null ? null : String(v)
}

beforeAll(async () => {
  env = await startEnvironment(defineConfig({ services: { db: postgres({ database: 'app' }), cache: redis() } }))
  r = await connectRedis(env.get('cache').url)
  snapshotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-snap-test-'))
  await sql(env.get('db').url, `create table cars (id serial primary key, name text); insert into cars (name) values ('a'), ('b')`)
})

afterAll(async () => {
  r?.destroy()
  await env?.stop()
  fs.rmSync(snapshotDir, { recursive: true, force: true })
})

describe('Redis keys that are not UTF-8', () => {
  it('are seen by the check, restored byte for byte, and never deleted as if they were new', async () => {
    await r.sendCommand(['FLUSHDB'])
    await r.sendCommand(['SET', BINARY, 'seeded'])
    await r.sendCommand(['SET', BINARY_TWIN, 'twin'])
    await using guard = createGuard({ stores: [redisStore(env.get('cache'))] })
    await guard.baseline()
    expect((await guard.check('reads only')).leaked).toBe(false)

    await r.sendCommand(['SET', BINARY, 'changed'])
    await r.sendCommand(['SET', BINARY_ADDED, 'new'])
    await r.sendCommand(['DEL', BINARY_TWIN])
    const rep = await guard.check('writes binary keys')
    expect(rep.leaked).toBe(true)
    expect(rep.message).toContain('redis cache: 1 key added without TTL: bin:\\xc3(; 1 key removed: bin:\\xff\\xfd\\x00\\x0ak; 1 key changed: bin:\\xff\\xfe\\x00\\x0ak')
    expect(await get(BINARY)).toBe('seeded')
    expect(await get(BINARY_TWIN)).toBe('twin')
    expect(await get(BINARY_ADDED)).toBeNull()
    expect(await r.sendCommand(['DBSIZE'])).toBe(2)
    expect((await guard.check('next')).leaked).toBe(false)
  })

  it('go through the raw RESP client of probes and checks, which counts bytes', async () => {
    const u = new URL(env.get('cache').url)
    const auth = ['AUTH', u.username, u.password]
    await r.sendCommand(['SET', BINARY, 'prix: 10 € — ünïcode'])
    expect(await respCommand('127.0.0.1', Number(u.port), [auth, ['EXISTS', BINARY]])).toBe(1)
    expect(await respCommand('127.0.0.1', Number(u.port), [auth, ['GET', BINARY]])).toBe('prix: 10 € — ünïcode')
    expect(await respCommand('127.0.0.1', Number(u.port), [auth, ['SET', 'ç', 'ü'], ['GET', 'ç']])).toBe('ü')
    await r.sendCommand(['DEL', BINARY, 'ç'])
  })

  it('survive a snapshot save and restore, and are copied to worker databases', async () => {
    await r.sendCommand(['FLUSHDB'])
    await r.sendCommand(['SET', BINARY, 'seeded', 'PX', '600000'])
    await r.sendCommand(['SET', BINARY_TWIN, 'twin'])
    const store = redisStore(env.get('cache'), { snapshotDir })
    await using guard = createGuard({ stores: [store] })
    await guard.saveSnapshot('binary')
    await r.sendCommand(['FLUSHDB'])
    await r.sendCommand(['SET', 'other', 'x'])
    await guard.restoreSnapshot('binary')
    expect(await get(BINARY)).toBe('seeded')
    expect(await get(BINARY_TWIN)).toBe('twin')
    expect(Number(await r.sendCommand(['PTTL', BINARY]))).toBeGreaterThan(0)
    expect(await r.sendCommand(['DBSIZE'])).toBe(2)
    await guard.dropSnapshot('binary')

    const set = await prepareWorkers({ stores: [redisStore(env.get('cache'), { workers: { mode: 'db' } })], count: 1 })
    const w = await connectRedis(set.workers[0]?.urls.cache as string)
    try {
      expect(String(await w.sendCommand(['GET', BINARY]))).toBe('seeded')
      expect(String(await w.sendCommand(['GET', BINARY_TWIN]))).toBe('twin')
    } finally {
      w.destroy()
      await set.drop()
    }
  })
})

describe('snapshots across a restart and across stores', () => {
  it('a Redis snapshot is still restorable after the server restarted (rig restart cache)', async () => {
    await r.sendCommand(['FLUSHDB'])
    await r.sendCommand(['SET', 'price:van', '10'])
    {
      await using guard = createGuard({ stores: storesFor(env) })
      await guard.saveSnapshot('before-restart')
    }
    r.destroy()
    await env.get('cache').restart()
    r = await connectRedis(env.get('cache').url)
    expect(await r.sendCommand(['DBSIZE'])).toBe(0)
    await using guard = createGuard({ stores: storesFor(env) })
    expect(await guard.listSnapshots()).toEqual([{ name: 'before-restart', stores: ['db', 'cache'] }])
    await guard.restoreSnapshot('before-restart')
    expect(await r.sendCommand(['GET', 'price:van'])).toBe('10')
    await guard.dropSnapshot('before-restart')
  })

  it('refuses before touching any store when one store lacks the snapshot or cannot read it', async () => {
    const db = env.get('db').url
    const stores = () => [...storesFor(env, { only: ['db'] }), redisStore(env.get('cache'), { snapshotDir })]
    {
      await using guard = createGuard({ stores: stores() })
      await guard.saveSnapshot('pair')
    }
    await sql(db, `insert into cars (name) values ('after the save')`)
    fs.rmSync(path.join(snapshotDir, 'pair.json'))
    await using guard = createGuard({ stores: stores() })
    await expect(guard.restoreSnapshot('pair')).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_NOT_FOUND', message: expect.stringContaining('no snapshot "pair" for store "cache"') })
    expect(await sql(db, `select count(*)::int as n from cars`)).toEqual([{ n: 3 }])

    fs.writeFileSync(path.join(snapshotDir, 'pair.json'), '{"keys": [')
    await expect(guard.restoreSnapshot('pair')).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_UNREADABLE', message: expect.stringContaining('save it again') })
    expect(await sql(db, `select count(*)::int as n from cars`)).toEqual([{ n: 3 }])
    await guard.dropSnapshot('pair')
    await sql(db, `delete from cars where name = 'after the save'`)
  })

  it('says what each store holds when a restore fails after the checks passed', async () => {
    const db = env.get('db').url
    await r.sendCommand(['FLUSHDB'])
    await r.sendCommand(['SET', 'kept', 'x'])
    await using guard = createGuard({ stores: [...storesFor(env, { only: ['db'] }), redisStore(env.get('cache'), { snapshotDir })] })
    await guard.saveSnapshot('broken')
    await sql(db, `insert into cars (name) values ('after the save')`)
    // Readable, but its payload is not a DUMP Redis accepts: only RESTORE finds out.
    const file = path.join(snapshotDir, 'broken.json')
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: [string, string, number][] }
    data.keys = [[Buffer.from('kept').toString('base64'), Buffer.from('not a dump').toString('base64'), -1]]
    fs.writeFileSync(file, JSON.stringify(data))
    const err = await guard.restoreSnapshot('broken').then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; stores: Record<string, string> },
    )
    expect(err?.code).toBe('RIG_SNAPSHOT_RESTORE_INCOMPLETE')
    expect(err?.stores).toEqual({ db: 'restored', cache: 'unknown' })
    expect(err?.message).toContain('db: restored to the snapshot')
    expect(err?.message).toMatch(/cache: not restored, partly overwritten: restore it again \(.*(DUMP payload|checksum)/)
    expect(await sql(db, `select count(*)::int as n from cars`)).toEqual([{ n: 2 }])
    await guard.dropSnapshot('broken')
  })
})
