// mariadb(): a real server rig starts from the local binaries, beside the machine's own
// MariaDB (3306, /var/lib/mysql), which it must never touch.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { queryMysql } from '../../src/drivers/mysql.ts'
import { defineConfig, type Environment, mariadb } from '../../src/index.ts'
import { start } from '../support/env.ts'
import { expectGroupsGone, pidAlive, waitUntil } from '../support/procs.ts'

let env: Environment
beforeAll(async () => {
  env = await start(defineConfig({ services: { db: mariadb({ database: 'shop' }) } }))
}, 120_000)
afterAll(async () => {
  await env?.stop()
})

describe('mariadb()', () => {
  it('answers a real query on its own port, with the URL and variables it exports', async () => {
    const db = env.get('db')
    expect(db.url).toMatch(/^mysql:\/\/root:[A-Za-z0-9_-]{24}@127\.0\.0\.1:\d+\/shop$/)
    expect(db.port).not.toBe(3306)
    expect(db.env).toMatchObject({ RIG_DB_DATABASE: 'shop', RIG_DB_USER: 'root', RIG_DB_HOST: '127.0.0.1', RIG_DB_PORT: String(db.port) })
    expect(db.url).toContain(`:${db.env.RIG_DB_PASSWORD}@`)
    const [row] = await queryMysql<{ d: string; v: string; dw: string; flush: string; bin: string }>(
      db.url,
      'select database() as d, version() as v, @@innodb_doublewrite as dw, @@innodb_flush_log_at_trx_commit as flush, @@log_bin as bin',
    )
    expect(row).toEqual({ d: 'shop', v: expect.stringContaining('MariaDB'), dw: '0', flush: '0', bin: '0' })
  })

  it('keeps its files in its own dir, not the system server\'s, and reads no my.cnf', async () => {
    const [row] = await queryMysql<{ datadir: string; socket: string; bind: string; priv: string; li: string }>(
      env.get('db').url,
      'select @@datadir as datadir, @@socket as socket, @@bind_address as bind, @@secure_file_priv as priv, @@local_infile as li',
    )
    expect(row?.datadir.startsWith(env.dir)).toBe(true)
    expect(row?.socket).toBe(env.get('db').env.RIG_DB_SOCKET)
    expect(row?.socket.startsWith(env.dir)).toBe(true)
    expect(row?.bind).toBe('127.0.0.1')
    expect(row?.priv.startsWith(env.dir)).toBe(true)
    expect(row?.li).toBe('0')
    // The socket's dir is the service account's alone.
    expect(fs.statSync(path.dirname(row?.socket ?? '')).mode & 0o077).toBe(0)
    expect(fs.statSync(path.join(path.dirname(row?.socket ?? ''), 'init.sql')).mode & 0o077).toBe(0)
  })

  it('has no anonymous account and no account without a password', async () => {
    const users = await queryMysql<{ u: string; h: string; pw: string }>(env.get('db').url, `select user as u, host as h, authentication_string as pw from mysql.user where user <> 'mariadb.sys'`)
    expect(users.map((x) => `${x.u}@${x.h}`).sort()).toEqual(['root@127.0.0.1', 'root@localhost'])
    expect(users.every((x) => x.pw.length > 0)).toBe(true)
    const wrong = new URL(env.get('db').url)
    wrong.password = 'guess'
    await expect(queryMysql(wrong.toString(), 'select 1')).rejects.toThrow(/Access denied/)
    wrong.username = ''
    wrong.password = ''
    await expect(queryMysql(wrong.toString(), 'select 1')).rejects.toThrow(/Access denied/)
  })

  it('runs as an unprivileged account when rig is root', async () => {
    const pid = env.get('db').pid
    const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
    if (process.getuid?.() === 0) expect(uid).not.toBe(0)
    else expect(uid).toBe(process.getuid?.())
  })

  it('keeps its data and credentials across a restart', async () => {
    const db = env.get('db')
    await queryMysql(db.url, 'create table kept (id int primary key)')
    await db.restart()
    expect(await queryMysql(db.url, 'select count(*) as n from kept')).toEqual([{ n: '0' }])
    await queryMysql(db.url, 'drop table kept')
  })

  it('two instances get different credentials', async () => {
    const other = await start(defineConfig({ services: { db: mariadb() } }))
    try {
      expect(other.get('db').env.RIG_DB_PASSWORD).not.toBe(env.get('db').env.RIG_DB_PASSWORD)
      const wrong = new URL(other.get('db').url)
      wrong.password = env.get('db').env.RIG_DB_PASSWORD ?? ''
      await expect(queryMysql(wrong.toString(), 'select 1')).rejects.toThrow(/Access denied/)
    } finally {
      await other.stop()
    }
  }, 120_000)
})

describe('mariadb() and SIGKILL of the owner', () => {
  const children: number[] = []
  afterEach(() => {
    for (const p of children.splice(0)) if (pidAlive(p)) process.kill(p, 'SIGKILL')
  })

  it('leaves zero processes and removes its dir', async () => {
    const script = `
      import { mariadb, startEnvironment } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))}
      const env = await startEnvironment({ services: { db: mariadb() } })
      console.log(JSON.stringify({ dir: env.dir, pid: env.get('db').pid }))
      setInterval(() => {}, 1 << 30)
    `
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child.pid ?? 0)
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '')
      })
      child.on('exit', (code) => reject(new Error(`owner exited (${code}) before it was ready`)))
    })
    const { dir, pid } = JSON.parse(line) as { dir: string; pid: number }
    expect(pidAlive(pid)).toBe(true)
    child.kill('SIGKILL')
    await expectGroupsGone([pid], 20_000)
    expect(await waitUntil(() => !fs.existsSync(dir), 20_000)).toBe(true)
  }, 90_000)
})
