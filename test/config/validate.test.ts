import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { suggest } from '../../src/config/suggest.ts'
import { command, ConfigError, external, postgres, redis } from '../../src/index.ts'

function configError(config: unknown): ConfigError {
  try {
    validateConfig(config, 'rig.config.ts')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).exitCode).toBe(2)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('validateConfig', () => {
  it('returns a start order with dependencies first', () => {
    const order = validateConfig({
      services: {
        api: command({ run: 'x', dependsOn: ['db', 'migrate'] }),
        migrate: command({ run: 'y', dependsOn: { db: 'ready' } }),
        db: postgres(),
        cache: redis(),
      },
    })
    expect(order.indexOf('db')).toBeLessThan(order.indexOf('migrate'))
    expect(order.indexOf('migrate')).toBeLessThan(order.indexOf('api'))
    expect(order).toHaveLength(4)
  })

  it('names a mistyped service option, its service, and suggests the right one', () => {
    const err = configError({ services: { db: postgres({ databse: 'app' } as never) } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_KEY')
    expect(err.message).toContain('"databse"')
    expect(err.message).toContain('service "db"')
    expect(err.message).toContain('did you mean "database"')
  })

  it('suggests common options too', () => {
    const err = configError({ services: { api: command({ run: 'x', dependOn: ['db'] } as never) } })
    expect(err.message).toContain('did you mean "dependsOn"')
  })

  it('names an unknown option without a near match and lists the allowed ones', () => {
    const err = configError({ services: { cache: redis({ zzzzzzzz: 1 } as never) } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_KEY')
    expect(err.message).toContain('"zzzzzzzz"')
    expect(err.message).not.toContain('did you mean')
    expect(err.message).toContain('binDir')
  })

  it('checks fixtures: the service each step loads into, and what a step is', () => {
    expect(configError({ services: { db: postgres() }, fixtures: { fleet: { dv: 'fleet.sql' } } }).message).toBe(
      'rig.config.ts: fixture "fleet" loads into "dv", which is not a service — did you mean "db"? (services: db)',
    )
    expect(configError({ services: { db: postgres() }, fixtures: { fleet: { db: 42 } } }).message).toMatch(/fixture "fleet", store "db": a step is an SQL file path or a function, got 42/)
    expect(configError({ services: { db: postgres() }, fixtures: { 'two words': () => {} } }).code).toBe('RIG_CONFIG_INVALID')
    expect(validateConfig({ services: { db: postgres() }, fixtures: { fleet: { db: 'fleet.sql' }, users: async () => {} } })).toEqual(['db'])
  })

  it('rejects a mistyped top-level key', () => {
    const err = configError({ sevices: {} })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_KEY')
    expect(err.message).toContain('did you mean "services"')
  })

  it('rejects a dependency on an unknown service', () => {
    const err = configError({ services: { api: command({ run: 'x', dependsOn: ['dbb'] }), db: postgres() } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_DEPENDENCY')
    expect(err.message).toContain('"api" depends on "dbb"')
    expect(err.message).toContain('services: api, db')
  })

  it('shows a cycle', () => {
    const err = configError({
      services: {
        a: command({ run: 'x', dependsOn: ['b'] }),
        b: command({ run: 'x', dependsOn: ['c'] }),
        c: command({ run: 'x', dependsOn: ['a'] }),
      },
    })
    expect(err.code).toBe('RIG_CONFIG_CYCLE')
    expect(err.message).toContain('a → b → c → a')
  })

  it('rejects a service depending on itself', () => {
    const err = configError({ services: { a: command({ run: 'x', dependsOn: ['a'] }) } })
    expect(err.code).toBe('RIG_CONFIG_CYCLE')
    expect(err.message).toContain('"a" depends on itself')
  })

  it('rejects an unknown dependency condition', () => {
    const err = configError({ services: { db: postgres(), a: command({ run: 'x', dependsOn: { db: 'healthy' } as never }) } })
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toContain('started, ready, completed')
  })

  it('rejects dependsOn given as a bare string', () => {
    const err = configError({ services: { db: postgres(), a: command({ run: 'x', dependsOn: 'db' as never }) } })
    expect(err.code).toBe('RIG_CONFIG_INVALID')
    expect(err.message).toContain('dependsOn')
    expect(err.message).toContain('"a"')
  })

  it('rejects bad names, non-services, empty configs and bad values', () => {
    expect(configError({ services: { '1db': postgres() } }).message).toContain('must start with a letter')
    expect(configError({ services: { db: { kind: 'postgres' } } }).message).toContain('not a service definition')
    expect(configError({ services: {} }).message).toContain('no services')
    expect(configError(undefined).code).toBe('RIG_CONFIG_INVALID')
    expect(configError({ services: { db: postgres({ readyTimeout: -1 }) } }).message).toContain('readyTimeout must be a positive number')
    expect(configError({ services: { db: postgres({ port: 70000 }) } }).message).toContain('port must be an integer')
    expect(configError({ services: { db: postgres() }, readyTimeout: 0 }).message).toContain('readyTimeout')
  })

  it('accepts every kind with its own options', () => {
    expect(() =>
      validateConfig({
        readyTimeout: 1000,
        services: {
          db: postgres({ database: 'app', user: 'u', settings: { fsync: false }, version: '15' }),
          cache: redis({ settings: { maxmemory: '10mb' } }),
          ext: external({ url: 'postgres://127.0.0.1:5432/postgres' }),
          api: command({ run: ['node', 'x.js'], env: { A: '{port}' }, dependsOn: { db: 'started', cache: 'ready', ext: 'ready' } }),
        },
      }),
    ).not.toThrow()
  })
})

describe('validateConfig: names and values', () => {
  it('a dependency named like an Object method is an unknown service, not a TypeError', () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
      const err = configError({ services: { api: command({ run: 'x', dependsOn: [name] }) } })
      expect(err.code, name).toBe('RIG_CONFIG_UNKNOWN_DEPENDENCY')
      expect(err.message).toContain(`depends on "${name}", which is not a service`)
    }
    expect(configError({ services: { api: command({ run: 'x', dependsOn: { valueOf: 'ready' } as never }) } }).code).toBe('RIG_CONFIG_UNKNOWN_DEPENDENCY')
    // A service may be called so, and be depended on.
    expect(validateConfig({ services: { toString: redis(), api: command({ run: 'x', dependsOn: ['toString'] }) } })).toEqual(['toString', 'api'])
  })

  it('names that would share their RIG_<NAME>_* variables', () => {
    const dash = configError({ services: { 'my-db': postgres(), my_db: postgres() } })
    expect(dash.code).toBe('RIG_CONFIG_NAME_COLLISION')
    expect(dash.message).toBe('services "my-db" and "my_db" would both export RIG_MY_DB_URL (names differing only in case, "-" or "_" share their env vars): rename one of them')
    expect(configError({ services: { db: redis(), DB: redis() } }).message).toContain('services "db" and "DB" would both export RIG_DB_URL')
  })

  it('values of the wrong type are named with what was given', () => {
    const msg = (config: unknown): string => configError(config).message
    expect(msg({ services: { api: command({ run: 42 as never }) } })).toBe(`service "api" (command): run must be a command line ('node server.js') or a non-empty argv array (['node', 'server.js']), got 42`)
    expect(msg({ services: { api: command({ run: [] }) } })).toContain('run must be')
    expect(msg({ services: { api: command({ run: ['node', 1] as never }) } })).toContain('run must be')
    expect(msg({ services: { api: command({ run: 'x' }) }, logsDir: 42 })).toBe('rig.config.ts: logsDir must be a non-empty string, got 42')
    expect(msg({ services: { api: command({ run: 'x', stopSignal: 'SIGFOO' as never }) } })).toContain('stopSignal must be a signal name such as "SIGTERM"')
    expect(msg({ services: { api: command({ run: 'x', stopGrace: '5s' as never }) } })).toContain('stopGrace must be a non-negative number of ms, got "5s"')
    expect(msg({ services: { api: command({ run: 'x', env: { A: null } as never }) } })).toContain('env.A must be a string, number or boolean, got null')
    expect(msg({ services: { api: command({ run: 'x', cwd: 7 as never }) } })).toContain('cwd must be a non-empty string, got 7')
    expect(msg({ services: { api: command({ run: 'x', ready: 'tcp' as never }) } })).toContain("ready must be a probe such as http('/health')")
    expect(msg({ services: { cache: redis({ settings: { maxmemory: {} } as never }) } })).toContain('settings.maxmemory must be a string, number or boolean, got an object')
    expect(msg({ services: { ext: external({ url: 'localhost:8080' }) } })).toContain('url must be an absolute URL')
    expect(validateConfig({ services: { api: command({ run: 'x', stopSignal: 'SIGINT', stopGrace: 0, env: { N: 1 as never } }) } })).toEqual(['api'])
  })

  it('postgres options: version, provider, database and user names', () => {
    const msg = (o: Parameters<typeof postgres>[0]): string => configError({ services: { db: postgres(o) } }).message
    expect(msg({ provider: 'docker' as never })).toBe('service "db" (postgres): provider must be one of "auto", "process", "embedded", got "docker"')
    expect(msg({ version: 16 as never })).toContain("version must be a major version as a string, such as '16', got 16")
    expect(msg({ version: 'latest' })).toContain('version must be')
    expect(msg({ provider: 'embedded', version: '15' })).toContain("`provider: 'embedded'` runs PGlite")
    for (const bad of ['a;b', 'a/b', 'a?b', 'a#b', 'a@b']) expect(msg({ database: bad })).toContain('does not survive the postgres:// URL')
    expect(msg({ database: 'x'.repeat(64) })).toContain('at most 63 bytes')
    expect(msg({ database: 'a\nb' })).toContain('without control characters')
    expect(msg({ user: 'pg_app' })).toContain('does not start with "pg_"')
    expect(validateConfig({ services: { db: postgres({ database: 'my "app" 100%', user: 'app user' }) } })).toEqual(['db'])
  })
})

describe('suggest', () => {
  it('finds typos and ignores unrelated words', () => {
    expect(suggest('readyTimout', ['ready', 'readyTimeout', 'port'])).toBe('readyTimeout')
    expect(suggest('PORT', ['port'])).toBe('port')
    expect(suggest('banana', ['port', 'ready'])).toBeUndefined()
  })
})
