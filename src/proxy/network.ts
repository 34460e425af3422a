// The environment's network: which services have a proxy (asked for with `proxy`, or implied
// by configured faults), the faults and partitions in force, and the addresses handed to
// dependents. Faults set after the start are test state: `reset()` goes back to the config's.
// What a test sets carries its owner (the test worker that asked), and `reset(owner)` after the
// test removes only that: a test ending in one worker leaves alone what a test running in another
// set, and the maintenance switch a switchover holds.
import { ConfigError, RigError } from '../errors.ts'
import { shown } from '../config/option-checks.ts'
import type { ServiceAddress } from '../services/service-kind.ts'
import { varName } from '../env/var-name.ts'
import { checkFaults, describeFaults, needsOwnProxy, partitionsOf, type Faults } from './faults.ts'
import { readdress } from './readdress.ts'
import { ServiceProxy, type ProxyMode } from './service-proxy.ts'

/** The `proxy` option of a service: `true`, or a fixed port for the address tests use. */
export type ProxyOption = boolean | { port?: number }

/** A service's proxy as `rig fault --list` and `rig status --json` show it. */
export interface ProxyState {
  service: string
  /** The address tests and the outside connect to. */
  url: string
  host: string
  port: number
  /** The service's own address behind it. */
  target: string
  /** Dependents with an endpoint of their own, by name: their port. */
  routes: Record<string, number>
  mode: ProxyMode
  connections: number
  /** Connections accepted since the proxy started (from tests and from dependents). */
  accepted: number
  /** Bytes clients sent through it since it started: what tells that a test (or an app it called) reached the service. */
  bytesIn: number
  /** Faults in force; `config` ones are where every test starts from. */
  faults: { faults: Faults; text: string; config: boolean }[]
}

/** Everything `GET /faults` answers. */
export interface NetworkState {
  proxies: ProxyState[]
  partitions: { between: [string, string]; config: boolean }[]
}

interface Partition {
  a: string
  b: string
  config: boolean
  /** The test worker that set it; none for the config's and the CLI's. */
  owner?: string
}

/** Checks a service's `proxy` option. */
export function checkProxyOption(v: unknown, where: string): void {
  if (v === undefined || typeof v === 'boolean') return
  const port = (v as { port?: unknown } | null)?.port
  const keysOk = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => k === 'port')
  if (!keysOk || (port !== undefined && !(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536))) {
    throw new ConfigError('RIG_CONFIG_INVALID', `${where}: proxy must be true, false or { port } with a port from 1 to 65535, got ${shown(v)}`)
  }
}

/** The services of a config as the network needs them. */
export interface NetworkPlanInput {
  services: Readonly<Record<string, { options: { proxy?: ProxyOption; faults?: Faults } }>>
  /** Each service's dependencies. */
  dependsOn: Readonly<Record<string, readonly string[]>>
}

/** The proxies and faults of one environment. */
export class Network {
  private readonly proxies = new Map<string, ServiceProxy>()
  /** Role addresses besides a service's own proxy (`db.replica`), by `<service>.<role>`. */
  private readonly roles = new Map<string, ServiceProxy>()
  private partitions: Partition[] = []
  private readonly fixedPorts = new Map<string, number>()
  /** Who set each fault in force since the start (a test worker's id, or '' for the CLI and library calls). */
  private readonly setBy = new Map<Faults, string>()
  /** Who switched each proxy out of `open` through {@link setMode}. */
  private readonly switchedBy = new Map<string, string>()
  private readonly input: NetworkPlanInput

  /** Plans the network of a validated config; throws a ConfigError for faults that cannot apply. */
  constructor(input: NetworkPlanInput) {
    this.input = input
    const want = (name: string): ServiceProxy => {
      let p = this.proxies.get(name)
      if (!p) {
        p = new ServiceProxy(name, (a, b) => this.partitioned(a, b))
        this.proxies.set(name, p)
      }
      return p
    }
    for (const [name, def] of Object.entries(input.services)) {
      const { proxy, faults } = def.options
      checkProxyOption(proxy, `service "${name}"`)
      if (proxy) want(name)
      if (typeof proxy === 'object' && proxy.port !== undefined) this.fixedPorts.set(name, proxy.port)
      if (faults === undefined) continue
      checkFaults(faults, `service "${name}": faults`)
      this.checkNames(name, faults, (code, message) => new ConfigError(code, message))
      if (needsOwnProxy(faults)) {
        const p = want(name)
        const own = withoutPartition(faults)
        p.baseline.push(own)
        p.active.push(own)
      }
      for (const other of partitionsOf(faults)) {
        want(this.routeOwner(name, other) as string)
        this.partitions.push({ a: name, b: other, config: true })
      }
    }
  }

  /** Names of the services that have a proxy. */
  get names(): string[] {
    return [...this.proxies.keys()]
  }

  /** The proxy of `name`, if it has one. */
  get(name: string): ServiceProxy | undefined {
    return this.proxies.get(name)
  }

