// Option values that used to be accepted and then misbehaved: a PostgreSQL version or binDir that
// silently became another server, an env function returning null, names looked up through
// Object.prototype. Each is now refused with what was asked and what to do — or made to work.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { command, postgres, redis } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

afterEach(async () => {
  await assertNothingLeft()
})

describe('postgres(): an explicit choice is met or refused, never substituted', () => {
  it('a version that is not installed lists the versions found and how to install it', async () => {
    const err = await rejection(start({ services: { db: postgres({ version: '99' }) } }))
    expect(err.code).toBe('RIG_POSTGRES_VERSION')
    expect(err.message).toContain('service "db" asks for PostgreSQL 99, which is not installed')
    expect(err.message).toMatch(/found: 15\.\d+ \(/)
    expect(err.message).toContain('apt-get install postgresql-99')
  })

  it('an installed version is found and used', async () => {
    await using env = await start({ services: { db: postgres({ version: '15' }) } })
    expect(env.get('db').env.RIG_DB_VERSION).toMatch(/^15\./)
  })

  it('a binDir that does not exist is an error naming it, not a fallback to PGlite (provider auto)', async () => {
    const err = await rejection(start({ services: { db: postgres({ binDir: '/nonexistent/pg/bin' }) } }))
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toContain('service "db" needs `postgres`, but its binDir /nonexistent/pg/bin does not exist')
  })

  it('a binDir without postgres, and one holding another version', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bindir-'))
    try {
      const err = await rejection(start({ services: { db: postgres({ binDir: empty }) } }))
      expect(err.message).toContain(`which is not in its binDir ${empty}`)
    } finally {
      fs.rmSync(empty, { recursive: true, force: true })
    }
    const err = await rejection(start({ services: { db: postgres({ binDir: '/usr/lib/postgresql/15/bin', version: '16' }) } }))
    expect(err.code).toBe('RIG_POSTGRES_VERSION')
    expect(err.message).toMatch(/asks for PostgreSQL 16, but its binDir \/usr\/lib\/postgresql\/15\/bin holds PostgreSQL 15\.\d+/)
  })

  it('a provider that does not exist', async () => {
    const err = await rejection(start({ services: { db: postgres({ provider: 'docker' as never }) } }))
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toContain('provider must be one of "auto", "process", "embedded", got "docker"')
  })

  it('a database and a user whose names need quoting work end to end', async () => {
    const database = `my "app" db's 100%`
    await using env = await start({ services: { db: postgres({ database, user: 'app user' }) } })
    const db = env.get('db')
    const { rows } = await pgQuery<{ d: string; u: string }>(db.url, 'select current_database() as d, current_user as u')
    expect(rows[0]).toEqual({ d: database, u: 'app user' })
    expect(db.env.RIG_DB_DATABASE).toBe(database)
  })

  it('a database name the URL cannot carry is refused before anything starts', async () => {
    const err = await rejection(start({ services: { cache: redis(), db: postgres({ database: 'app;drop' }) } }))
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toContain('database must be a name without ";"')
  })
})

describe('redis(): the same for binDir', () => {
  it('a binDir that does not exist is named', async () => {
    const err = await rejection(start({ services: { cache: redis({ binDir: '/nonexistent/redis' }) } }))
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toContain('needs `redis-server`, but its binDir /nonexistent/redis does not exist')
  })
})

describe('command(): values only known at start', () => {
  it('an env function returning null, or a value that is not a string', async () => {
    const nul = await rejection(start({ services: { api: command({ run: 'exec sleep 600', env: () => null as never }) } }))
    expect(nul.code).toBe('RIG_CONFIG_INVALID')
    expect(nul.message).toContain('service "api": env must be an object of name: value, got null (returned by its `env` function)')
    const obj = await rejection(start({ services: { api: command({ run: 'exec sleep 600', env: () => ({ PORT: { n: 1 } }) as never }) } }))
    expect(obj.message).toContain('env.PORT must be a string, number or boolean, got an object')
  })

  it('an env function that throws names the service', async () => {
    const err = await rejection(start({ services: { db: redis(), api: command({ run: 'exec sleep 600', env: (deps) => ({ URL: (deps.db as { url: string }).url }) }) } }))
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toMatch(/service "api": its `env` function threw: .*list each one it reads in `dependsOn`/)
  })
})

describe('names are looked up as own properties only', () => {
  it('env.get("toString") is an unknown service', async () => {
    await using env = await start({ services: { cache: redis() } })
    for (const name of ['toString', 'constructor', '__proto__']) expect(() => env.get(name)).toThrow(/no service "(toString|constructor|__proto__)" in this environment \(services: cache\)/)
  })

  it('a service may be named toString', async () => {
    await using env = await start({ services: { toString: redis(), api: command({ run: 'exec sleep 600', dependsOn: ['toString'], env: { U: '{toString.url}' } }) } })
    expect(env.get('toString').url).toMatch(/^redis:/)
  })
})
