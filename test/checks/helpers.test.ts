// The helpers against real servers: HTTP and TLS servers started here, PostgreSQL and Redis
// started by rig itself.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { withScope } from '../../src/checks/context.ts'
import { expectCommand, expectDns, expectEnv, expectHttp, expectPostgres, expectRedis, expectTcp, expectTlsCert } from '../../src/checks/index.ts'
import { defineConfig, postgres, redis, startEnvironment, type Environment } from '../../src/index.ts'
import { startHttp } from './_support.ts'

/** The failure a helper throws, as `{ reason, message }`. */
async function failureOf(p: Promise<unknown> | (() => unknown)): Promise<{ reason?: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    return { reason: (err as { reason?: string }).reason, message: (err as Error).message }
  }
  throw new Error('expected a failure')
}

let api: Awaited<ReturnType<typeof startHttp>>
beforeAll(async () => {
  api = await startHttp((req, res) => {
    if (req.url === '/json') return res.writeHead(200, { 'content-type': 'application/json', 'x-version': '1.2.3' }).end('{"ok":true,"n":3}')
    if (req.url === '/text') return res.writeHead(200, { 'content-type': 'text/plain' }).end('hello world')
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 200)
    if (req.url === '/hang') return
    res.writeHead(500).end('internal error')
  })
})
afterAll(() => api.close())

describe('expectHttp', () => {
  test('status, headers, text and JSON predicates', async () => {
    const seen = await expectHttp(`${api.url}/json`, { status: 200, header: { 'content-type': /json/, 'x-version': true }, text: '"ok"', json: (b) => b.ok && b.n === 3 })
    expect(seen.statusCode).toBe(200)
    expect(seen.latencyMs).toBeGreaterThanOrEqual(0)
  })

  test('each mismatch fails with its reason class', async () => {
    expect(await failureOf(expectHttp(`${api.url}/boom`))).toMatchObject({ reason: 'status', message: expect.stringContaining('answered 500: internal error') })
    expect(await failureOf(expectHttp(`${api.url}/json`, { header: { 'x-missing': true } }))).toMatchObject({ reason: 'assertion', message: expect.stringContaining('no x-missing header') })
    expect(await failureOf(expectHttp(`${api.url}/json`, { header: { 'x-version': /^2\./ } }))).toMatchObject({ reason: 'assertion' })
    expect(await failureOf(expectHttp(`${api.url}/text`, { text: /bye/ }))).toMatchObject({ reason: 'assertion', message: expect.stringContaining('body does not match') })
    expect(await failureOf(expectHttp(`${api.url}/text`, { json: () => true }))).toMatchObject({ reason: 'assertion', message: expect.stringContaining('not JSON') })
    expect(await failureOf(expectHttp(`${api.url}/json`, { json: (b) => b.n === 4 }))).toMatchObject({ reason: 'assertion' })
  })

  test('a latency budget fails an answer slower than it', async () => {
    expect(await failureOf(expectHttp(`${api.url}/slow`, { maxLatency: 20 }))).toMatchObject({ reason: 'timeout', message: expect.stringContaining('over its latency budget of 20 ms') })
  })

  test('a warning latency turns a pass into a warning', async () => {
    const scope = { signal: new AbortController().signal, warnings: [] as string[], notes: [] as string[] }
    await withScope(scope, () => expectHttp(`${api.url}/slow`, { warnLatency: 20 }))
    expect(scope.warnings[0]).toContain('warn above 20 ms')
  })

  test('the running check’s signal aborts the request', async () => {
    const ac = new AbortController()
    const scope = { signal: ac.signal, warnings: [], notes: [] }
    const p = withScope(scope, () => expectHttp(`${api.url}/hang`))
    setTimeout(() => ac.abort(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), 30)
    expect(await failureOf(p)).toMatchObject({ reason: 'timeout' })
  })

  test('a closed port is a connect failure', async () => {
    const dead = await startHttp(() => {})
    await dead.close()
    expect(await failureOf(expectHttp(`${dead.url}/`))).toMatchObject({ reason: 'connect', message: expect.stringContaining('ECONNREFUSED') })
    expect(await failureOf(expectTcp('127.0.0.1', dead.port))).toMatchObject({ reason: 'connect' })
  })
})

describe('expectTcp and expectDns', () => {
  test('an open port passes', async () => {
    expect(await expectTcp('127.0.0.1', api.port)).toBeGreaterThanOrEqual(0)
  })

  test('names resolve, unknown names fail with reason dns', async () => {
    expect(await expectDns('localhost')).not.toHaveLength(0)
    expect(await failureOf(expectDns('localhost', { includes: '10.9.9.9' }))).toMatchObject({ reason: 'dns' })
    expect(await failureOf(expectDns('no-such-host.invalid'))).toMatchObject({ reason: 'dns' })
  })
})