  /**
   * Opens the address of `role` of `service` (`db.replica`): a proxy of its own, which the
   * service's topology points at a member. The service's own proxy is its primary's address.
   */
  async openRole(service: string, role: string): Promise<ServiceProxy> {
    const name = `${service}.${role}`
    let p = this.roles.get(name)
    if (!p) {
      p = new ServiceProxy(name, () => false)
      this.roles.set(name, p)
      await p.open()
    }
    return p
  }

  /** The fixed port of `name`'s proxy, from its `proxy: { port }`. */
  fixedPort(name: string): number | undefined {
    return this.fixedPorts.get(name)
  }

  private dependsOn(name: string): readonly string[] {
    return Object.hasOwn(this.input.dependsOn, name) ? (this.input.dependsOn[name] ?? []) : []
  }

  /** The service whose proxy carries the traffic between `a` and `b`, or undefined when neither depends on the other. */
  private routeOwner(a: string, b: string): string | undefined {
    if (this.dependsOn(a).includes(b)) return b
    if (this.dependsOn(b).includes(a)) return a
    return undefined
  }

  private partitioned(a: string, b: string | undefined): boolean {
    if (b === undefined) return false
    return this.partitions.some((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))
  }

  private known(name: string): boolean {
    return Object.hasOwn(this.input.services, name)
  }

  private unknown(name: string, role: string): RigError {
    return new RigError('RIG_UNKNOWN_SERVICE', `${role} "${name}" is not a service of this environment (services: ${Object.keys(this.input.services).join(', ')})`, { exitCode: 2 })
  }

  /** Checks the service names `faults` of `name` refers to. */
  private checkNames(name: string, faults: Faults, error: (code: string, message: string) => RigError): void {
    for (const other of partitionsOf(faults)) {
      if (!this.known(other)) throw error('RIG_UNKNOWN_SERVICE', `service "${name}": partition names "${other}", which is not a service of this environment (services: ${Object.keys(this.input.services).join(', ')})`)
      if (other === name) throw error('RIG_FAULT_INVALID', `service "${name}": a partition needs two services, got "${name}" twice`)
      if (!this.routeOwner(name, other)) {
        throw error('RIG_FAULT_INVALID', `service "${name}": a partition from "${other}" would cut nothing: services reach through rig's proxy only what they depend on, and neither depends on the other (add one to the other's dependsOn)`)
      }
    }
    if (faults.from !== undefined) {
      if (!this.known(faults.from)) throw error('RIG_UNKNOWN_SERVICE', `service "${name}": from names "${faults.from}", which is not a service of this environment (services: ${Object.keys(this.input.services).join(', ')})`)
      if (!this.dependsOn(faults.from).includes(name)) throw error('RIG_FAULT_INVALID', `service "${name}": from "${faults.from}" matches no connection: "${faults.from}" does not depend on "${name}", so it has no address of its own for it`)
    }
  }

  private noProxy(name: string): RigError {
    return new RigError(
      'RIG_NO_PROXY',
      `service "${name}" has no proxy, and faults go through rig's proxy in front of a service: add \`proxy: true\` to its options in rig.config.ts (or give it \`faults\` there), then start the environment again`,
      { exitCode: 2 },
    )
  }

  /** Adds faults to `name` (on top of those in force); partitions are kept by the network. `owner` is the test worker that asks, for {@link reset}. */
  fault(name: string, faults: Faults, owner = ''): void {
    if (!this.known(name)) throw this.unknown(name, 'service')
    checkFaults(faults, `fault on "${name}"`)
    this.checkNames(name, faults, (code, message) => new RigError(code, message, { exitCode: 2 }))
    const own = needsOwnProxy(faults) ? withoutPartition(faults) : undefined
    const proxy = this.proxies.get(name)
    if (own && !proxy) throw this.noProxy(name)
    for (const other of partitionsOf(faults)) {
      const owner = this.routeOwner(name, other) as string
      if (!this.proxies.has(owner)) throw this.noProxy(owner)
    }
    if (own && proxy) {
      proxy.active.push(own)
      this.setBy.set(own, owner)
      proxy.refresh()
    }
    for (const other of partitionsOf(faults)) {
      this.partitions.push({ a: name, b: other, config: false, owner })
      this.proxies.get(this.routeOwner(name, other) as string)?.refresh()
    }
  }

  /**
   * Puts `name` back as the config left it: its faults, its partitions, its proxy open. With an
   * `owner` (a test's `clearFaults()`), only what that owner set on it.
   */
  clear(name: string, owner?: string): void {
    if (!this.known(name)) throw this.unknown(name, 'service')
    const proxy = this.proxies.get(name)
    const mine = (o: string | undefined): boolean => owner === undefined || o === owner
    if (proxy) {
      this.drop(proxy, (f) => mine(this.setBy.get(f)))
      if (mine(this.switchedBy.get(name))) this.open(name, proxy)
    }
    const before = this.partitions.length
    this.partitions = this.partitions.filter((p) => p.config || (p.a !== name && p.b !== name) || !mine(p.owner))
    if (this.partitions.length !== before) for (const p of this.proxies.values()) p.refresh()
    else proxy?.refresh()
  }

