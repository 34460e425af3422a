// `rig serve` facing a hostile network, over real HTTP: DNS rebinding (a foreign Host on a
// loopback bind), binding a public address without saying so or without a token, and idle
// connections that must not pile up.
import http from 'node:http'
import net from 'node:net'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import type { CheckDefinition } from '../../src/checks/check.ts'
import { startCheckServer, type CheckServer, type CheckServerOptions } from '../../src/checks/server/http.ts'
import { CheckService } from '../../src/checks/server/service.ts'
import { cleanProjects, rig, serveProcess, tempProject } from './_support.ts'

const checks: CheckDefinition[] = [{ name: 'api', options: {}, fn: () => 'fine' }]
const servers: CheckServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})
afterAll(() => cleanProjects())

async function serve(options: CheckServerOptions = {}): Promise<CheckServer> {
  const s = await startCheckServer(new CheckService(checks, { ttl: 60_000 }), { port: 0, ...options })
  servers.push(s)
  return s
}

/** GET with a Host header of our choosing, as a rebinding page in a browser would send it. */
function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { host, connection: 'close', ...headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('DNS rebinding: a loopback bind answers only loopback names', () => {
  test('a foreign Host gets 403 on every route, details included; loopback names with the port are served', async () => {
    const s = await serve()
    for (const route of ['/checks', '/health', '/metrics', '/']) {
      const r = await get(s.port, route, `evil.example:${s.port}`)
      expect(r.status, route).toBe(403)
      expect(r.body).toContain('Host \\"evil.example:')
      expect(r.body).toContain('DNS rebinding protection')
      expect(r.body).not.toContain('fine')
    }
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `LOCALHOST:${s.port}`, `[::1]:${s.port}`]) {
      const r = await get(s.port, '/checks', host)
      expect(r.status, host).toBe(200)
      expect(r.body).toContain('fine')
    }
    // The right name with another port, or a name that only starts like one, is not the server.
    expect((await get(s.port, '/health', `127.0.0.1:${s.port + 1}`)).status).toBe(403)
    expect((await get(s.port, '/health', `localhost.evil.example:${s.port}`)).status).toBe(403)
    expect((await get(s.port, '/health', '127.0.0.1')).status).toBe(403)
  })

  test('--allow-host adds names (any port, or the one given)', async () => {
    const s = await serve({ allowHosts: ['checks.internal', 'proxy.local:8443'] })
    expect((await get(s.port, '/checks', 'checks.internal')).status).toBe(200)
    expect((await get(s.port, '/checks', 'Checks.Internal:9999')).status).toBe(200)
    expect((await get(s.port, '/checks', 'proxy.local:8443')).status).toBe(200)
    expect((await get(s.port, '/checks', 'proxy.local:8444')).status).toBe(403)
    expect((await get(s.port, '/checks', 'other.internal')).status).toBe(403)
  })
})

describe('a non-loopback bind is explicit and needs a token', () => {
  test('refused without public, and without a token', async () => {
    const a = await startCheckServer(new CheckService(checks, { ttl: 1 }), { host: '0.0.0.0', port: 0 }).catch((e: unknown) => e)
    expect(a).toMatchObject({ code: 'RIG_SERVE_PUBLIC', exitCode: 2, message: expect.stringContaining('0.0.0.0 is not a loopback address') })
    const b = await startCheckServer(new CheckService(checks, { ttl: 1 }), { host: '0.0.0.0', port: 0, public: true }).catch((e: unknown) => e)
    expect(b).toMatchObject({ code: 'RIG_SERVE_PUBLIC', message: expect.stringContaining('needs a token') })
  })

  test('public with a token: status for anyone, details with the token, any Host unless names are listed', async () => {
    const s = await serve({ host: '0.0.0.0', public: true, token: 's3cret' })
    expect(await get(s.port, '/health', 'monitor.example')).toEqual({ status: 200, body: expect.stringContaining('"status": "pass"') })
    expect((await get(s.port, '/checks', 'monitor.example')).status).toBe(401)
    expect((await get(s.port, '/checks', 'monitor.example', { authorization: 'Bearer s3cret' })).status).toBe(200)
    const listed = await serve({ host: '0.0.0.0', public: true, token: 's3cret', allowHosts: ['monitor.example'] })
    expect((await get(listed.port, '/health', 'monitor.example')).status).toBe(200)
    expect((await get(listed.port, '/health', 'evil.example')).status).toBe(403)
  })

  test('through the CLI: --host 0.0.0.0 exits 2 without --public or without a token', async () => {
    const dir = tempProject({ 'checks/a.check.ts': "import { check } from '$CHECKS'\ncheck('ok', () => true)\n" })
    const noFlag = await rig(['serve', '--host', '0.0.0.0', '--port', '0'], dir, { RIG_CHECK_TOKEN: 'tok' })
    expect(noFlag.code).toBe(2)
    expect(noFlag.stderr).toContain('Pass --public')
    const noToken = await rig(['serve', '--host', '0.0.0.0', '--public', '--port', '0'], dir, { RIG_CHECK_TOKEN: '' })
    expect(noToken.code).toBe(2)
    expect(noToken.stderr).toContain('needs a token')
    const ok = await serveProcess(['--host', '0.0.0.0', '--public', '--port', '0', '--allow-host', 'mon.example'], dir, { RIG_CHECK_TOKEN: 'tok' })
    try {
      const port = Number(new URL(ok.url).port)
      expect((await get(port, '/health', 'mon.example')).status).toBe(200)
      expect((await get(port, '/health', 'evil.example')).status).toBe(403)
    } finally {
      expect(await ok.stop('SIGINT')).toBe(130)
    }
  })
})

describe('idle connections do not pile up', () => {
  /** Opens a raw connection, optionally sends `payload`; resolves with ms until the server closed it. */
  const closedAfter = (port: number, payload?: string): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now()
      const c = net.connect(port, '127.0.0.1', () => payload && c.write(payload))
      c.on('data', () => {})
      c.on('error', () => {})
      c.on('close', () => resolve(performance.now() - t0))
    })

  test('a kept-alive connection after its answer, one that never sends a request, and one stuck in its headers are all closed', async () => {
    const s = await serve()
    const [keptAlive, silent, partial] = await Promise.all([
      closedAfter(s.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`),
      closedAfter(s.port),
      closedAfter(s.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`),
    ])
    // Node's defaults kept such sockets 30 s or more; the server's own limits are 2 s and 5 s.
    expect(keptAlive).toBeLessThan(15_000)
    expect(silent).toBeLessThan(20_000)
    expect(partial).toBeLessThan(20_000)
  })

  test('close() ends idle connections at once and lets an answer in flight finish', async () => {
    const slow: CheckDefinition[] = [{ name: 'slow', options: {}, fn: () => new Promise((r) => setTimeout(r, 300)) }]
    const s = await startCheckServer(new CheckService(slow, { ttl: 0 }), { port: 0 })
    const idle = closedAfter(s.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`)
    // Let the idle one get its answer first.
    await new Promise((r) => setTimeout(r, 500))
    const inFlight = get(s.port, '/health', `127.0.0.1:${s.port}`)
    await new Promise((r) => setTimeout(r, 50))
    const t0 = performance.now()
    await s.close()
    expect((await inFlight).status).toBe(200)
    expect(await idle).toBeLessThan(performance.now() - t0 + 1000)
    expect(performance.now() - t0).toBeLessThan(5000)
  })
})
