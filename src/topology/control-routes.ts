// The topology's part of the control API (`rig topology`, and tests through the control
// socket): GET /services/NAME/topology, POST /services/NAME/topology/promote|switchover|failover|rejoin
// with a JSON body `{ node?, to?, during? }`. Every role change is recorded in the environment's timeline.
import type http from 'node:http'
import type { Environment } from '../env/environment.ts'
import type { TimelineChange } from '../env/timeline.ts'
import { readJson } from '../proxy/control-routes.ts'
import { maskPassword } from '../services/credentials.ts'
import { TOPOLOGY_OPS, TopologyError, type RoleChange, type RoleChangeOptions, type Topology, type TopologyNode } from './topology.ts'

/** What `GET /services/NAME/topology` answers. */
export interface TopologyState {
  service: string
  nodes: TopologyNode[]
  /** The role changes and faults of this service since the start. */
  changes: TimelineChange[]
}

/** What a role change answers. */
export interface RoleChangeResult extends TopologyState {
  change: RoleChange
}

function topologyOf(env: Environment, name: string): Topology {
  const t = env.get(name).topology
  if (!t) throw new TopologyError(`service "${name}" has no replicas, so it has no roles to change: give it \`replicas: 1\` or more (postgres({ replicas: 1 })) in rig.config.ts`)
  return t
}

function stateOf(env: Environment, name: string, t: Topology): TopologyState {
  return { service: name, nodes: t.nodes().map((n) => ({ ...n, url: maskPassword(n.url) })), changes: env.changes.filter((c) => c.service === name) }
}

function node(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (!Number.isInteger(v) || (v as number) < 0) throw new TopologyError(`${key} must be a node number (0 started as primary, 1… as replicas), got ${JSON.stringify(v)}`)
  return v as number
}

function options(body: Record<string, unknown>): RoleChangeOptions {
  const during = body.during
  if (during !== undefined && during !== 'hold' && during !== 'refuse') throw new TopologyError(`during must be "hold" or "refuse", got ${JSON.stringify(during)}`)
  const to = node(body.to, 'to')
  return { ...(to !== undefined ? { to } : {}), ...(during ? { during } : {}) }
}

/** Answers a topology route, or returns undefined when `parts` is not one. */
export async function topologyRoute(env: Environment, req: http.IncomingMessage, parts: readonly string[]): Promise<unknown> {
  if (parts[0] !== 'services' || parts[2] !== 'topology' || parts.length > 4) return undefined
  const name = decodeURIComponent(parts[1] ?? '')
  if (parts.length === 3 && req.method === 'GET') return stateOf(env, name, topologyOf(env, name))
  const op = parts[3] as (typeof TOPOLOGY_OPS)[number]
  if (req.method !== 'POST' || !TOPOLOGY_OPS.includes(op)) return undefined
  return topologyOp(env, name, op, ((await readJson(req)) ?? {}) as Record<string, unknown>)
}

/** Runs role change `op` on service `name` with the options of `body`, and records it in the timeline. */
export async function topologyOp(env: Environment, name: string, op: (typeof TOPOLOGY_OPS)[number], body: Record<string, unknown>): Promise<RoleChangeResult> {
  const t = topologyOf(env, name)
  const o = options(body)
  let change: RoleChange
  if (op === 'promote') {
    const n = node(body.node, 'node')
    if (n === undefined) throw new TopologyError('promote needs the node to promote, e.g. promote(1)')
    change = await t.promote(n, o)
  } else if (op === 'rejoin') change = await t.rejoin(node(body.node, 'node'))
  else change = await t[op](o)
  env.record(name, 'role', change.text)
  return { change, ...stateOf(env, name, t) }
}
