// One listening address of a service's proxy: the one tests and `rig run` use, or the one a
// dependent was given. Telling them apart is what lets a partition cut one service off another
// while tests still reach both.
import net from 'node:net'
import { RigError } from '../errors.ts'
import { freePort } from '../providers/process/ports.ts'
import { Link, type LinkHost } from './link.ts'
import type { Effect } from './effect.ts'

/** What an endpoint asks of its proxy. */
export interface EndpointOwner {
  readonly name: string
  target(): { host: string; port: number }
  effectFor(from: string | undefined): Effect
  /** New connections: let through, hold until resumed, or refuse (reset at once). */
  readonly mode: 'open' | 'hold' | 'refuse'
  /** See {@link LinkHost.upstreamFailed}. */
  upstreamFailed?(link: Link): boolean
}

/** The proxy's port for `service` is taken. */
export class ProxyPortInUseError extends RigError {
  constructor(service: string, port: number) {
    super('RIG_PROXY_PORT_IN_USE', `service "${service}": its proxy asks for port ${port}, which is already in use.\n  free the port, choose another \`proxy: { port }\`, or write \`proxy: true\` to let rig pick a free one.`, { exitCode: 2 })
    this.name = 'ProxyPortInUseError'
  }
}

/** A listening socket of a proxy and its open links. */
export class Endpoint implements LinkHost {
  readonly links = new Set<Link>()
  readonly host = '127.0.0.1'
  port = 0
  private readonly server: net.Server
  private readonly owner: EndpointOwner
  /** The dependent this endpoint serves; undefined for tests and everything outside the environment. */
  readonly from: string | undefined
  /** Connections accepted since it started (refused and reset ones too). */
  accepted = 0
  /** Bytes clients sent over links that are closed now. */
  private bytesClosed = 0

  constructor(owner: EndpointOwner, from: string | undefined) {
    this.owner = owner
    this.from = from
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(socket))
  }

  /** Listens on `port`, or on a free one. */
  async listen(port?: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const p = port ?? (await freePort())
      try {
        await new Promise<void>((resolve, reject) => {
          this.server.once('error', reject)
          this.server.listen({ port: p, host: this.host, exclusive: true }, () => {
            this.server.off('error', reject)
            resolve()
          })
        })
        this.port = p
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
        if (port !== undefined) throw new ProxyPortInUseError(this.owner.name, port)
        if (attempt >= 5) throw err
      }
    }
  }

  target(): { host: string; port: number } {
    return this.owner.target()
  }

  forget(link: Link): void {
    if (this.links.delete(link)) this.bytesClosed += link.client.bytesRead
  }

  upstreamFailed(link: Link): boolean {
    return this.owner.upstreamFailed?.(link) ?? false
  }

  private accept(socket: net.Socket): void {
    this.accepted++
    const effect = this.owner.effectFor(this.from)
    if (this.owner.mode === 'refuse' || effect.reset) {
      socket.on('error', () => {})
      socket.resetAndDestroy()
      return
    }
    const link = new Link(socket, this)
    this.links.add(link)
    link.begin(effect, this.owner.mode === 'hold')
  }

  /** Bytes clients sent since it started: a test that sent any reached the service (read from the sockets' counters, nothing added to the data path). */
  get bytesIn(): number {
    let n = this.bytesClosed
    for (const l of this.links) n += l.client.bytesRead
    return n
  }

  /** Applies the faults in force to every open link. */
  refresh(): void {
    const effect = this.owner.effectFor(this.from)
    for (const l of this.links) l.apply(effect)
  }

  /** Lets held links through. */
  releaseHeld(): void {
    for (const l of this.links) if (l.held) l.release()
  }

  /** Stops listening and resets every link. */
  async close(): Promise<void> {
    for (const l of [...this.links]) l.reset()
    if (!this.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
