// The check server in-process, over real HTTP on 127.0.0.1:0.
import net from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import type { CheckDefinition, CheckFn, CheckOptions } from '../../src/checks/check.ts'
import { startCheckServer, type CheckServer } from '../../src/checks/server/http.ts'
import { CheckService } from '../../src/checks/server/service.ts'

const def = (name: string, fn: CheckFn, options: CheckOptions = {}): CheckDefinition => ({ name, options, fn })
const servers: CheckServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function serve(checks: CheckDefinition[], opts: { token?: string; ttl?: number; deadline?: number } = {}) {
  const service = new CheckService(checks, { ttl: opts.ttl ?? 60_000 })
  const server = await startCheckServer(service, { port: 0, ...(opts.token ? { token: opts.token } : {}), ...(opts.deadline ? { deadline: opts.deadline } : {}) })
  servers.push(server)
  return { service, server, get: (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { headers }) }
}

const auth = { authorization: 'Bearer s3cret' }

describe('GET /health', () => {
  test('without the token: status only; with it: one entry per check with time and output', async () => {
    const { get } = await serve([def('api', () => 'fine', { tags: ['smoke'] }), def('disk', (c) => c.warn('91% full'))], { token: 's3cret' })
    const bare = await get('/health')
    expect(bare.status).toBe(200)
    expect(bare.headers.get('content-type')).toBe('application/health+json')
    expect(await bare.json()).toEqual({ status: 'warn' })
    const detailed = (await (await get('/health', auth)).json()) as any
    expect(detailed.status).toBe('warn')
    expect(detailed.checks.api[0]).toMatchObject({ status: 'pass', observedUnit: 'ms', tags: ['smoke'], time: expect.any(String), ageMs: expect.any(Number) })
    expect(detailed.checks.disk[0]).toMatchObject({ status: 'warn', output: '91% full' })
  })

  test('503 with the reason class when a check fails; dependents show as failed with blockedBy', async () => {
    const { get } = await serve([def('db', () => Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))), def('api', () => {}, { dependsOn: ['db'] })])
    const res = await get('/health')
    expect(res.status).toBe(503)
    const body = (await res.json()) as any
    expect(body.checks.db[0]).toMatchObject({ status: 'fail', reason: 'connect' })
    expect(body.checks.api[0]).toMatchObject({ status: 'fail', blockedBy: ['db'] })
  })

  test('a wrong token is refused, never treated as "no token"', async () => {
    const { get } = await serve([def('a', () => {})], { token: 's3cret' })
    const res = await get('/health', { authorization: 'Bearer nope' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect((await get('/health', { authorization: 'Basic abc' })).status).toBe(401)
  })

  test('results are cached: concurrent callers share one run, later ones get the cached result with its age', async () => {
    let runs = 0
    const { get, service } = await serve([def('counted', async () => void runs++)])
    await Promise.all(Array.from({ length: 8 }, () => get('/health').then((r) => r.json())))
    const again = (await (await get('/health')).json()) as any
    expect(runs).toBe(1)
    expect(service.runs).toBe(1)
    expect(again.checks.counted[0].ageMs).toBeGreaterThanOrEqual(0)
  })

  test('with a TTL of 0 every request runs the check again', async () => {
    let runs = 0
    const { get } = await serve([def('counted', async () => void runs++)], { ttl: 0 })
    await get('/health')
    await get('/health')
    expect(runs).toBe(2)
  })

  test('the request deadline returns partial results, unfinished checks marked as timed out', async () => {
    const { get } = await serve([def('quick', () => {}), def('stuck', () => new Promise(() => {}), { timeout: 30_000 })])
    const res = await get('/health?deadline=100')
    expect(res.status).toBe(503)
    const body = (await res.json()) as any
    expect(body.checks.quick[0].status).toBe('pass')
    expect(body.checks.stuck[0]).toMatchObject({ status: 'fail', reason: 'timeout', output: expect.stringContaining('request deadline of 100 ms') })
    expect(body.notes[0]).toMatch(/partial/)
  })

  test('?tag= narrows to a tier', async () => {
    const { get } = await serve([def('smoke1', () => {}, { tags: ['smoke'] }), def('deep', () => false, { tags: ['diagnostic'] })])
    const res = await get('/health?tag=smoke')
    expect(res.status).toBe(200)
    expect(Object.keys(((await res.json()) as any).checks)).toEqual(['smoke1'])
  })
})