  /**
   * Every service back to the config's faults, every proxy open; with an `owner`, only what that
   * owner set (what a test set, after it). Returns whether anything changed.
   */
  reset(owner?: string): boolean {
    const mine = (o: string | undefined): boolean => owner === undefined || o === owner
    let changed = false
    const before = this.partitions.length
    this.partitions = this.partitions.filter((p) => p.config || !mine(p.owner))
    if (this.partitions.length !== before) changed = true
    for (const [name, p] of this.proxies) {
      if (this.drop(p, (f) => mine(this.setBy.get(f)))) changed = true
      const by = this.switchedBy.get(name)
      if (by !== undefined && mine(by)) {
        this.open(name, p)
        changed = true
      }
      p.refresh()
    }
    return changed
  }

  /** Removes the faults of `p` set since the start that `which` selects; true when there were any. */
  private drop(p: ServiceProxy, which: (f: Faults) => boolean): boolean {
    const gone = p.active.filter((f) => !p.baseline.includes(f) && which(f))
    if (gone.length === 0) return false
    p.active = p.active.filter((f) => !gone.includes(f))
    for (const f of gone) this.setBy.delete(f)
    return true
  }

  private open(name: string, p: ServiceProxy): void {
    this.switchedBy.delete(name)
    p.setMode('open')
  }

  /** The maintenance switch of `name`'s proxy: new connections let through, held or refused. `owner` as for {@link fault}. */
  setMode(name: string, mode: ProxyMode, owner = ''): void {
    if (!this.known(name)) throw this.unknown(name, 'service')
    const proxy = this.proxies.get(name)
    if (!proxy) throw this.noProxy(name)
    if (mode === 'open') this.switchedBy.delete(name)
    else this.switchedBy.set(name, owner)
    proxy.setMode(mode)
  }

  /** The address `from` is given for its dependency `dep` (its own endpoint when `dep` has a proxy). */
  async addressFor(dep: ServiceAddress, from: string): Promise<ServiceAddress> {
    const proxy = this.proxies.get(dep.name)
    if (!proxy) return dep
    const ep = await proxy.routeFor(from)
    const outside = proxy.outside
    if (!outside) return dep
    const to = { host: ep.host, port: ep.port }
    const url = readdress(dep.url, outside, to)
    const env = { ...dep.env, [varName(dep.name, 'URL')]: url, [varName(dep.name, 'HOST')]: ep.host, [varName(dep.name, 'PORT')]: String(ep.port) }
    return { name: dep.name, host: ep.host, port: ep.port, url, env }
  }

  /** What `name` exports when it has a proxy: URL/HOST/PORT through it, DIRECT_URL/_HOST/_PORT past it. */
  proxiedExports(name: string, direct: { host: string; port: number; url: string }, env: Record<string, string>): { url: string; env: Record<string, string> } {
    const proxy = this.proxies.get(name)
    const outside = proxy?.outside
    if (!proxy || !outside) return { url: direct.url, env }
    proxy.retarget(direct.host, direct.port)
    const url = readdress(direct.url, direct, outside)
    return {
      url,
      env: {
        ...env,
        [varName(name, 'URL')]: url,
        [varName(name, 'HOST')]: outside.host,
        [varName(name, 'PORT')]: String(outside.port),
        [varName(name, 'DIRECT_URL')]: direct.url,
        [varName(name, 'DIRECT_HOST')]: direct.host,
        [varName(name, 'DIRECT_PORT')]: String(direct.port),
      },
    }
  }

  /** The state of `name`'s proxy, or undefined without one (or before it listens). */
  stateOf(name: string, directUrl?: string): ProxyState | undefined {
    const p = this.proxies.get(name) ?? this.roles.get(name)
    const outside = p?.outside
    if (!p || !outside) return undefined
    const t = p.target()
    const faults = p.active.map((f) => ({ faults: f, text: describeFaults(f), config: p.baseline.includes(f) }))
    return {
      service: name,
      url: directUrl ? readdress(directUrl, t, outside) : `tcp://${outside.host}:${outside.port}`,
      host: outside.host,
      port: outside.port,
      target: `${t.host}:${t.port}`,
      routes: p.routes(),
      mode: p.mode,
      connections: p.connections,
      accepted: p.accepted,
      bytesIn: p.bytesIn,
      faults,
    }
  }

  /** Every proxy and partition. */
  state(directUrls: Record<string, string> = {}): NetworkState {
    return {
      proxies: [...this.names, ...this.roles.keys()].flatMap((n) => this.stateOf(n, directUrls[n]) ?? []),
      partitions: this.partitions.map((p) => ({ between: [p.a, p.b], config: p.config })),
    }
  }

  /** Closes every proxy. */
  async close(): Promise<void> {
    await Promise.all([...this.proxies.values(), ...this.roles.values()].map((p) => p.close()))
  }
}

function withoutPartition(f: Faults): Faults {
  const { partition: _partition, ...rest } = f
  return rest
}
