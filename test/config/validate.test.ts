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

describe('suggest', () => {
  it('finds typos and ignores unrelated words', () => {
    expect(suggest('readyTimout', ['ready', 'readyTimeout', 'port'])).toBe('readyTimeout')
    expect(suggest('PORT', ['port'])).toBe('port')
    expect(suggest('banana', ['port', 'ready'])).toBeUndefined()
  })
})