describe('the warm path replays prepared answers while their results hold', () => {
  const ageOf = (body: any, name: string): number => body.checks[name][0].ageMs

  test('until a result leaves its TTL: then the check runs again and the answer changes', async () => {
    let runs = 0
    const { get } = await serve([def('flips', (c) => (runs++ === 0 ? undefined : c.warn('now degraded')))], { ttl: 1000 })
    expect(await (await get('/health')).json()).toMatchObject({ status: 'pass' })
    expect(await (await get('/health')).json()).toMatchObject({ status: 'pass' })
    expect(runs).toBe(1)
    await new Promise((r) => setTimeout(r, 1100))
    expect(await (await get('/health')).json()).toMatchObject({ status: 'warn', checks: { flips: [{ output: 'now degraded' }] } })
    expect(runs).toBe(2)
  })

  test('the shortest TTL among the checks of an answer decides how long it is replayed', async () => {
    let runs = 0
    const { get } = await serve([def('config', () => {}), def('db', () => (runs++ === 0 ? undefined : false), { ttl: 800 })])
    expect((await get('/health')).status).toBe(200)
    expect((await get('/health')).status).toBe(200)
    expect(runs).toBe(1)
    await new Promise((r) => setTimeout(r, 900))
    const res = await get('/health')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ checks: { db: [{ status: 'fail' }], config: [{ status: 'pass' }] } })
  })

  test('each check keeps its own age, which grows between replays, whatever its name or output', async () => {
    const tricky = 'says "ageMs": -1e-300 and "ageMs": 5'
    const { get } = await serve([def('b-first', () => tricky), def('10', () => new Promise<void>((r) => setTimeout(r, 200))), def('ageMs', () => {})])
    const first = (await (await get('/health')).json()) as any
    expect(Object.keys(first.checks)).toEqual(['10', 'b-first', 'ageMs'])
    // `10` finished about 200 ms after the others, so it is younger by about as much.
    expect(ageOf(first, 'b-first') - ageOf(first, '10')).toBeGreaterThanOrEqual(150)
    await new Promise((r) => setTimeout(r, 60))
    const again = (await (await get('/health')).json()) as any
    for (const name of ['10', 'b-first', 'ageMs']) expect(ageOf(again, name) - ageOf(first, name), name).toBeGreaterThanOrEqual(50)
    // Each age is rounded to the ms on its own.
    expect(Math.abs(ageOf(again, 'b-first') - ageOf(again, '10') - (ageOf(first, 'b-first') - ageOf(first, '10')))).toBeLessThanOrEqual(1)
    const { checks, ...rest } = again
    expect(rest).toEqual({ status: 'pass', description: 'rig checks' })
    expect(checks['b-first'][0]).toMatchObject({ status: 'pass', tags: [], observedUnit: 'ms' })
    expect(again.checks['10'][0].time).toBe(first.checks['10'][0].time)
  })

  test('a bad token on a URL answered before is still refused; HEAD gets the headers of GET', async () => {
    const { get, server } = await serve([def('a', () => {})], { token: 's3cret' })
    const good = await get('/health', auth)
    const text = await good.text()
    expect(good.status).toBe(200)
    expect((await get('/health', { authorization: 'Bearer nope' })).status).toBe(401)
    expect(await (await get('/health')).json()).toEqual({ status: 'pass' })
    const head = await fetch(`${server.url}/health`, { method: 'HEAD', headers: auth })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get('content-length'))).toBeGreaterThanOrEqual(Buffer.byteLength(text) - 2)
    expect(await head.text()).toBe('')
  })

  test('a Host accepted once does not open the door to others', async () => {
    const { server, get } = await serve([def('a', () => {})])
    expect((await get('/health')).status).toBe(200)
    const evil = await new Promise<string>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write(`GET /health HTTP/1.1\r\nHost: evil.example:${server.port}\r\nConnection: close\r\n\r\n`))
      let got = ''
      s.on('data', (d) => (got += d.toString()))
      s.on('close', () => resolve(got))
    })
    expect(evil).toMatch(/^HTTP\/1\.1 403/)
  })
})

