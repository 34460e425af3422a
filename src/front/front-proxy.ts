// rig's front proxy: one port on loopback for every public service of a project, routed by the
// Host header (`api.carshare.localhost:24117` → the service "api"). node:http parses each
// request, so keep-alive connections, streamed bodies in both directions and several services
// over one connection all work; a WebSocket upgrade is handed through as raw bytes. With TLS,
// one port serves both: the first byte tells a TLS handshake (0x16) from plain HTTP, which is
// redirected to HTTPS.
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { RigError } from '../errors.ts'
import { liveClaims } from './claim.ts'
import { unavailablePage, unknownHostPage, type KnownName } from './pages.ts'
import { publicUrl, type FrontPlan } from './plan.ts'

/** Where a public service is now, or why it cannot be reached. */
export interface FrontTarget {
  host: string
  /** 0 while it has no port (not started yet). */
  port: number
  status: string
}

/** Options of {@link FrontProxy.open}. */
export interface FrontProxyOptions {
  plan: FrontPlan
  /** The current address of a service (looked up per request: a restart keeps its port, a proxy in front of it takes faults). */
  target(service: string): FrontTarget | undefined
  /** Certificate and key (PEM) for HTTPS; required when `plan.tls`. */
  tls?: { cert: string; key: string } | undefined
}

/** The port is taken by something else. */
export class FrontPortInUseError extends RigError {
  constructor(plan: FrontPlan, holder: string) {
    const why = plan.portFromConfig ? 'set by `front.port` in rig.config.ts' : `derived from the project name "${plan.project}", so it is the same on every run`
    super(
      'RIG_FRONT_PORT_IN_USE',
      `the front proxy needs port ${plan.port} (${why}), and ${holder} listens there: stop it, or give this project another port with \`front: { port: N }\` in rig.config.ts (\`ss -ltnp 'sport = :${plan.port}'\` shows which program holds it)`,
      { exitCode: 2 },
    )
    this.name = 'FrontPortInUseError'
  }
}

// Hop-by-hop headers belong to one connection and are not forwarded (RFC 9110 §7.6.1).
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])

function forwardable(raw: readonly string[], keepHop: boolean): string[] {
  const named = new Set<string>()
  if (!keepHop) {
    for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'connection') for (const t of (raw[i + 1] ?? '').split(',')) named.add(t.trim().toLowerCase())
  }
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] as string
    const lk = k.toLowerCase()
    if (lk.startsWith('x-forwarded-')) continue
    if (!keepHop && (HOP.has(lk) || named.has(lk))) continue
    out.push(k, raw[i + 1] ?? '')
  }
  return out
}

function withForwarded(req: http.IncomingMessage, proto: string, keepHop: boolean): string[] {
  const h = forwardable(req.rawHeaders, keepHop)
  h.push('X-Forwarded-For', req.socket.remoteAddress ?? '127.0.0.1', 'X-Forwarded-Proto', proto, 'X-Forwarded-Host', req.headers.host ?? '')
  return h
}

/** The proxy of one environment. */
export class FrontProxy {
  readonly plan: FrontPlan
  private readonly options: FrontProxyOptions
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  private readonly listeners: net.Server[] = []
  private readonly sockets = new Set<net.Socket>()
  private readonly http: http.Server
  private readonly https: https.Server | undefined
  private readonly byLabel = new Map<string, string>()

