// The hosts of one environment: a bridge in the root namespace holding the /24's first address,
// and per host a network namespace joined to it by a veth pair, with its own address. Tests
// (the root namespace) reach every host over the bridge; hosts reach each other across it. A
// partition is an `unreachable` route on both sides; a host's loss is its bridge port down.
import { RigError } from '../errors.ts'
import { suggest } from '../config/suggest.ts'
import { ip, ipBatch, IpCommandError, ipJson } from './ip.ts'
import { bridgeAlias, bridgeName, netnsName, portName } from './names.ts'
import { removeHostsOf } from './sweep.ts'
import { type Cidr, dotted, formatCidr, overlaps, parseCidr, slash24s } from './subnet.ts'

/** One host, as the environment knows it. */
export interface HostInfo {
  name: string
  /** Its address on the environment's bridge, e.g. `10.213.7.2`. */
  address: string
  /** The network namespace its services run in. */
  netns: string
  /** True between `down()` and `up()`. */
  down: boolean
}

/** What `rig status` and the control API show. */
export interface HostsState {
  subnet: string
  /** The root namespace's address on the bridge (what hosts see tests connect from). */
  gateway: string
  hosts: HostInfo[]
  /** Pairs of hosts that cannot reach each other. */
  partitions: Array<[string, string]>
}

/** A host name, partition or address that does not fit. */
export class HostError extends RigError {
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 2 })
    this.name = 'HostError'
  }
}

/** Addresses and routes the machine has, as ranges with where they are. */
async function rangesInUse(): Promise<Array<{ range: Cidr; where: string }>> {
  const out: Array<{ range: Cidr; where: string }> = []
  const [links, routes] = await Promise.all([
    ipJson<Array<{ ifname: string; addr_info?: Array<{ local: string; prefixlen: number }> }>>(['-4', 'addr', 'show']),
    ipJson<Array<{ dst: string; dev?: string; type?: string }>>(['-4', 'route', 'show', 'table', 'all']),
  ])
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      const range = parseCidr(`${a.local}/${a.prefixlen}`)
      if (range) out.push({ range, where: `${a.local}/${a.prefixlen} on ${l.ifname}` })
    }
  }
  for (const r of routes) {
    if (r.dst === 'default' || r.type === 'broadcast') continue
    const range = parseCidr(r.dst)
    if (range && range.prefix > 0) out.push({ range, where: `a route to ${r.dst}${r.dev ? ` via ${r.dev}` : ''}` })
  }
  return out
}

/** The hosts of one environment. Made with {@link HostNetwork.create}; removed with {@link close}. */
export class HostNetwork {
  readonly envId: string
  readonly subnet: Cidr
  readonly bridge: string
  private readonly hosts = new Map<string, HostInfo & { port: string }>()
  /** Partitions in force, by pair: who set each (test workers' ids, '' for the CLI and library calls). */
  private readonly cut = new Map<string, Set<string>>()
  /** Hosts down, by name: who took each down. */
  private readonly downBy = new Map<string, Set<string>>()
  private closed = false

  private constructor(envId: string, subnet: Cidr, bridge: string) {
    this.envId = envId
    this.subnet = subnet
    this.bridge = bridge
  }

  /**
   * Makes the bridge and one namespace per host. `network` is a /24 (taken as is: an overlap
   * with an address or route of the machine is an error) or a larger pool (a free /24 is
   * taken from it). On failure, whatever was made is removed.
   */
  static async create(envId: string, names: readonly string[], network: string): Promise<HostNetwork> {
    const pool = parseCidr(network)
    if (!pool || pool.prefix > 24 || pool.prefix < 8) throw new HostError('RIG_CONFIG_INVALID', `hostNetwork must be an IPv4 range from /8 to /24 such as "10.213.0.0/16", got ${JSON.stringify(network)}`)
    const inUse = await rangesInUse()
    let net: HostNetwork | undefined
    for (const candidate of slash24s(pool, pool.prefix === 24 ? 0 : process.pid)) {
      const clash = inUse.find((u) => overlaps(u.range, candidate))
      if (clash) {
        if (pool.prefix === 24) {
          throw new HostError('RIG_HOST_ADDRESS_IN_USE', `hostNetwork ${formatCidr(candidate)} overlaps ${clash.where}: choose a range this machine does not use (hostNetwork in rig.config.ts or RIG_HOST_NETWORK), e.g. "10.213.0.0/16"`)
        }
        continue
      }
      const bridge = bridgeName(candidate.base)
      try {
        await ip(['link', 'add', bridge, 'type', 'bridge'])
      } catch (err) {
        // Another environment took this /24 between the look and the claim: the name is the lock.
        if (err instanceof IpCommandError && /exists/i.test(err.stderr)) continue
        throw err
      }
      net = new HostNetwork(envId, candidate, bridge)
      break
    }
    if (!net) throw new HostError('RIG_HOST_ADDRESS_IN_USE', `no free /24 left in hostNetwork ${network}: every one overlaps an address or route of this machine or another environment's hosts; name a larger or other range (hostNetwork in rig.config.ts or RIG_HOST_NETWORK)`)
    try {
      await net.build(names)
    } catch (err) {
      await net.close()
      throw err
    }
    return net
  }