describe('security', () => {
  test('checks that write or are expensive never run over HTTP', async () => {
    let ran = 0
    const { get } = await serve([def('migrates', () => void ran++, { writes: true }), def('full scan', () => void ran++, { expensive: true }), def('after write', () => void ran++, { dependsOn: ['migrates'] }), def('ok', () => {})])
    const health = (await (await get('/health')).json()) as any
    expect(Object.keys(health.checks)).toEqual(['ok'])
    const all = (await (await get('/checks')).json()) as any
    expect(all.results.map((r: { name: string; status: string }) => [r.name, r.status])).toEqual([
      ['migrates', 'skipped'],
      ['full scan', 'skipped'],
      ['after write', 'skipped'],
      ['ok', 'pass'],
    ])
    expect(ran).toBe(0)
  })

  test('/checks and /metrics need the token when one is set', async () => {
    const { get } = await serve([def('a', () => {})], { token: 's3cret' })
    expect((await get('/checks')).status).toBe(401)
    expect((await get('/metrics')).status).toBe(401)
    expect((await get('/checks', auth)).status).toBe(200)
  })

  test('the dashboard shows details only with access, and loads nothing from elsewhere', async () => {
    const { get } = await serve([def('api <main>', () => {})], { token: 's3cret' })
    const bare = await (await get('/')).text()
    expect(bare).toContain('<h1>pass</h1>')
    expect(bare).not.toContain('api')
    const res = await get('/', auth)
    const html = await res.text()
    expect(html).toContain('<meta http-equiv="refresh"')
    expect(html).toContain('api &lt;main&gt;')
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
  })
})

describe('GET /metrics and /checks', () => {
  test('Prometheus text with success, duration and last run time per check', async () => {
    const { get } = await serve([def('api "v2"', () => {}), def('db', () => false)])
    const text = await (await get('/metrics')).text()
    expect(text).toContain('# TYPE rig_check_success gauge')
    expect(text).toContain('rig_check_success{check="api \\"v2\\""} 1')
    expect(text).toContain('rig_check_success{check="db",reason="assertion"} 0')
    expect(text).toMatch(/rig_check_duration_seconds\{check="db",reason="assertion"\} \d/)
    expect(text).toMatch(/rig_check_last_run_timestamp_seconds\{check="db",reason="assertion"\} \d{10}/)
    expect(text).toContain('rig_checks_status 0')
  })

  test('/checks has the full results with ages and run count', async () => {
    const { get } = await serve([def('a', () => 'x')])
    const body = (await (await get('/checks')).json()) as any
    expect(body).toMatchObject({ status: 'pass', partial: false, runs: 1, results: [{ name: 'a', status: 'pass', detail: 'x', ageMs: expect.any(Number) }] })
  })
})

describe('malformed requests get a 4xx and the server keeps answering', () => {
  test('methods, paths and query parameters', async () => {
    const { server, get } = await serve([def('a', () => {}, { tags: ['smoke'] })])
    const post = await fetch(`${server.url}/health`, { method: 'POST', body: 'x' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect((await get('/nope')).status).toBe(404)
    expect((await get('/health?deadline=abc')).status).toBe(400)
    expect((await get('/health?deadline=0')).status).toBe(400)
    expect((await get('/health?deadline=99999999')).status).toBe(400)
    const badTag = await get('/health?tag=smok')
    expect(badTag.status).toBe(400)
    expect(((await badTag.json()) as any).error).toContain('did you mean "smoke"')
    expect((await get('/health?foo=1')).status).toBe(400)
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect((await get('/health')).status).toBe(200)
  })

  test('bytes that are not HTTP, and oversized headers', async () => {
    const { server, get } = await serve([def('a', () => {})])
    const raw = (payload: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(server.port, '127.0.0.1', () => s.write(payload))
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('close', () => resolve(got))
        s.on('error', () => resolve(got))
      })
    expect(await raw('\x00\x01garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/)
    expect(await raw(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/)
    expect(await raw(`GET http://[bad HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 (400|404)/)
    expect(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 403/)
    expect((await get('/health')).status).toBe(200)
  })

  test('a port already in use is a clear error', async () => {
    const { server } = await serve([def('a', () => {})])
    const err = await startCheckServer(new CheckService([def('b', () => {})], { ttl: 1 }), { port: server.port }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'RIG_PORT_IN_USE', exitCode: 2, message: expect.stringContaining(`port ${server.port} on 127.0.0.1 is already in use`) })
  })
})
