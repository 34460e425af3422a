// mariadb() bad input: each fails with a clear error and leaves nothing running.
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { defineConfig, mariadb, mysql } from '../../src/index.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

describe('mariadb() bad input', () => {
  it('a fixed port already in use', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1')
    await new Promise((r) => srv.once('listening', r))
    const port = (srv.address() as net.AddressInfo).port
    try {
      const err = await rejection(start(defineConfig({ services: { db: mariadb({ port }) } })))
      expect(err.code).toBe('RIG_PORT_IN_USE')
      expect(err.message).toContain(`service "db" asks for port ${port}`)
    } finally {
      srv.close()
    }
    await assertNothingLeft()
  })

  it('a setting the server does not know: the crash names it', async () => {
    const err = await rejection(start(defineConfig({ services: { db: mariadb({ settings: { innodb_flux_capacitor: 1 } }) } })))
    expect(err.code).toBe('RIG_SERVICE_CRASHED')
    expect(err.message).toContain("unknown variable 'innodb_flux_capacitor=1'")
    expect(err.message).toContain('"innodb_flux_capacitor=1" is not a server variable')
    await assertNothingLeft()
  }, 60_000)

  it('a setting name that is not one, or a bad database name, is a config error before anything starts', async () => {
    const a = await rejection(start(defineConfig({ services: { db: mariadb({ settings: { 'x --init-file': '/etc/passwd' } }) } })))
    expect(a.code).toBe('RIG_CONFIG_INVALID')
    const b = await rejection(start(defineConfig({ services: { db: mariadb({ database: 'a;drop' }) } })))
    expect(b.code).toBe('RIG_CONFIG_INVALID')
    expect(b.message).toMatch(/service "db" \(mariadb\): database must be a name .* got "a;drop"/)
    await assertNothingLeft()
  })

  it('mysql() where mysqld is MariaDB says so and what to use', async () => {
    const err = await rejection(start(defineConfig({ services: { db: mysql() } })))
    expect(err.code).toBe('RIG_BINARY_NOT_FOUND')
    expect(err.message).toMatch(/is MariaDB 1\d\.\d+\.\d+/)
    expect(err.message).toContain('use mariadb() for it')
  })
})

