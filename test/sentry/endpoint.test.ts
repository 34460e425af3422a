// The sentry() endpoint against requests built as Sentry's envelope and store formats document
// them: what it accepts (compressed, every way of authenticating), the line each event becomes,
// and what it refuses (malformed envelopes, a DSN of another project or run, a flood), counted.
import zlib from 'node:zlib'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { sentry, type Environment } from '../../src/index.ts'
import { sentryKind } from '../../src/services/sentry/index.ts'
import type { SentryStats } from '../../src/services/sentry/server.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { waitUntil } from '../support/procs.ts'

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const event = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_id: id,
  level: 'error',
  platform: 'node',
  environment: 'test',
  exception: {
    values: [
      {
        type: 'TypeError',
        value: `cannot read properties of undefined (${id})`,
        stacktrace: {
          frames: [
            { function: 'main', filename: '/app/server.js', lineno: 40, colno: 3, in_app: true },
            { function: 'Layer.handle', filename: '/app/node_modules/express/lib/router/layer.js', lineno: 95, colno: 5, in_app: false },
            { function: 'route', filename: '/app/server.js', lineno: 30, colno: 9, in_app: true },
            { function: 'handler', filename: '/app/server.js', lineno: 12, colno: 17, in_app: true },
          ],
        },
      },
    ],
  },
  ...extra,
})

/** An envelope: header line, then per item a header line and its payload (with `length` for the first). */
function envelope(header: Record<string, unknown>, items: { type: string; payload: unknown }[]): Buffer {
  const parts = [JSON.stringify(header)]
  items.forEach((it, i) => {
    const payload = JSON.stringify(it.payload)
    parts.push(JSON.stringify(i === 0 ? { type: it.type, length: Buffer.byteLength(payload) } : { type: it.type }), payload)
  })
  return Buffer.from(parts.join('\n') + '\n')
}

async function post(path: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`${env?.get('sentry').url}${path}`, { method: 'POST', body: new Uint8Array(body), headers })
  return { status: r.status, json: (await r.json()) as Record<string, unknown>, headers: r.headers }
}

const stats = async (): Promise<SentryStats> => (await (await fetch(`${env?.get('sentry').url}/stats`)).json()) as SentryStats
const lines = (): string[] => env?.get('sentry').logs.texts() ?? []
const dsnOf = (): URL => new URL(env?.vars().SENTRY_DSN ?? '')

