// The stable address of a service that runs several instances: one of rig's proxy endpoints
// that hands each new connection to the next instance in rotation. A rolling replacement adds
// the new instance before it takes the old one out, then waits for the old one's connections
// to finish, so the address never refuses and no request in flight is cut. A connection an
// instance refuses (it crashed) is tried on the next one.
import { CLEAN, type Effect } from './effect.ts'
import { Endpoint, type EndpointOwner } from './endpoint.ts'
import type { Link } from './link.ts'

interface Target {
  host: string
  port: number
}

const same = (a: Target, b: Target | undefined): boolean => b !== undefined && a.host === b.host && a.port === b.port

/** Round robin over the instances in rotation. */
export class Balancer implements EndpointOwner {
  readonly name: string
  mode: 'open' | 'hold' = 'hold'
  private pool: Target[] = []
  private turn = 0
  private readonly endpoint: Endpoint
  private readonly retries = new WeakMap<Link, number>()

  constructor(name: string) {
    this.name = name
    this.endpoint = new Endpoint(this, undefined)
  }

  /** Listens on `port`. */
  listen(port: number): Promise<void> {
    return this.endpoint.listen(port)
  }

  target(): Target {
    const t = this.pool[this.turn++ % Math.max(1, this.pool.length)]
    return t ?? { host: '127.0.0.1', port: 0 }
  }

  effectFor(): Effect {
    return CLEAN
  }

  /** An instance refused: the connection tries the next one, once per instance in rotation. */
  upstreamFailed(link: Link): boolean {
    const n = this.retries.get(link) ?? 0
    if (n >= this.pool.length) return false
    this.retries.set(link, n + 1)
    setImmediate(() => link.release())
    return true
  }

  /** Puts an instance in rotation; new connections held while there was none go to it. */
  add(t: Target): void {
    if (!this.pool.some((p) => same(p, t))) this.pool.push({ host: t.host, port: t.port })
    if (this.mode === 'hold') {
      this.mode = 'open'
      this.endpoint.releaseHeld()
    }
  }

  /** Takes an instance out of rotation (its open connections go on); holds new ones when none is left. */
  remove(t: Target): void {
    this.pool = this.pool.filter((p) => !same(p, t))
    if (this.pool.length === 0) this.mode = 'hold'
  }

  /** Open connections to `t`. */
  connectionsTo(t: Target): number {
    let n = 0
    for (const l of this.endpoint.links) if (!l.done && same(t, l.to)) n++
    return n
  }

  /** Resolves once no connection to `t` is open, or after `ms`. */
  async drain(t: Target, ms: number): Promise<void> {
    const until = performance.now() + ms
    while (this.connectionsTo(t) > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20))
  }

  /** Stops listening and resets every connection. */
  close(): Promise<void> {
    return this.endpoint.close()
  }
}
