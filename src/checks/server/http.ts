// `rig serve`'s HTTP front: routing, the token, query validation, and the rule that no
// request (malformed, unknown, hostile) can crash the process: everything ends in a 4xx/5xx.
import crypto from 'node:crypto'
import http from 'node:http'
import type net from 'node:net'
import { CheckConfigError } from '../errors.ts'
import { hostChecker, isLoopback } from './host-check.ts'
import { COMMON_HEADERS, PreparedAnswers, PreparedHealth, type Access } from './prepared.ts'
import { dashboardHtml, healthJson, metricsText } from './render.ts'
import type { CheckService } from './service.ts'

/** Options of {@link startCheckServer}. */
export interface CheckServerOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 8080 */
  port?: number
  /** Bearer token required for details; without one, details are served on a loopback bind only. */
  token?: string
  /** Default per-request deadline in ms (`?deadline=` overrides, up to `maxDeadline`). @default 3000 */
  deadline?: number
  /** @default 60000 */
  maxDeadline?: number
  /**
   * Required to bind an address other than loopback: the checks become reachable from the
   * network, so a token is required too.
   */
  public?: boolean
  /**
   * Host names (optionally `name:port`) requests may carry besides 127.0.0.1, localhost and
   * [::1] with the server's port, e.g. the name a reverse proxy forwards. Anything else gets a
   * 403 (DNS rebinding). On a public bind, when given, only these names are answered.
   */
  allowHosts?: readonly string[]
}

/** A listening check server. */
export interface CheckServer {
  url: string
  port: number
  server: http.Server
  close(): Promise<void>
}

class HttpError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, ...COMMON_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...extra })
  res.end(head ? undefined : body)
}

// Tokens are compared as digests, so the comparison takes the same time whatever their lengths
// (hex from the one-shot hash: a fraction of createHash's cost, paid by every detailed request).
const digest = (s: string): Buffer => Buffer.from(crypto.hash('sha256', s, 'hex'), 'latin1')