describe('sentry(): what it accepts', () => {
  it('exports the DSN as SENTRY_DSN and RIG_<NAME>_DSN; takes envelopes and store requests, gzip, deflate or plain, authenticated by query, header or the envelope dsn; each event is one line', async () => {
    env = await start({ services: { sentry: sentry({ project: 42 }) } })
    const vars = env.vars()
    expect(vars.SENTRY_DSN).toMatch(/^http:\/\/[0-9a-f]{32}@127\.0\.0\.1:\d+\/42$/)
    expect(vars.RIG_SENTRY_DSN).toBe(vars.SENTRY_DSN)
    const dsn = dsnOf()
    const key = dsn.username

    // What @sentry/node sends: the key in the query string, the body gzip'd when large.
    const a = await post(`/api/42/envelope/?sentry_version=7&sentry_key=${key}&sentry_client=sentry.javascript.node%2F11`, zlib.gzipSync(envelope({ event_id: 'a1', sent_at: new Date().toISOString() }, [{ type: 'event', payload: event('aaaaaaaa11') }, { type: 'session', payload: { status: 'ok' } }])), { 'content-encoding': 'gzip', 'content-type': 'application/x-sentry-envelope' })
    expect(a).toMatchObject({ status: 200, json: { id: 'aaaaaaaa11' } })
    // Other SDKs: X-Sentry-Auth, deflate.
    const b = await post('/api/42/envelope/', zlib.deflateSync(envelope({}, [{ type: 'event', payload: event('bbbbbbbb22', { level: 'fatal' }) }])), { 'content-encoding': 'deflate', 'x-sentry-auth': `Sentry sentry_version=7, sentry_client=sentry.python/2.0, sentry_key=${key}` })
    expect(b.status).toBe(200)
    // The key only in the envelope header's dsn; a plain message at level warning (not an error line).
    const c = await post('/api/42/envelope/', envelope({ dsn: dsn.toString() }, [{ type: 'event', payload: { event_id: 'cccccccc33', level: 'warning', message: 'cache miss storm' } }]))
    expect(c.status).toBe(200)
    // The legacy store endpoint: one event as JSON, and old SDKs' base64 of zlib data.
    const d = await post(`/api/42/store/?sentry_key=${key}`, Buffer.from(JSON.stringify({ event_id: 'dddddddd44', message: { formatted: 'payment failed for order 7' } })))
    const e = await post(`/api/42/store/`, Buffer.from(zlib.deflateSync(JSON.stringify(event('eeeeeeee55'))).toString('base64')), { 'x-sentry-auth': `Sentry sentry_key=${key}` })
    expect([d.status, e.status]).toEqual([200, 200])

    await waitUntil(() => lines().filter((l) => /^(error|fatal|warning) /.test(l)).length === 5)
    expect(lines().filter((l) => /^(error|fatal|warning) /.test(l))).toEqual([
      'error TypeError: cannot read properties of undefined (aaaaaaaa11) at handler (/app/server.js:12:17) < route (/app/server.js:30:9) < main (/app/server.js:40:3) [event aaaaaaaa, environment test]',
      'fatal TypeError: cannot read properties of undefined (bbbbbbbb22) at handler (/app/server.js:12:17) < route (/app/server.js:30:9) < main (/app/server.js:40:3) [event bbbbbbbb, environment test]',
      'warning cache miss storm [event cccccccc]',
      'error payment failed for order 7 [event dddddddd]',
      'error TypeError: cannot read properties of undefined (eeeeeeee55) at handler (/app/server.js:12:17) < route (/app/server.js:30:9) < main (/app/server.js:40:3) [event eeeeeeee, environment test]',
    ])
    expect(await stats()).toEqual({ accepted: 5, dropped: 0, rejected: 0, byStatus: {}, otherItems: { session: 1 } })
    // The kind's error pattern: error and fatal lines fail a test, a warning does not.
    const patterns = sentryKind.errorPatterns ?? []
    expect(lines().filter((l) => patterns.some((p) => p.test(l))).map((l) => l.split(' ')[0])).toEqual(['error', 'fatal', 'error', 'error'])
  })
})