describe('expectTlsCert', () => {
  let server: tls.Server
  let port: number
  let ca: string
  let dir: string
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' })
    ca = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8')
    server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: ca }, (s) => s.end())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  test('a trusted certificate with enough days left passes', async () => {
    const seen = await expectTlsCert(`https://localhost:${port}`, { ca, minDaysLeft: 10 })
    expect(seen.subject).toBe('localhost')
    expect(Math.round(seen.daysLeft)).toBeGreaterThanOrEqual(29)
  })

  test('expiring within N days fails with reason tls', async () => {
    expect(await failureOf(expectTlsCert('localhost', { port, ca, minDaysLeft: 60 }))).toMatchObject({ reason: 'tls', message: expect.stringContaining('under the 60-day minimum') })
  })

  test('an untrusted certificate fails with reason tls', async () => {
    expect(await failureOf(expectTlsCert('localhost', { port }))).toMatchObject({ reason: 'tls' })
  })
})

describe('expectEnv', () => {
  const source = { API_URL: 'https://api.example.com', BAD_URL: 'not a url', PORT: '8080', SECRET: 'hunter2', MODE: 'prod' }
  test('present and well formed passes', () => {
    expectEnv({ API_URL: 'url', PORT: 'port', MODE: ['prod', 'staging'] }, source)
    expectEnv(['API_URL', 'SECRET'], source)
  })
  test('reports every problem at once, never the values', async () => {
    const f = await failureOf(() => expectEnv({ BAD_URL: 'url', MISSING: 'present', PORT: 'bool', SECRET: /^.{32,}$/, MODE: ['dev'] }, source))
    expect(f.reason).toBe('assertion')
    expect(f.message).toBe('BAD_URL does not parse as a URL; MISSING is not set; PORT is not true/false/1/0; SECRET does not match /^.{32,}$/; MODE is not one of dev')
    expect(f.message).not.toContain('hunter2')
  })
})

describe('expectCommand', () => {
  test('exit code and stdout', async () => {
    expect((await expectCommand('echo ready; exit 3', { exitCode: 3, stdout: 'ready' })).exitCode).toBe(3)
    expect(await failureOf(expectCommand(['/bin/sh', '-c', 'echo oops >&2; exit 1']))).toMatchObject({ reason: 'assertion', message: expect.stringContaining('exited with 1, expected 0: oops') })
    expect(await failureOf(expectCommand('echo a', { stdout: /b/ }))).toMatchObject({ reason: 'assertion' })
  })
  test('the check’s signal kills the command', async () => {
    const ac = new AbortController()
    const p = withScope({ signal: ac.signal, warnings: [], notes: [] }, () => expectCommand(['sleep', '30']))
    setTimeout(() => ac.abort(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), 30)
    expect(await failureOf(p)).toMatchObject({ message: 'timed out' })
  })
})

describe('expectPostgres and expectRedis on servers rig starts', () => {
  let env: Environment
  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { db: postgres(), cache: redis() } }))
  }, 120_000)
  afterAll(() => env?.stop())

  test('postgres: query and row predicate', async () => {
    const url = env.services.db?.url as string
    expect(await expectPostgres(url, 'select 41 + 1 as n', { rows: (r) => r[0]?.n === 42 })).toEqual([{ n: 42 }])
    expect(await failureOf(expectPostgres(url, 'select 1 as n', { rows: (r) => r[0]?.n === 2 }))).toMatchObject({ reason: 'assertion' })
    expect(await failureOf(expectPostgres(url, 'select 1 from orders'))).toMatchObject({ message: expect.stringContaining('"orders" does not exist') })
  })

  test('postgres: nothing listening is a connect failure and the password is hidden', async () => {
    const u = new URL(env.services.db?.url as string)
    u.port = String(await freePort())
    u.password = 'sekrit'
    const f = await failureOf(expectPostgres(u.href))
    expect(f.reason).toBe('connect')
    expect(f.message).not.toContain('sekrit')
  })

  test('redis: PING and key exists', async () => {
    const url = env.services.cache?.url as string
    await expectRedis(url)
    expect(await failureOf(expectRedis(url, { key: 'feature-flags' }))).toMatchObject({ reason: 'assertion', message: expect.stringContaining('"feature-flags" does not exist') })
    const { respCommand } = await import('../../src/drivers/resp.ts')
    const u = new URL(url)
    await respCommand('127.0.0.1', Number(u.port), [['AUTH', u.username, u.password], ['SET', 'feature-flags', '{}']])
    await expectRedis(url, { key: 'feature-flags' })
  })

  test('redis: nothing listening is a connect failure', async () => {
    expect(await failureOf(expectRedis(`redis://127.0.0.1:${await freePort()}`))).toMatchObject({ reason: 'connect' })
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}