/** Starts the server; rejects with RIG_PORT_IN_USE (exit 2) when the port is taken. */
export async function startCheckServer(service: CheckService, options: CheckServerOptions = {}): Promise<CheckServer> {
  const host = options.host ?? '127.0.0.1'
  const defaultDeadline = options.deadline ?? 3000
  const maxDeadline = options.maxDeadline ?? 60_000
  const token = options.token || undefined
  const loopback = isLoopback(host)
  if (!loopback && !options.public) {
    throw new CheckConfigError('RIG_SERVE_PUBLIC', `${host} is not a loopback address: the checks would be reachable from the network. Pass --public (public: true) to mean it, with a token (RIG_CHECK_TOKEN); or bind 127.0.0.1`)
  }
  if (!loopback && !token) {
    throw new CheckConfigError('RIG_SERVE_PUBLIC', `serving on ${host} (public) needs a token: set RIG_CHECK_TOKEN (or --token); requests then need Authorization: Bearer <token> for details`)
  }
  let hostAllowed: (h: string | undefined) => boolean = () => false
  const tokenDigest = token === undefined ? undefined : digest(token)
  const prepared = new PreparedAnswers()

  const access = (req: http.IncomingMessage): Access => {
    const auth = req.headers.authorization
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
      if (!tokenDigest || !m || !crypto.timingSafeEqual(digest(m[1] as string), tokenDigest)) throw new HttpError(401, 'invalid token: send Authorization: Bearer <the token given to rig serve>')
      return 'detail'
    }
    return token === undefined && loopback ? 'detail' : 'status'
  }

  const params = (url: URL): { tags: string[]; deadline: number } => {
    for (const k of url.searchParams.keys()) if (k !== 'tag' && k !== 'deadline') throw new HttpError(400, `unknown query parameter "${k}" (known: tag, deadline)`)
    const tags = url.searchParams.getAll('tag').flatMap((t) => t.split(',')).filter(Boolean)
    const d = url.searchParams.get('deadline')
    if (d !== null && !/^\d{1,9}$/.test(d)) throw new HttpError(400, `deadline must be a whole number of ms, got "${d.slice(0, 40)}"`)
    const deadline = d === null ? defaultDeadline : Number(d)
    if (deadline < 1 || deadline > maxDeadline) throw new HttpError(400, `deadline must be between 1 and ${maxDeadline} ms`)
    try {
      service.select(tags)
    } catch (err) {
      throw new HttpError(400, err instanceof Error ? err.message : String(err))
    }
    return { tags, deadline }
  }

  // Synchronous up to the answer when a prepared one holds; a promise only when it must wait.
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined => {
    if (!hostAllowed(req.headers.host)) {
      const shown = JSON.stringify(String(req.headers.host).slice(0, 100))
      throw new HttpError(
        403,
        loopback
          ? `Host ${shown} is not served here: on a loopback address rig serve answers only 127.0.0.1, localhost and [::1] with its port (DNS rebinding protection); list other names with --allow-host`
          : `Host ${shown} is not served here: rig serve answers only the names given with --allow-host`,
      )
    }
    const head = req.method === 'HEAD'
    if (req.method !== 'GET' && !head) throw new HttpError(405, `method ${String(req.method).slice(0, 20)} not allowed: use GET`)
    const target = req.url ?? '/'
    // A URL answered before passed every check below but the token's, which is checked again.
    if (prepared.knows(target)) {
      const now = performance.now()
      const ready = prepared.get(target, access(req), service.generation, now)
      if (ready) return void ready.send(res, head, now)
    }
    return answer(req, res, target, head)
  }

  const answer = async (req: http.IncomingMessage, res: http.ServerResponse, target: string, head: boolean): Promise<void> => {
    req.resume()
    let url: URL
    try {
      url = new URL(target, 'http://rig.invalid')
    } catch {
      throw new HttpError(400, 'malformed request target')
    }
    const route = url.pathname
    if (!['/', '/health', '/checks', '/metrics'].includes(route)) throw new HttpError(404, `no ${route.slice(0, 100)} here: try /health, /checks, /metrics or /`)
    const level = access(req)
    const { tags, deadline } = params(url)
    if ((route === '/checks' || route === '/metrics') && level !== 'detail') throw new HttpError(401, 'details need a token: send Authorization: Bearer <token>')
    const served = await service.results(tags, deadline)
    const { results, partial } = served
    if (route === '/health') {
      if (partial) {
        const body = healthJson(results, level === 'detail', partial)
        return send(res, body.status === 'fail' ? 503 : 200, 'application/health+json', JSON.stringify(body, null, 2), head)
      }
      const ready = new PreparedHealth(served, level === 'detail', (name) => service.finishedAt(name))
      if (served.freshUntil > performance.now()) prepared.set(target, level, ready)
      return ready.send(res, head, performance.now())
    }
    if (route === '/checks') return send(res, 200, 'application/json', JSON.stringify({ status: healthJson(results, false, partial).status, partial, runs: service.runs, results }, null, 2), head)
    if (route === '/metrics') return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', metricsText(results), head)
    return send(res, 200, 'text/html; charset=utf-8', dashboardHtml(results, level === 'detail', 5), head, { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" })
  }

  // Idle and silent connections are checked every 500 ms, not Node's default 30 s.
  const server = http.createServer({ connectionsCheckingInterval: 500 }, (req, res) => {
    const fail = (err: unknown): void => {
      if (res.headersSent) return void res.destroy()
      const status = err instanceof HttpError ? err.status : 500
      const message = err instanceof Error ? err.message : String(err)
      send(res, status, 'application/json', JSON.stringify({ error: message }) + '\n', req.method === 'HEAD', status === 405 ? { allow: 'GET, HEAD' } : status === 401 ? { 'www-authenticate': 'Bearer' } : {})
    }
    try {
      handle(req, res)?.catch(fail)
    } catch (err) {
      fail(err)
    }
  })
  // Bytes that are not HTTP get a 400 and a closed socket, never an exception.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (!socket.writable) return void socket.destroy()
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  })
  // A connection must send its headers within 5 s, finish within the longest deadline, and is
  // closed 2 s after its last answer: idle sockets do not pile up after a load spike.
  server.headersTimeout = 5_000
  server.requestTimeout = maxDeadline + 5_000
  server.keepAliveTimeout = 2_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new CheckConfigError('RIG_PORT_IN_USE', `port ${options.port ?? 8080} on ${host} is already in use: stop what listens there, choose another with --port, or use --port 0 for a free one`, { cause: err }))
      else if (err.code === 'EACCES') reject(new CheckConfigError('RIG_PORT_DENIED', `not allowed to listen on ${host}:${options.port}: use a port above 1023`, { cause: err }))
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new CheckConfigError('RIG_HOST_INVALID', `cannot listen on host "${host}": use an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`, { cause: err }))
      else reject(err)
    })
    server.listen(options.port ?? 8080, host, () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  hostAllowed = hostChecker(host, port, options.allowHosts ?? [])
  const shownHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    server,
    // Idle connections close at once; a request in flight gets a moment to be answered.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        setTimeout(() => server.closeAllConnections(), 1000).unref()
      }),
  }
}
