// How each server is stopped: at teardown its data is thrown away, so PostgreSQL gets the
// immediate shutdown and Redis a SHUTDOWN NOSAVE over its connection; a restart keeps the data
// (fast shutdown, plain SHUTDOWN); a Redis that refuses SHUTDOWN still stops, by its signal.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { respCommand } from '../../src/drivers/resp.ts'
import { postgres, redis, type Environment } from '../../src/index.ts'
import { assertNothingLeft, start } from '../support/env.ts'

const logsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-stop-modes-'))
let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
  fs.rmSync(logsDir, { recursive: true, force: true })
})

const log = (name: string): string => fs.readFileSync(path.join(logsDir, `${name}.log`), 'utf8')

async function redisCmd(url: string, ...cmd: string[]): Promise<unknown> {
  const u = new URL(url)
  return respCommand('127.0.0.1', Number(u.port), [['AUTH', 'default', decodeURIComponent(u.password)], cmd])
}

describe('stopping at teardown', () => {
  it('PostgreSQL shuts down immediately and Redis exits on SHUTDOWN NOSAVE', async () => {
    env = await start({ services: { db: postgres(), cache: redis() } }, { logsDir })
    const pgPid = env.get('db').pid
    await env.stop()
    env = undefined
    expect(log('db')).toMatch(/received immediate shutdown request/)
    expect(log('db')).not.toMatch(/received fast shutdown request/)
    expect(log('cache')).toMatch(/User requested shutdown/)
    expect(log('cache')).not.toMatch(/Received SIGTERM/)
    expect(pgPid).toBeGreaterThan(0)
    await assertNothingLeft()
  })

  it('PostgreSQL keeps its dynamic shared memory in its data dir, not in /dev/shm', async () => {
    // An immediate shutdown leaves POSIX segments (/dev/shm/PostgreSQL.*) behind; files in the
    // data dir go with it. A parallel query makes the server create segments now.
    env = await start({ services: { db: postgres() } }, { logsDir })
    const db = env.get('db')
    const q = (sql: string) => pgQuery(db.url, sql)
    expect((await q('show dynamic_shared_memory_type')).rows).toEqual([{ dynamic_shared_memory_type: 'mmap' }])
    const dataDir = String((await q('show data_directory')).rows[0]!.data_directory)
    const seen = new Set<string>()
    const watch = setInterval(() => {
      for (const f of fs.readdirSync(path.join(dataDir, 'pg_dynshmem'))) seen.add(f)
    }, 1)
    await q(`create table big as select g from generate_series(1, 200000) g; analyze big`)
    await q(`set parallel_setup_cost = 0; set parallel_tuple_cost = 0; set min_parallel_table_scan_size = 0; set max_parallel_workers_per_gather = 2; select count(*) from big`)
    clearInterval(watch)
    expect(seen.size).toBeGreaterThan(0)
    await env.stop()
    env = undefined
    expect(fs.existsSync(dataDir)).toBe(false)
    await assertNothingLeft()
  })

  it('a restart keeps the data: fast shutdown and a plain SHUTDOWN', async () => {
    env = await start({ services: { db: postgres(), cache: redis() } }, { logsDir })
    const db = env.get('db')
    await pgQuery(db.url, 'create table kept (x int); insert into kept values (42)')
    await db.restart()
    expect((await pgQuery(db.url, 'select x from kept')).rows).toEqual([{ x: 42 }])
    expect(log('db')).toMatch(/received fast shutdown request/)
    const cache = env.get('cache')
    await cache.restart()
    expect(await redisCmd(cache.url, 'PING')).toBe('PONG')
    expect(log('cache')).toMatch(/User requested shutdown/)
    expect(log('cache')).not.toMatch(/Received SIGTERM/)
  })

  it('a Redis that refuses SHUTDOWN is stopped by its signal', async () => {
    env = await start({ services: { cache: redis() } }, { logsDir })
    const url = env.get('cache').url
    expect(await redisCmd(url, 'ACL', 'SETUSER', 'default', '-shutdown')).toBe('OK')
    expect(await redisCmd(url, 'SHUTDOWN', 'NOSAVE').catch((e: Error) => e.message)).toMatch(/NOPERM/)
    await env.stop()
    env = undefined
    expect(log('cache')).toMatch(/Received SIGTERM/)
    await assertNothingLeft()
  })
})
