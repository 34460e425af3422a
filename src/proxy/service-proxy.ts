// The proxy in front of one service: an endpoint for tests and the outside, one per dependent,
// the service's real address behind them, the faults in force (the config's, then the
// current test's) and the maintenance switch for new connections.
import { CLEAN, effectOf, type Effect } from './effect.ts'
import { Endpoint, type EndpointOwner } from './endpoint.ts'
import type { Faults } from './faults.ts'

/** New connections: let through, held until resumed, or refused. */
export type ProxyMode = 'open' | 'hold' | 'refuse'

/** The proxy of one service. */
export class ServiceProxy implements EndpointOwner {
  mode: ProxyMode = 'open'
  /** Faults from rig.config.ts: what every test starts from. */
  readonly baseline: Faults[] = []
  /** Faults in force: the baseline, then those set since. */
  active: Faults[] = []
  private readonly endpoints = new Map<string, Endpoint>()
  private upstream = { host: '127.0.0.1', port: 0 }

  readonly name: string
  private readonly partitioned: (a: string, b: string | undefined) => boolean

  constructor(name: string, partitioned: (a: string, b: string | undefined) => boolean) {
    this.name = name
    this.partitioned = partitioned
  }

  /** The endpoint of tests and the outside (undefined before {@link open}). */
  get outside(): Endpoint | undefined {
    return this.endpoints.get('')
  }

  /** Opens the endpoint of tests and the outside, on `port` when given. */
  async open(port?: number): Promise<Endpoint> {
    let ep = this.endpoints.get('')
    if (!ep) {
      ep = new Endpoint(this, undefined)
      this.endpoints.set('', ep)
      await ep.listen(port)
    }
    return ep
  }

  /** The endpoint given to dependent `from`, opened on first use. */
  async routeFor(from: string): Promise<Endpoint> {
    let ep = this.endpoints.get(from)
    if (!ep) {
      ep = new Endpoint(this, from)
      this.endpoints.set(from, ep)
      await ep.listen()
    }
    return ep
  }

  /** Dependents that have an endpoint of their own, and its port. */
  routes(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [from, ep] of this.endpoints) if (from !== '') out[from] = ep.port
    return out
  }

  target(): { host: string; port: number } {
    return this.upstream
  }

  /** Points every new connection at another address (a restart on a new port, a promoted replica). */
  retarget(host: string, port: number): void {
    this.upstream = { host, port }
  }

  effectFor(from: string | undefined): Effect {
    const faults = this.active.filter((f) => f.from === undefined || f.from === from)
    const cut = from !== undefined && this.partitioned(this.name, from)
    return faults.length === 0 && !cut ? CLEAN : effectOf(faults, cut)
  }

  /** Applies the faults in force to every open connection. */
  refresh(): void {
    for (const ep of this.endpoints.values()) ep.refresh()
  }

  /** Switches what happens to new connections; `open` lets held ones through. */
  setMode(mode: ProxyMode): void {
    this.mode = mode
    if (mode === 'open') for (const ep of this.endpoints.values()) ep.releaseHeld()
  }

  /** Open connections, over every endpoint. */
  get connections(): number {
    let n = 0
    for (const ep of this.endpoints.values()) n += ep.links.size
    return n
  }

  /** Connections accepted since it started, over every endpoint. */
  get accepted(): number {
    let n = 0
    for (const ep of this.endpoints.values()) n += ep.accepted
    return n
  }

  /** Bytes clients sent through it since it started, over every endpoint. */
  get bytesIn(): number {
    let n = 0
    for (const ep of this.endpoints.values()) n += ep.bytesIn
    return n
  }

  /** Closes every endpoint and connection. */
  async close(): Promise<void> {
    await Promise.all([...this.endpoints.values()].map((ep) => ep.close()))
  }
}
