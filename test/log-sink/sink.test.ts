// logSink() against what shippers send: JSON records over HTTP in their usual shapes, syslog
// from util-linux `logger` (TCP with octet counting, UDP) and Python's SysLogHandler (TCP, NUL
// ended); each record one line, its level first. And what it refuses, counted: malformed
// records, a message with no priority, one too long, a flood.
import { execFile } from 'node:child_process'
import net from 'node:net'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { logSink, type Environment } from '../../src/index.ts'
import type { IntakeStats } from '../../src/services/intake/intake.ts'
import { logSinkKind } from '../../src/services/log-sink/index.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { waitUntil } from '../support/procs.ts'

const run = promisify(execFile)

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const url = (): string => env?.get('logs').url ?? ''
const lines = (): string[] => (env?.get('logs').logs.texts() ?? []).filter((l) => !l.startsWith('info stopping'))
const stats = async (): Promise<IntakeStats> => (await (await fetch(`${url()}/stats`)).json()) as IntakeStats
const post = async (body: string | Buffer, headers: Record<string, string> = {}, path = '/'): Promise<{ status: number; json: Record<string, unknown> }> => {
  const r = await fetch(url() + path, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}
const scanned = (): string[] => lines().filter((l) => (logSinkKind.errorPatterns ?? []).some((p) => p.test(l)))

describe('logSink(): HTTP records', () => {
  it('JSON lines (pino levels), an array (word levels, any case), GELF over HTTP, Loki push, gzip: one line each, level first, then the message and the other fields', async () => {
    env = await start({ services: { logs: logSink() } })
    const pino = [
      { level: 30, time: 1, pid: 9, hostname: 'h', msg: 'rental started', rental: 12 },
      { level: 50, time: 2, pid: 9, hostname: 'h', msg: 'payment failed', err: { type: 'TypeError', message: 'card declined' } },
    ].map((r) => JSON.stringify(r)).join('\n')
    expect(await post(pino + '\n', { 'content-type': 'application/x-ndjson' })).toEqual({ status: 200, json: { accepted: 2 } })
    expect((await post(JSON.stringify([{ '@timestamp': 't', 'log.level': 'WARN', message: 'slow query' }, { log: { level: 'error' }, message: 'ECS error' }, { severity: 'CRITICAL', message: 'GCP' }, { levelname: 'ERROR', message: 'python', logger: 'billing' }]))).status).toBe(200)
    expect((await post(JSON.stringify({ version: '1.1', host: 'api', short_message: 'GELF error', level: 3, _order: 7 }), {}, '/gelf')).status).toBe(200)
    expect((await post(JSON.stringify({ streams: [{ stream: { app: 'worker' }, values: [['1700000000000000000', '{"level":"error","msg":"job crashed"}'], ['1700000000000000001', 'plain text']] }] }), {}, '/loki/api/v1/push')).status).toBe(200)
    expect((await post(zlib.gzipSync(JSON.stringify({ level: 'info', msg: 'zipped' })), { 'content-encoding': 'gzip' })).status).toBe(200)
    await waitUntil(() => lines().length >= 10)
    expect(lines()).toEqual([
      'info rental started {"rental":12}',
      'error payment failed {"err":{"type":"TypeError","message":"card declined"}}',
      'warning slow query',
      'error ECS error',
      'fatal GCP',
      'error python {"logger":"billing"}',
      'error GELF error {"_order":7}',
      'error job crashed {"app":"worker"}',
      'info plain text {"app":"worker"}',
      'info zipped',
    ])
    expect(scanned()).toHaveLength(6)
    expect(await stats()).toEqual({ accepted: 10, dropped: 0, rejected: 0, byStatus: {} })
  })
})

describe('logSink(): syslog', () => {
  it('from logger(1) over TCP with octet counting and over UDP, and Python\'s SysLogHandler over TCP: the severity is the level, the app name tags the message, a JSON message is read as a record', async () => {
    env = await start({ services: { logs: logSink() } })
    const port = String(env.get('logs').port)
    expect(env.vars().RIG_LOGS_SYSLOG_URL).toBe(`tcp://127.0.0.1:${port}`)
    expect(env.vars().RIG_LOGS_SYSLOG_UDP_URL).toBe(`udp://127.0.0.1:${port}`)
    await run('logger', ['--tcp', '--octet-count', '--rfc5424', '-n', '127.0.0.1', '-P', port, '-t', 'billing', '-p', 'user.err', 'invoice 7 failed'])
    await run('logger', ['--tcp', '-n', '127.0.0.1', '-P', port, '-t', 'billing', '-p', 'user.info', '{"level":"error","msg":"json behind syslog","job":3}'])
    await run('logger', ['--udp', '-n', '127.0.0.1', '-P', port, '-t', 'api', '-p', 'local0.warning', 'over udp'])
    const py = `import logging, logging.handlers, socket
h = logging.handlers.SysLogHandler(address=('127.0.0.1', ${port}), socktype=socket.SOCK_STREAM)
h.ident = 'worker: '
log = logging.getLogger('x'); log.addHandler(h); log.setLevel(logging.DEBUG)
log.error('python error'); log.critical('python critical'); log.info('python info')
h.close()`
    await run('python3', ['-c', py])
    await waitUntil(() => lines().length >= 6)
    expect([...lines()].sort()).toEqual(
      [
        'error billing: invoice 7 failed',
        'error json behind syslog {"app":"billing","job":3}',
        'warning api: over udp',
        'error worker: python error',
        'fatal worker: python critical',
        'info worker: python info',
      ].sort(),
    )
    expect(await stats()).toMatchObject({ accepted: 6, rejected: 0 })
  })
})

describe('logSink(): bad input', () => {
  it('a line that is not JSON gets 400 naming it, nothing of that body is taken; a syslog message with no priority and one too long are refused; all counted, each an error line', async () => {
    env = await start({ services: { logs: logSink({ maxRecordBytes: 1000 }) } })
    const r = await post('{"level":"error","msg":"a"}\n{"level": oops}\n')
    expect(r.status).toBe(400)
    expect(String(r.json.detail)).toMatch(/^malformed records: line 2 is not JSON \(.*\); send JSON lines, a JSON array of records, or syslog over TCP\/UDP$/)
    expect((await post('[1, 2]')).status).toBe(400)
    expect((await post('x', { 'content-encoding': 'gzip' })).status).toBe(400)
    const port = env.get('logs').port
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end('<11>fine then\n1no priority here\n'))
      s.on('close', () => resolve())
    })
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`<11>${'x'.repeat(5000)}`))
      s.on('error', () => {})
      s.on('close', () => resolve(true))
    })
    expect(closed).toBe(true)
    await waitUntil(async () => (await stats()).rejected === 5)
    expect(await stats()).toMatchObject({ accepted: 1, rejected: 5, byStatus: { 400: 4, 413: 1 } })
    expect(lines().filter((l) => l.startsWith('error rejected'))).toEqual([
      expect.stringMatching(/^error rejected request \(400\): malformed records: line 2 is not JSON/),
      'error rejected request (400): malformed records: item 1 of the array is neither an object nor a string',
      expect.stringMatching(/^error rejected request \(400\): body is not valid gzip data/),
      'error rejected syslog message over TCP (400): no <PRI> at the start: "1no priority here"',
      expect.stringMatching(/^error rejected syslog message over TCP \(413\): longer than 1000 bytes \(\d+\): the connection is closed$/),
    ])
  })

  it('a flood is dropped beyond maxRecordsPerSecond: 429, every drop counted, told in one line', async () => {
    env = await start({ services: { logs: logSink({ maxRecordsPerSecond: 5 }) } })
    const body = Array.from({ length: 50 }, (_, i) => JSON.stringify({ level: 'error', msg: `loop ${i}` })).join('\n')
    const r = await post(body)
    expect(r.status).toBe(429)
    const s = await stats()
    expect(s.accepted + s.dropped).toBe(50)
    expect(s.dropped).toBeGreaterThanOrEqual(40)
    expect(r.json).toEqual({ accepted: s.accepted, dropped: s.dropped })
    await waitUntil(() => lines().some((l) => l.startsWith('error dropped')))
    expect(lines().filter((l) => l.startsWith('error dropped'))[0]).toBe(`error dropped ${s.dropped} record(s) over the limit of 5 a second (${s.dropped} so far): the app sends them in a loop; fix it, or raise maxRecordsPerSecond`)
  })

  it('options are checked before anything starts', () => {
    const v = (o: object): string => {
      try {
        validateConfig({ services: { s: logSink(o) } })
        return 'ok'
      } catch (err) {
        return (err as Error).message
      }
    }
    expect(v({ maxRecordsPerSecond: -1 })).toMatch(/maxRecordsPerSecond must be a positive whole number, got -1/)
    expect(v({ udp: 'yes' })).toMatch(/udp must be true or false, got "yes"/)
    expect(v({ udp: false, maxRecordBytes: 100 })).toBe('ok')
  })
})
