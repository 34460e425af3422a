// Bad input to the engine: each failure has a stable code, a message that says what and
// what to do, and leaves nothing running.
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { command, external, postgres, redis, tcp, type RigConfig } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

const FIX = path.join(import.meta.dirname, '../support/fixtures')

afterEach(async () => {
  await assertNothingLeft()
})

const fails = (config: RigConfig) => rejection(start(config))

describe('config errors, before anything starts', () => {
  it('an unknown or mistyped key names it, the service, and the right one', async () => {
    const err = await fails({ services: { cache: redis(), db: postgres({ databse: 'app' } as never) } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_KEY')
    expect(err.message).toMatch(/service "db" \(postgres\): unknown option "databse" — did you mean "database"\?/)
  })

  it('a dependency on an unknown service', async () => {
    const err = await fails({ services: { api: command({ run: 'true', dependsOn: ['db'] }) } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_DEPENDENCY')
    expect(err.message).toContain('"api" depends on "db"')
  })

  it('a cycle', async () => {
    const err = await fails({ services: { a: command({ run: 'true', dependsOn: ['b'] }), b: command({ run: 'true', dependsOn: ['a'] }) } })
    expect(err.code).toBe('RIG_CONFIG_CYCLE')
    expect(err.message).toMatch(/a → b → a|b → a → b/)
  })

  it('a placeholder naming a service that is not a dependency', async () => {
    const err = await fails({ services: { db: postgres(), api: command({ run: 'sleep 600', env: { DB: '{db.url}' } }) } })
    expect(err.code).toBe('RIG_CONFIG_UNKNOWN_REFERENCE')
    expect(err.message).toContain('dependsOn')
  })
})

describe('start failures', () => {
  it('a missing binary says what to install, and stops what already started', async () => {
    const err = await fails({ services: { cache: redis(), db: postgres({ binDir: '/nonexistent', provider: 'process' }) } })
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toContain('service "db" needs `postgres`')
    expect(err.message).toContain('/nonexistent')
    expect(err.message).toContain('apt-get install postgresql')
  })

  it('a missing redis-server too', async () => {
    const err = await fails({ services: { cache: redis({ binDir: '/nonexistent' }) } })
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toContain('apt-get install redis-server')
  })

  it('a fixed port already in use', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1')
    await new Promise((r) => srv.once('listening', r))
    const port = (srv.address() as net.AddressInfo).port
    try {
      const err = await fails({ services: { db: postgres(), cache: redis({ port }) } })
      expect(err.code).toBe('RIG_PORT_IN_USE')
      expect(err.name).toBe('PortInUseError')
      expect((err as unknown as { port: number }).port).toBe(port)
      expect(err.message).toContain(`service "cache" asks for port ${port}`)
      expect(err.message).toContain('remove `port`')
    } finally {
      srv.close()
    }
  })

  it('a command that crashes during start: exit code and last log lines', async () => {
    const err = await fails({
      services: {
        cache: redis(),
        api: command({ run: 'echo "loading config"; echo "fatal: no such table users" >&2; exit 7', env: { PORT: '{port}' }, dependsOn: ['cache'] }),
      },
    })
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain('service "api" exited with code 7 while starting')
    expect(err.message).toContain('loading config')
    expect(err.message).toMatch(/stderr +fatal: no such table users/)
    expect((err as unknown as { details: { exitCode: number } }).details.exitCode).toBe(7)
  })

  it('a PostgreSQL that refuses its settings', async () => {
    const err = await fails({ services: { db: postgres({ settings: { shared_buffers: 'lots' } }) } })
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain('service "db" exited with code 1')
    expect(err.message).toContain('shared_buffers')
  })

  it('a failing one-shot fails the environment', async () => {
    const err = await fails({
      services: {
        db: postgres(),
        migrate: command({ run: [process.execPath, path.join(FIX, 'migrate.cjs')], dependsOn: ['db'], env: { DATABASE_URL: '{db.url}', MIGRATE_EXIT: '3' } }),
        api: command({ run: 'sleep 600', dependsOn: { migrate: 'completed' } }),
      },
    })
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain('service "migrate" exited with code 3')
    expect(err.message).toContain('migration failed')
  })

  it('a readiness timeout names the probe, the attempts, the last error and the log tail', async () => {
    const err = await fails({
      services: {
        cache: redis(),
        api: command({ run: 'echo "waiting for a license key"; exec sleep 600', env: { PORT: '{port}' }, ready: tcp(), readyTimeout: 800 }),
      },
    })
    expect(err.code).toBe('RIG_READY_TIMEOUT')
    expect(err.message).toMatch(/service "api" was not ready after \d+ ms/)
    expect(err.message).toMatch(/probe: tcp service port \(\d+ attempts over \d+ ms\)/)
    expect(err.message).toMatch(/last error: .*ECONNREFUSED/)
    expect(err.message).toContain('waiting for a license key')
    expect(err.message).toMatch(/nothing listens on 127\.0\.0\.1:\d+/)
  })

  it('an external service that is not there times out with the connection error', async () => {
    const err = await fails({ services: { ext: external({ url: 'http://127.0.0.1:1/', readyTimeout: 300 }) } })
    expect(err.code).toBe('RIG_READY_TIMEOUT')
    expect(err.message).toContain('service "ext"')
    expect(err.message).toContain('ECONNREFUSED')
  })

  it('a failing one-shot stops a long-running service that waited for it to complete', async () => {
    // `dep` is ready at once but never completes; `api` waits for it. When `bad` fails, the
    // whole start must give up at once, not at dep's 10-minute deadline (the test would time out).
    const err = await fails({
      services: {
        dep: command({ run: 'sleep 600' }),
        api: command({ run: 'sleep 600', dependsOn: { dep: 'completed' } }),
        bad: command({ run: 'sleep 0.3; exit 4', env: { PORT: '{port}' } }),
      },
      readyTimeout: 600_000,
    })
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain('"bad"')
  })

  it('a one-shot that never completes times out at the config-wide readyTimeout', async () => {
    const err = await fails({
      readyTimeout: 500,
      services: { dep: command({ run: 'echo still migrating; exec sleep 600' }), api: command({ run: 'sleep 600', dependsOn: { dep: 'completed' } }) },
    })
    expect(err.code).toBe('RIG_READY_TIMEOUT')
    expect(err.message).toContain('"api" waits for it to complete, but it is still running')
    expect(err.message).toContain('still migrating')
  })

  it('an aborted start stops everything', async () => {
    const ac = new AbortController()
    const p = start({ services: { db: postgres(), cache: redis(), slow: command({ run: 'exec sleep 600', env: { PORT: '{port}' } }) } }, { signal: ac.signal })
    setTimeout(() => ac.abort(new Error('Ctrl-C')), 300)
    const err = await rejection(p)
    expect(err.code).toBe('RIG_ABORTED')
  })
})