  private constructor(options: FrontProxyOptions) {
    this.plan = options.plan
    this.options = options
    for (const [service, label] of Object.entries(options.plan.services)) this.byLabel.set(label, service)
    this.http = http.createServer((req, res) => this.onRequest(req, res, false))
    this.http.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head, 'http'))
    if (options.plan.tls) {
      if (!options.tls) throw new RigError('RIG_FRONT_NO_CERT', 'the front proxy was asked for TLS without a certificate')
      this.https = https.createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => this.onRequest(req, res, true))
      this.https.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onUpgrade(req, socket, head, 'https'))
    }
  }

  /**
   * Listens on the plan's port on 127.0.0.1 (and ::1 where the machine has IPv6: browsers try
   * both for `*.localhost`). Throws {@link FrontPortInUseError} when the port is taken.
   */
  static async open(options: FrontProxyOptions): Promise<FrontProxy> {
    const proxy = new FrontProxy(options)
    try {
      await proxy.listen('127.0.0.1')
      await proxy.listen('::1').catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRNOTAVAIL' && err.code !== 'EAFNOSUPPORT') throw err
      })
    } catch (err) {
      await proxy.close()
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        const claim = liveClaims().find((c) => c.port === options.plan.port && c.project !== options.plan.project)
        throw new FrontPortInUseError(options.plan, claim ? `rig's front proxy of project "${claim.project}" (${claim.root}, pid ${claim.pid})` : 'another program')
      }
      throw err
    }
    return proxy
  }

  private listen(host: string): Promise<void> {
    // No Nagle: a response's head and body go out as separate writes, and on a keep-alive
    // connection the second would wait for the client's delayed ACK (node:http's own servers
    // set this; sockets handed to them from another server keep what that server gave them).
    const srv = net.createServer({ noDelay: true }, (sock) => this.onConnection(sock))
    return new Promise((resolve, reject) => {
      srv.once('error', reject)
      srv.listen({ port: this.plan.port, host, exclusive: true }, () => {
        srv.off('error', reject)
        this.listeners.push(srv)
        resolve()
      })
    })
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock)
    sock.on('close', () => this.sockets.delete(sock))
    const tls = this.https
    if (!tls) {
      this.http.emit('connection', sock)
      return
    }
    sock.once('data', (first: Buffer) => {
      sock.pause()
      sock.unshift(first)
      ;(first[0] === 0x16 ? tls : this.http).emit('connection', sock)
      process.nextTick(() => sock.resume())
    })
    sock.on('error', () => sock.destroy())
  }

  /** The service a Host header names, or undefined. */
  serviceFor(host: string | undefined): string | undefined {
    const name = (host ?? '').toLowerCase().replace(/:\d+$/, '')
    const suffix = `.${this.plan.project}.localhost`
    if (!name.endsWith(suffix)) return undefined
    return this.byLabel.get(name.slice(0, -suffix.length))
  }

  /** Every public name, with its service's status. */
  names(): KnownName[] {
    return Object.entries(this.plan.services).map(([service, label]) => ({ service, url: publicUrl(this.plan, label), status: this.options.target(service)?.status ?? 'not started' }))
  }

  private reachable(service: string): { target: FrontTarget } | { why: string; starting: boolean } {
    const t = this.options.target(service)
    if (!t || t.port === 0) return { why: `"${service}" has no address yet (${t?.status ?? 'not started'}).`, starting: t?.status === 'starting' || t === undefined }
    if (t.status !== 'ready' && t.status !== 'starting') return { why: `"${service}" is ${t.status}.`, starting: false }
    return { target: t }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void {
    const service = this.serviceFor(req.headers.host)
    if (service === undefined) return unknownHostPage(req, res, req.headers.host ?? '', this.plan.project, this.names())
    if (this.plan.tls && !secure) {
      res.writeHead(308, { location: `https://${req.headers.host}${req.url ?? '/'}`, 'content-length': '0' })
      res.end()
      return
    }
    const r = this.reachable(service)
    if (!('target' in r)) return unavailablePage(req, res, service, r.why, r.starting, this.names())
    const up = http.request({ host: r.target.host, port: r.target.port, method: req.method, path: req.url, headers: withForwarded(req, secure ? 'https' : 'http', false), agent: this.agent, setHost: false })
    up.on('response', (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, forwardable(ur.rawHeaders, false))
      ur.pipe(res)
      ur.on('error', () => res.destroy())
    })
    up.on('error', (err) => {
      if (!res.headersSent) unavailablePage(req, res, service, `connecting to ${r.target.host}:${r.target.port} failed: ${err.message}.`, false, this.names())
      else res.destroy()
    })
    res.on('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    req.pipe(up)
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, proto: string): void {
    socket.on('error', () => socket.destroy())
    const service = this.serviceFor(req.headers.host)
    const r = service === undefined ? undefined : this.reachable(service)
    if (!r || !('target' in r)) {
      socket.end(`HTTP/1.1 ${service === undefined ? '404 Not Found' : '502 Bad Gateway'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      return
    }
    if (this.plan.tls && proto === 'http') {
      socket.end(`HTTP/1.1 308 Permanent Redirect\r\nlocation: https://${req.headers.host}${req.url ?? '/'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      return
    }
    const conn = net.connect({ port: r.target.port, host: r.target.host, noDelay: true })
    const h = withForwarded(req, proto, true)
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`
    for (let i = 0; i < h.length; i += 2) text += `${h[i]}: ${h[i + 1]}\r\n`
    conn.on('connect', () => {
      conn.write(`${text}\r\n`)
      if (head.length > 0) conn.write(head)
      socket.pipe(conn).pipe(socket)
    })
    conn.on('error', () => {
      if (socket.writable && conn.bytesRead === 0) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      else socket.destroy()
    })
    socket.on('close', () => conn.destroy())
    conn.on('close', () => socket.destroy())
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.agent.destroy()
    await Promise.all(this.listeners.map((l) => new Promise((r) => l.close(r))))
    this.listeners.length = 0
  }
}
