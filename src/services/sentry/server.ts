// The local Sentry endpoint, run as a child process of the environment (so a flood loads it,
// not the test runner, and stop/kill/pause act on it like on any service). It accepts what
// Sentry SDKs send and writes one line per event on stdout, which rig captures into the
// service's log: the per-test log scan fails a test on each `error`/`fatal` line.
// Usage: node server.ts '<json ServerConfig>'
import http from 'node:http'
import { Budget } from '../intake/budget.ts'
import { emitLine } from '../intake/emit-line.ts'
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

/** Counts served at `GET /stats`. */
export interface SentryStats {
  events: number
  dropped: number
  rejected: number
  /** Rejections by HTTP status. */
  byStatus: Record<string, number>
  /** Items that are not events (transactions, sessions, client reports…), by type. */
  otherItems: Record<string, number>
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig
const budget = new Budget(config.maxEventsPerSecond)
const stats: SentryStats = { events: 0, dropped: 0, rejected: 0, byStatus: {}, otherItems: {} }

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type, content-encoding, x-sentry-auth, sentry-trace, baggage', 'access-control-expose-headers': 'x-sentry-rate-limits, retry-after' }

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...CORS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function tellDrops(): void {
  const n = budget.note()
  if (n) emitLine(`error dropped ${n[0]} event(s) over the limit of ${config.maxEventsPerSecond} a second (${n[1]} so far): the app reports errors in a loop; fix it, or raise maxEventsPerSecond`)
}

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

function refuse(req: http.IncomingMessage, res: http.ServerResponse, err: IntakeRefusal, what: string): void {
  req.resume()
  stats.rejected++
  stats.byStatus[err.status] = (stats.byStatus[err.status] ?? 0) + 1
  // Rejections are lines too, within the same budget: a client sending garbage in a loop is a flood.
  if (budget.take()) emitLine(`error rejected ${what} (${err.status}): ${err.message}`)
  else stats.dropped = budget.dropped
  send(res, err.status, { detail: err.message })
  tellDrops()
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
    for (const e of parsed.events) {
      if (budget.take()) {
        stats.events++
        emitLine(eventLine(e))
      } else dropped++
    }
    stats.dropped = budget.dropped
    tellDrops()
    const id = typeof parsed.events[0]?.event_id === 'string' ? parsed.events[0].event_id : undefined
    // 429 with Sentry's rate-limit header: SDKs hold back (and count what they discard) for a second.
    if (dropped > 0) send(res, 429, { detail: `${dropped} event(s) dropped: over ${config.maxEventsPerSecond} a second` }, { 'retry-after': '1', 'x-sentry-rate-limits': '1::organization' })
    else send(res, 200, id ? { id } : {})
  } catch (err) {
    if (err instanceof IntakeRefusal) return refuse(req, res, err, what)
    throw err
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'POST, GET, OPTIONS' })
    return res.end()
  }
  if (req.method === 'GET' && url.pathname === '/stats') return send(res, 200, stats)
  const m = /^\/api\/([^/]+)\/(envelope|store)\/?$/.exec(url.pathname)
  if (!m || req.method !== 'POST') {
    req.resume()
    return send(res, 404, { detail: `no such endpoint: ${req.method} ${url.pathname} (POST /api/${config.project}/envelope/ or /api/${config.project}/store/; GET /stats)` })
  }
  ingest(req, res, url, decodeURIComponent(m[1] ?? ''), m[2] ?? '').catch((err: unknown) => {
    emitLine(`error the endpoint failed on a request: ${(err as Error).message}`)
    if (!res.headersSent) send(res, 500, { detail: (err as Error).message })
  })
})
// Bounded: a few hundred clients at a time, each one body at a time.
server.maxConnections = 256
setInterval(tellDrops, 1000).unref()

function stop(): void {
  tellDrops()
  emitLine(`info stopping: ${stats.events} event(s) accepted, ${stats.dropped} dropped, ${stats.rejected} rejected`)
  server.close()
  server.closeAllConnections()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
server.listen(config.port, '127.0.0.1')
