// The front proxy against real servers: every public service by name through one port, with
// keep-alive, streamed bodies, cookies and WebSocket upgrades; unknown names, stopped services,
// restarts, and the port staying the same across runs.
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { command, http as httpProbe, redis, type Environment } from '../../src/index.ts'
import { defaultFrontPort } from '../../src/front/plan.ts'
import { localhostLookup, resolveLocalhost } from '../../src/front/localhost.ts'
import { freePort } from '../../src/providers/process/ports.ts'
import { assertNothingLeft, start } from '../support/env.ts'

const app = path.join(import.meta.dirname, 'fixtures/app.mjs')
const svc = (name: string) => command({ run: [process.execPath, app], env: { PORT: '{port}', NAME: name }, ready: httpProbe('/health') })
const project = `front-${process.pid}`

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

/** One request with a given Host header, straight to the proxy's port. */
function get(port: number, host: string, p = '/', headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, headers: { host, ...headers }, agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      })
      .on('error', reject)
  })
}

describe('Node and *.localhost', () => {
  it('localhostLookup answers names under .localhost with loopback, and resolveLocalhost() makes fetch use it', async () => {
    const addr = await new Promise<string>((resolve, reject) => localhostLookup('api.x.localhost', (err, a) => (err ? reject(err) : resolve(a as string))))
    expect(['127.0.0.1', '::1']).toContain(addr)
    const srv = http.createServer((req, res) => res.end(req.headers.host)).listen(0, '127.0.0.1')
    await new Promise((r) => srv.once('listening', r))
    const port = (srv.address() as net.AddressInfo).port
    resolveLocalhost()
    expect(await (await fetch(`http://web.x.localhost:${port}/`)).text()).toBe(`web.x.localhost:${port}`)
    await new Promise((r) => srv.close(r))
  })
})

