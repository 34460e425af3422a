// Data servers on a shared machine: another local user must not get into rig's PostgreSQL or
// Redis (no login over TCP, no socket, no config file), so `COPY … FROM PROGRAM` is out of
// their reach; and what rig's own superuser can run happens as an account that owns nothing.
// The intruder runs the stock clients (psql, redis-cli) through runuser, as an attacker would.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { postgres, redis, tcp, type Environment } from '../../src/index.ts'
import { tempRoot } from '../../src/fs-safe/temp-root.ts'
import { SERVICE_ACCOUNT } from '../../src/providers/process/user.ts'
import { sparesSettled } from '../../src/services/postgres/spare.ts'
import { assertNothingLeft, start } from '../support/env.ts'

const ROOT = process.getuid?.() === 0
const INTRUDER = 'rigintruder'

/** A second local account, created once per machine (left in place: parallel runs share it). */
function ensureIntruder(): void {
  if (spawnSync('id', [INTRUDER]).status === 0) return
  const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', INTRUDER])
  if (r.status !== 0 && spawnSync('id', [INTRUDER]).status !== 0) throw new Error(`useradd ${INTRUDER}: ${r.stderr}`)
}

/** Runs a command as the intruder; returns its exit code and everything it printed. */
function asIntruder(cmd: string, args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync('runuser', ['-u', INTRUDER, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8', cwd: '/', timeout: 20_000 })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

let env: Environment | undefined
afterAll(async () => {
  await env?.stop()
  await assertNothingLeft()
})

describe.skipIf(!ROOT)('data servers started by root, seen by another local user', () => {
  beforeAll(async () => {
    ensureIntruder()
    env = await start({ services: { db: postgres({ database: 'app' }), cache: redis() } })
  })

  it('PostgreSQL: no login over TCP without the password, no way through the socket, no COPY … FROM PROGRAM', async () => {
    const db = (env as Environment).get('db')
    const marker = path.join(os.tmpdir(), `rig-intruder-${process.pid}-${Date.now()}`)
    const copy = `copy (select 1) to program 'touch ${marker}'`

    // The server runs as rig's own account, not as root nor as the machine's postgres.
    const owner = execFileSync('ps', ['-o', 'user=', '-p', String(db.pid)], { encoding: 'utf8' }).trim()
    expect(owner).toBe(SERVICE_ACCOUNT)

    const noPassword = asIntruder('psql', ['-w', '-h', '127.0.0.1', '-p', String(db.port), '-U', 'postgres', '-d', 'app', '-c', copy])
    expect(noPassword.code).not.toBe(0)
    expect(noPassword.out).toMatch(/no password supplied|password authentication failed/)
    const guessed = asIntruder('psql', ['-w', '-h', '127.0.0.1', '-p', String(db.port), '-U', 'postgres', '-d', 'app', '-c', copy], { PGPASSWORD: 'postgres' })
    expect(guessed.code).not.toBe(0)
    expect(guessed.out).toContain('password authentication failed for user "postgres"')

    // The socket directory is private to the server's account: neither listed nor connected to.
    expect(fs.statSync(db.dir).mode & 0o777).toBe(0o700)
    const socket = fs.readdirSync(db.dir).find((f) => f.startsWith('.s.PGSQL.') && !f.endsWith('.lock'))
    expect(socket).toBeDefined()
    expect(fs.statSync(path.join(db.dir, socket as string)).mode & 0o777).toBe(0o700)
    const viaSocket = asIntruder('psql', ['-w', '-h', db.dir, '-p', String(db.port), '-U', 'postgres', '-d', 'app', '-c', copy])
    expect(viaSocket.code).not.toBe(0)
    expect(viaSocket.out).toMatch(/Permission denied/)
    expect(asIntruder('ls', [db.dir]).out).toMatch(/Permission denied/)
    expect(fs.existsSync(marker)).toBe(false)
  })

  it("PostgreSQL: the spare data dirs made ahead, and the passwords beside them, are out of the intruder's and the server account's reach", async () => {
    await sparesSettled()
    const dir = path.join(tempRoot(), `pg-spares-${process.getuid?.()}`)
    const slot = fs.readdirSync(dir).find((e) => e.startsWith('pgl-') && !e.endsWith('.tmp')) as string
    expect(slot).toBeDefined()
    const file = path.join(dir, slot, 'password')
    const password = fs.readFileSync(file, 'utf8').trim()
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(asIntruder('ls', [dir]).out).toMatch(/Permission denied/)
    expect(asIntruder('cat', [file]).out).toMatch(/Permission denied/)
    expect(asIntruder('ls', [path.join(dir, slot, 'data')]).out).toMatch(/Permission denied/)
    // The server's account reaches its data dir through the slot, never the password beside it.
    const server = spawnSync('runuser', ['-u', SERVICE_ACCOUNT, '--', 'cat', file], { encoding: 'utf8', cwd: '/' })
    expect(`${server.stdout}${server.stderr}`).toMatch(/Permission denied/)
    expect(server.stdout).not.toContain(password)
    expect(spawnSync('runuser', ['-u', SERVICE_ACCOUNT, '--', 'ls', dir], { encoding: 'utf8', cwd: '/' }).stderr).toMatch(/Permission denied/)
  })

  it('PostgreSQL: what its superuser runs, runs as an account that cannot read the machine\'s own cluster', async () => {
    const db = (env as Environment).get('db')
    const out = path.join(os.tmpdir(), `rig-whoami-${process.pid}-${Date.now()}`)
    try {
      await pgQuery(db.url, `copy (select 1) to program 'id -un > ${out}'`)
      expect(fs.readFileSync(out, 'utf8').trim()).toBe(SERVICE_ACCOUNT)
    } finally {
      fs.rmSync(out, { force: true })
    }
    const systemCluster = '/var/lib/postgresql'
    if (fs.existsSync(systemCluster)) {
      const file = execFileSync('find', [systemCluster, '-name', 'PG_VERSION', '-print', '-quit'], { encoding: 'utf8' }).trim()
      if (file) await expect(pgQuery(db.url, `select pg_read_file('${file}')`)).rejects.toThrow(/Permission denied/)
    }
  })

  it('Redis: runs as rig\'s account, refuses commands without the password, its config file is private', async () => {
    const cache = (env as Environment).get('cache')
    expect(execFileSync('ps', ['-o', 'user=', '-p', String(cache.pid)], { encoding: 'utf8' }).trim()).toBe(SERVICE_ACCOUNT)
    const ping = asIntruder('redis-cli', ['-h', '127.0.0.1', '-p', String(cache.port), 'PING'])
    expect(ping.out).toContain('NOAUTH')
    const config = asIntruder('redis-cli', ['-h', '127.0.0.1', '-p', String(cache.port), 'CONFIG', 'SET', 'dir', '/tmp'])
    expect(config.out).toContain('NOAUTH')
    const guessed = asIntruder('redis-cli', ['--no-auth-warning', '-a', 'redis', '-h', '127.0.0.1', '-p', String(cache.port), 'PING'])
    expect(guessed.out).toMatch(/WRONGPASS|invalid password/i)
    expect(asIntruder('cat', [path.join(cache.dir, 'redis.conf')]).out).toMatch(/Permission denied/)
    // The password is not on the command line, which every user can read.
    expect(fs.readFileSync(`/proc/${cache.pid}/cmdline`, 'utf8')).not.toContain(new URL(cache.url).password)
    // The owner's URL works.
    const owner = spawnSync('redis-cli', ['-u', cache.url, '--no-auth-warning', 'PING'], { encoding: 'utf8' })
    expect(owner.stdout.trim()).toBe('PONG')
  })
})

describe('credentials per start', () => {
  it('a password is set even when the user replaces the readiness probes, and two environments get different ones', async () => {
    const a = await start({ services: { db: postgres({ ready: tcp() }) } })
    const b = await start({ services: { db: postgres() } })
    try {
      const [ua, ub] = [new URL(a.get('db').url), new URL(b.get('db').url)]
      expect(ua.password).not.toBe(ub.password)
      expect((await pgQuery<{ one: number }>(a.get('db').url, 'select 1 as one')).rows[0]?.one).toBe(1)
      ua.password = ub.password
      await expect(pgQuery(ua.toString(), 'select 1')).rejects.toThrow(/password authentication failed/)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
