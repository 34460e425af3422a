// The local Sentry endpoint, run as a child process of the environment (so a flood loads it,
// not the test runner, and stop/kill/pause act on it like on any service). It accepts what
// Sentry SDKs send and writes one line per event on stdout, which rig captures into the
// service's log: the per-test log scan fails a test on each `error`/`fatal` line.
// Usage: node server.ts '<json ServerConfig>'
import http from 'node:http'
import { Intake, sendJson, sendPreflight, type IntakeStats } from '../intake/intake.ts'
import { IntakeRefusal, readBody } from '../intake/read-body.ts'
import { parseEnvelope, parseStore, type Parsed } from './envelope.ts'
import { eventLine } from './event-line.ts'

/** What the service kind passes to the server. */
export interface ServerConfig {
  port: number
  project: string
  key: string
  /** The variable that carries the DSN, for messages. */
  dsnVar: string
  maxEventsPerSecond: number
  maxBodyBytes: number
}

/** Counts served at `GET /stats`: events accepted, dropped, requests rejected. */
export interface SentryStats extends IntakeStats {
  /** Items that are not events (transactions, sessions, client reports…), by type. */
  otherItems: Record<string, number>
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig
const intake = new Intake<SentryStats>(config.maxEventsPerSecond, 'event', 'maxEventsPerSecond', { otherItems: {} })
const stats = intake.stats

/** The key a request authenticates with: `X-Sentry-Auth`, the `sentry_key` query parameter, or the envelope's `dsn`. */
function keyOf(req: http.IncomingMessage, url: URL, parsed: Parsed | undefined): string | undefined {
  const header = req.headers['x-sentry-auth']
  const m = typeof header === 'string' ? /sentry_key=([^,\s]+)/.exec(header) : null
  if (m?.[1]) return m[1]
  const q = url.searchParams.get('sentry_key')
  if (q) return q
  if (parsed?.dsn && URL.canParse(parsed.dsn)) return decodeURIComponent(new URL(parsed.dsn).username) || undefined
  return undefined
}

async function ingest(req: http.IncomingMessage, res: http.ServerResponse, url: URL, project: string, endpoint: string): Promise<void> {
  const what = endpoint === 'store' ? 'event' : 'envelope'
  try {
    if (project !== config.project) throw new IntakeRefusal(403, `project "${project}" is not this endpoint's: it takes project ${config.project}; send with the DSN in ${config.dsnVar}`)
    const body = await readBody(req, config.maxBodyBytes)
    const parsed = endpoint === 'store' ? parseStore(body, config.maxBodyBytes) : parseEnvelope(body)
    const key = keyOf(req, url, parsed)
    if (!key) throw new IntakeRefusal(401, `no sentry_key (X-Sentry-Auth header, sentry_key query parameter or the envelope's dsn): send with the DSN in ${config.dsnVar}`)
    if (key !== config.key) throw new IntakeRefusal(401, `sentry_key "${key}" is not this endpoint's (a DSN of another run?): send with the DSN in ${config.dsnVar}`)
    for (const [type, n] of Object.entries(parsed.other)) stats.otherItems[type] = (stats.otherItems[type] ?? 0) + n
    let dropped = 0
    for (const e of parsed.events) if (!intake.accept(eventLine(e))) dropped++
    intake.tell()
    const id = typeof parsed.events[0]?.event_id === 'string' ? parsed.events[0].event_id : undefined
    // 429 with Sentry's rate-limit header: SDKs hold back (and count what they discard) for a second.
    if (dropped > 0) sendJson(res, 429, { detail: `${dropped} event(s) dropped: over ${config.maxEventsPerSecond} a second` }, { 'retry-after': '1', 'x-sentry-rate-limits': '1::organization' })
    else sendJson(res, 200, id ? { id } : {})
  } catch (err) {
    if (!(err instanceof IntakeRefusal)) throw err
    req.resume()
    intake.reject(err.status, what, err.message)
    sendJson(res, err.status, { detail: err.message })
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (req.method === 'OPTIONS') return sendPreflight(res)
  if (req.method === 'GET' && url.pathname === '/stats') return sendJson(res, 200, stats)
  const m = /^\/api\/([^/]+)\/(envelope|store)\/?$/.exec(url.pathname)
  if (!m || req.method !== 'POST') {
    req.resume()
    return sendJson(res, 404, { detail: `no such endpoint: ${req.method} ${url.pathname} (POST /api/${config.project}/envelope/ or /api/${config.project}/store/; GET /stats)` })
  }
  ingest(req, res, url, decodeURIComponent(m[1] ?? ''), m[2] ?? '').catch((err: unknown) => {
    intake.reject(500, 'request', `the endpoint failed on it: ${(err as Error).message}`)
    if (!res.headersSent) sendJson(res, 500, { detail: (err as Error).message })
  })
})
// Bounded: a few hundred clients at a time, each one body at a time.
server.maxConnections = 256
intake.run(() => {
  server.close()
  server.closeAllConnections()
})
server.listen(config.port, '127.0.0.1')