  private async build(names: readonly string[]): Promise<void> {
    const b = this.bridge
    // One `ip` process for the root namespace's part, then one per host for its own, in parallel.
    const root: string[][] = [
      ['link', 'set', 'dev', b, 'alias', `"${bridgeAlias(this.envId)}"`],
      ['addr', 'add', `${this.gateway}/24`, 'dev', b],
      ['link', 'set', 'dev', b, 'up'],
    ]
    names.forEach((name, i) => {
      const netns = netnsName(this.envId, name)
      const port = portName(b, i + 1)
      this.hosts.set(name, { name, address: dotted(this.subnet.base + i + 2), netns, down: false, port })
      root.push(['netns', 'add', netns], ['link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns], ['link', 'set', 'dev', port, 'master', b, 'up'])
    })
    await ipBatch(root)
    await Promise.all(
      [...this.hosts.values()].map((h) =>
        ipBatch(
          [
            ['addr', 'add', `${h.address}/24`, 'dev', 'eth0'],
            ['link', 'set', 'dev', 'eth0', 'up'],
            ['link', 'set', 'dev', 'lo', 'up'],
          ],
          h.netns,
        ),
      ),
    )
  }

  /** The root namespace's address on the bridge. */
  get gateway(): string {
    return dotted(this.subnet.base + 1)
  }

  /** Host `name`; throws a clear error for an unknown one. */
  get(name: string): HostInfo {
    const { port: _port, ...info } = this.entry(name)
    return info
  }

  private entry(name: string): HostInfo & { port: string } {
    const h = this.hosts.get(name)
    if (!h) {
      const known = [...this.hosts.keys()]
      const s = suggest(name, known)
      throw new HostError('RIG_UNKNOWN_HOST', `no host "${name}" in this environment${s ? ` — did you mean "${s}"?` : ''} (hosts: ${known.join(', ')})`)
    }
    return h
  }

  /** Host names, in the config's order. */
  names(): string[] {
    return [...this.hosts.keys()]
  }

  private pair(a: string, b: string): [HostInfo, HostInfo, string] {
    const ha = this.get(a)
    const hb = this.get(b)
    if (a === b) throw new HostError('RIG_HOST_INVALID', `a partition needs two different hosts, got "${a}" twice`)
    return [ha, hb, [a, b].sort().join('\u0000')]
  }

  /**
   * `a` and `b` can no longer reach each other (new connections fail with EHOSTUNREACH, open ones
   * stall); both stay reachable from the root namespace. `owner` is the test worker that asks,
   * for {@link reset}.
   */
  async partition(a: string, b: string, owner = ''): Promise<boolean> {
    const [ha, hb, key] = this.pair(a, b)
    const by = this.cut.get(key)
    if (by) {
      by.add(owner)
      return false
    }
    this.cut.set(key, new Set([owner]))
    await Promise.all([ip(['-n', ha.netns, 'route', 'replace', 'unreachable', `${hb.address}/32`]), ip(['-n', hb.netns, 'route', 'replace', 'unreachable', `${ha.address}/32`])])
    return true
  }

  /** Ends the partition between `a` and `b`. */
  async heal(a: string, b: string): Promise<boolean> {
    const [ha, hb, key] = this.pair(a, b)
    if (!this.cut.has(key)) return false
    await Promise.all([this.dropRoute(ha.netns, hb.address), this.dropRoute(hb.netns, ha.address)])
    this.cut.delete(key)
    return true
  }

  private async dropRoute(netns: string, address: string): Promise<void> {
    try {
      await ip(['-n', netns, 'route', 'del', 'unreachable', `${address}/32`])
    } catch (err) {
      if (!(err instanceof IpCommandError && /No such process|not found/i.test(err.stderr))) throw err
    }
  }

  /** Node loss: the host's link goes down, so nothing reaches it and it reaches nothing; its processes keep running. `owner` as for {@link partition}. */
  async down(name: string, owner = ''): Promise<boolean> {
    const h = this.entry(name)
    const by = this.downBy.get(name) ?? new Set<string>()
    this.downBy.set(name, by.add(owner))
    if (h.down) return false
    await ip(['link', 'set', 'dev', h.port, 'down'])
    h.down = true
    return true
  }

  /** The host's link comes back; connections that stalled go on unless their peers gave up. */
  async up(name: string): Promise<boolean> {
    const h = this.entry(name)
    this.downBy.delete(name)
    if (!h.down) return false
    await ip(['link', 'set', 'dev', h.port, 'up'])
    h.down = false
    return true
  }

  /**
   * Every host up, every partition healed; with an `owner`, only what no one else holds: a
   * partition or a loss another test worker also set stays until that one's reset. True when
   * something changed.
   */
  async reset(owner?: string): Promise<boolean> {
    const done = (by: Set<string> | undefined): boolean => {
      if (owner === undefined || !by) return true
      by.delete(owner)
      return by.size === 0
    }
    let changed = false
    for (const [key, by] of [...this.cut]) {
      const [a, b] = key.split('\u0000') as [string, string]
      if (done(by)) changed = (await this.heal(a, b)) || changed
    }
    for (const name of this.hosts.keys()) if (done(this.downBy.get(name))) changed = (await this.up(name)) || changed
    return changed
  }

  /** For `rig status` and the control API. */
  state(): HostsState {
    return {
      subnet: formatCidr(this.subnet),
      gateway: this.gateway,
      hosts: [...this.hosts.keys()].map((n) => this.get(n)),
      partitions: [...this.cut.keys()].map((k) => k.split('\u0000') as [string, string]),
    }
  }

  /** Removes the namespaces, links and routes. Idempotent; run after the hosts' processes stopped. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // The hosts' processes stopped with their services: nothing to kill inside.
    removeHostsOf(this.envId, { killInside: false })
  }
}