describe('sentry(): bad input', () => {
  it('a malformed envelope gets 400 with the reason, counted, and an error line; so does a body that does not inflate', async () => {
    env = await start({ services: { sentry: sentry() } })
    const key = dsnOf().username
    const q = `?sentry_key=${key}`
    const cases: [Buffer, RegExp, Record<string, string>?][] = [
      [Buffer.from('not json\n'), /malformed envelope: the envelope header \(first line\) is not JSON/],
      [Buffer.from('{}\n{"type":"event","length":500}\n{"event_id":"x"}\n'), /malformed envelope: item 1 says "length": 500 but only \d+ bytes follow/],
      [Buffer.from('{}\n{"length":2}\n{}\n'), /malformed envelope: item 1's header has no "type"/],
      [Buffer.from('{}\n{"type":"event"}\n{"event_id": oops}\n'), /malformed envelope: item 1's event is not JSON/],
      [Buffer.from('{}\n{"type":"event"}\n'), /malformed envelope: item 1 has a header but no payload|item 1's event is not JSON/],
      [Buffer.from('garbage, not gzip'), /body is not valid gzip data/, { 'content-encoding': 'gzip' }],
      [Buffer.from('{}'), /unsupported Content-Encoding "compress"/, { 'content-encoding': 'compress' }],
    ]
    for (const [body, reason, headers] of cases) {
      const r = await post(`/api/1/envelope/${q}`, body, headers)
      expect(r.status, String(reason)).toBe(/Content-Encoding/.test(String(reason)) ? 415 : 400)
      expect(String(r.json.detail)).toMatch(reason)
    }
    expect(await stats()).toMatchObject({ accepted: 0, rejected: cases.length, byStatus: { 400: cases.length - 1, 415: 1 } })
    await waitUntil(() => lines().filter((l) => l.startsWith('error rejected envelope')).length === cases.length)
    expect(lines().find((l) => l.startsWith('error rejected'))).toMatch(/^error rejected envelope \(400\): malformed envelope: the envelope header/)
  })

  it('a DSN of another project gets 403, another run\'s key 401, no key 401: each says which variable holds the right DSN', async () => {
    env = await start({ services: { reports: sentry({ project: '7' }) } })
    const key = new URL(env.vars().RIG_REPORTS_DSN ?? '').username
    const body = envelope({}, [{ type: 'event', payload: event('ffffffff66') }])
    const url = env.get('reports').url
    const send = async (path: string): Promise<[number, string]> => {
      const r = await fetch(url + path, { method: 'POST', body: new Uint8Array(body) })
      return [r.status, String(((await r.json()) as { detail: string }).detail)]
    }
    expect(await send(`/api/8/envelope/?sentry_key=${key}`)).toEqual([403, 'project "8" is not this endpoint\'s: it takes project 7; send with the DSN in SENTRY_DSN or RIG_REPORTS_DSN'])
    expect(await send('/api/7/envelope/?sentry_key=0123456789abcdef0123456789abcdef')).toEqual([401, 'sentry_key "0123456789abcdef0123456789abcdef" is not this endpoint\'s (a DSN of another run?): send with the DSN in SENTRY_DSN or RIG_REPORTS_DSN'])
    expect((await send('/api/7/envelope/'))[0]).toBe(401)
    expect((await send(`/api/7/events/?sentry_key=${key}`))[0]).toBe(404)
    const s = (await (await fetch(`${url}/stats`)).json()) as SentryStats
    expect(s).toMatchObject({ accepted: 0, rejected: 3, byStatus: { 401: 2, 403: 1 } })
  })

  it('a flood is dropped beyond maxEventsPerSecond: 429 with Sentry\'s rate-limit header, every drop counted, told in one error line', async () => {
    env = await start({ services: { sentry: sentry({ maxEventsPerSecond: 5 }) } })
    const key = dsnOf().username
    const items = Array.from({ length: 50 }, (_, i) => ({ type: 'event', payload: event(`f1${String(i).padStart(8, '0')}`) }))
    const r = await post(`/api/1/envelope/?sentry_key=${key}`, envelope({}, items))
    expect(r.status).toBe(429)
    expect(r.headers.get('x-sentry-rate-limits')).toBe('1::organization')
    expect(r.headers.get('retry-after')).toBe('1')
    const s = await stats()
    // All 50 are accounted for; a few may be let through by the refill while the request is read.
    expect(s.accepted + s.dropped).toBe(50)
    expect(s.dropped).toBeGreaterThanOrEqual(40)
    await waitUntil(() => lines().some((l) => l.startsWith('error dropped')))
    const told = lines().filter((l) => l.startsWith('error dropped'))
    expect(told[0]).toMatch(new RegExp(`^error dropped ${s.dropped} event\\(s\\) over the limit of 5 a second \\(${s.dropped} so far\\): the app sends them in a loop; fix it, or raise maxEventsPerSecond$`))
    // Bounded in lines too: the accepted events and one note.
    expect(lines().filter((l) => l.startsWith('error TypeError')).length).toBe(s.accepted)
  })

  it('a body over maxBodyBytes, also once decompressed, gets 413', async () => {
    env = await start({ services: { sentry: sentry({ maxBodyBytes: 10_000 }) } })
    const key = dsnOf().username
    const big = envelope({}, [{ type: 'event', payload: event('99999999aa', { extra: { blob: 'x'.repeat(50_000) } }) }])
    const plain = await post(`/api/1/envelope/?sentry_key=${key}`, big)
    const bomb = await post(`/api/1/envelope/?sentry_key=${key}`, zlib.gzipSync(big), { 'content-encoding': 'gzip' })
    expect([plain.status, bomb.status]).toEqual([413, 413])
    expect(String(bomb.json.detail)).toMatch(/larger than 10000 bytes once decompressed/)
  })

  it('options are checked before anything starts', () => {
    const v = (o: object): string => {
      try {
        validateConfig({ services: { s: sentry(o) } })
        return 'ok'
      } catch (err) {
        return (err as Error).message
      }
    }
    expect(v({ project: 'my-app' })).toMatch(/project must be a project id \(digits, as in a DSN's path\), e\.g\. 1 or '4505', got "my-app"/)
    expect(v({ maxEventsPerSecond: 0 })).toMatch(/maxEventsPerSecond must be a positive whole number, got 0/)
    expect(v({ maxBodyBytes: 1.5 })).toMatch(/maxBodyBytes must be a positive whole number/)
    expect(v({ projcet: 1 })).toMatch(/projcet/)
    expect(v({ project: 3 })).toBe('ok')
  })
})