describe('routing by name', () => {
  let port = 0
  beforeAll(async () => {
    resolveLocalhost()
    port = await freePort()
  })

  it('serves every public service under <service>.<project>.localhost, exports the public URLs to every process and to tests', async () => {
    env = await start({ project, front: { port }, services: { api: svc('api'), web: svc('web'), worker: command({ run: 'sleep 600' }), cache: redis() } })
    const apiUrl = `http://api.${project}.localhost:${port}`
    const webUrl = `http://web.${project}.localhost:${port}`
    expect(env.vars()).toMatchObject({ RIG_API_PUBLIC_URL: apiUrl, RIG_WEB_PUBLIC_URL: webUrl })
    expect(env.vars().RIG_WORKER_PUBLIC_URL).toBeUndefined()
    expect(env.toJSON().front).toEqual({ project, port, tls: false, urls: { api: apiUrl, web: webUrl } })
    const body = (await (await fetch(`${webUrl}/hi?x=1`)).json()) as Record<string, unknown>
    // web does not depend on api, yet knows its public URL (CORS origins, API addresses).
    expect(body).toMatchObject({ service: 'web', url: '/hi?x=1', host: `web.${project}.localhost:${port}`, proto: 'http', forwardedHost: `web.${project}.localhost:${port}` })
    expect(body.publicUrls).toMatchObject({ RIG_API_PUBLIC_URL: apiUrl, RIG_WEB_PUBLIC_URL: webUrl })
    expect(((await (await fetch(`${apiUrl}/`)).json()) as { service: string }).service).toBe('api')
    // Host names are case-insensitive.
    expect(JSON.parse((await get(port, `API.${project.toUpperCase()}.localhost:${port}`)).text).service).toBe('api')
  })

  it('keeps connections alive, routes each request of one connection by its own Host, and passes cookies through', async () => {
    env = await start({ project, front: { port }, services: { api: svc('api'), web: svc('web') } })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const reused: boolean[] = []
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: `api.${project}.localhost`, port, path: '/', agent, lookup: localhostLookup }, (res) => {
          reused.push(req.reusedSocket)
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
      })
    }
    agent.destroy()
    expect(reused).toEqual([false, true, true])
    // Two requests, two hosts, one connection.
    const sock = net.connect(port, '127.0.0.1')
    let raw = ''
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => (raw += d))
    sock.write(`GET /a HTTP/1.1\r\nHost: api.${project}.localhost:${port}\r\n\r\nGET /b HTTP/1.1\r\nHost: web.${project}.localhost:${port}\r\nConnection: close\r\n\r\n`)
    await new Promise((r) => sock.on('close', r))
    expect(raw).toMatch(/"service":"api".*"url":"\/a"[\s\S]*"service":"web".*"url":"\/b"/)
    const c = await fetch(`http://api.${project}.localhost:${port}/cookie`)
    expect(c.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/; HttpOnly'])
  })

  it('streams bodies both ways: a response arrives chunk by chunk, a large request body comes back whole', async () => {
    env = await start({ project, front: { port }, services: { api: svc('api') } })
    const base = `http://api.${project}.localhost:${port}`
    const res = await fetch(`${base}/stream`)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    // The server holds the rest until /release: this chunk came through before the response ended.
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('first;')
    await fetch(`${base}/release`)
    let rest = ''
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString()
    expect(rest).toBe('last')
    const big = Buffer.alloc(3 * 1024 * 1024, 'x')
    big.write('start', 0)
    big.write('end', big.length - 3)
    const echoed = Buffer.from(await (await fetch(`${base}/echo`, { method: 'POST', body: big })).arrayBuffer())
    expect(echoed.length).toBe(big.length)
    expect(echoed.equals(big)).toBe(true)
  })

  it('passes a WebSocket upgrade through, both ways', async () => {
    env = await start({ project, front: { port }, services: { api: svc('api') } })
    const key = randomBytes(16).toString('base64')
    const sock = net.connect(port, '127.0.0.1')
    sock.write(`GET /socket HTTP/1.1\r\nHost: api.${project}.localhost:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    let got = Buffer.alloc(0)
    const until = (test: (b: Buffer) => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const on = (d: Buffer): void => {
          got = Buffer.concat([got, d])
          if (test(got)) {
            sock.off('data', on)
            resolve()
          }
        }
        sock.on('data', on)
        sock.once('close', () => reject(new Error(`closed after ${JSON.stringify(got.toString('latin1'))}`)))
      })
    await until((b) => b.includes('\r\n\r\n'))
    const head = got.toString('latin1')
    expect(head).toMatch(/^HTTP\/1.1 101 /)
    expect(head).toContain(`Sec-WebSocket-Accept: ${createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC65B11`).digest('base64')}`)
    got = Buffer.alloc(0)
    // A masked text frame "hello", as a browser sends it.
    const mask = randomBytes(4)
    const text = Buffer.from('hello').map((b, i) => b ^ (mask[i % 4] as number))
    sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | 5]), mask, text]))
    const expected = `hello from api at api.${project}.localhost:${port}`
    await until((b) => b.length >= 2 + expected.length)
    expect(got[0]).toBe(0x81)
    expect(got.subarray(2).toString()).toBe(expected)
    sock.destroy()
  })

  it('answers an unknown name with a 404 listing the known ones, and a stopped service with a 502 saying so; a restart keeps the name working', async () => {
    env = await start({ project, front: { port }, services: { api: svc('api'), web: svc('web') } })
    const unknown = await get(port, `nope.${project}.localhost:${port}`)
    expect(unknown.status).toBe(404)
    expect(unknown.text).toContain(`no service at nope.${project}.localhost:${port}`)
    expect(unknown.text).toContain(`http://api.${project}.localhost:${port}  (api, ready)`)
    expect(unknown.text).toContain(`http://web.${project}.localhost:${port}  (web, ready)`)
    const page = await get(port, `localhost:${port}`, '/', { accept: 'text/html' })
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.text).toContain(`<a href="http://api.${project}.localhost:${port}">`)
    await env.get('web').stop()
    const down = await get(port, `web.${project}.localhost:${port}`)
    expect(down.status).toBe(502)
    expect(down.text).toContain('"web" is stopped')
    expect(down.text).toContain('rig logs web')
    await env.get('web').restart()
    expect(JSON.parse((await get(port, `web.${project}.localhost:${port}`)).text).service).toBe('web')
  })
})

describe('the port', () => {
  it('is derived from the project name when not set: the same on every run', async () => {
    const name = `stable-${process.pid}`
    const expected = defaultFrontPort(name)
    expect(expected).toBeGreaterThanOrEqual(20000)
    expect(expected).toBeLessThan(30000)
    expect(defaultFrontPort(name)).toBe(expected)
    expect(defaultFrontPort(`${name}x`)).not.toBe(expected)
    for (let run = 0; run < 2; run++) {
      env = await start({ project: name, front: true, services: { api: svc('api') } })
      expect(env.vars().RIG_API_PUBLIC_URL).toBe(`http://api.${name}.localhost:${expected}`)
      expect(JSON.parse((await get(expected, `api.${name}.localhost`)).text).service).toBe('api')
      await env.stop()
      env = undefined
    }
  })
})
