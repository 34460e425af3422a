// `rig topology NAME` (members and roles), `rig topology NAME switchover|failover [--to N]`,
// `rig topology NAME promote N`, `rig topology NAME rejoin [N]`: role changes on the running
// environment, through its control socket.
import { controlRequest } from '../../env/control-client.ts'
import { RigError } from '../../errors.ts'
import type { RoleChangeResult, TopologyState } from '../../topology/control-routes.ts'
import { TOPOLOGY_OPS } from '../../topology/topology.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import type { Output } from '../output.ts'
import { columns } from '../table.ts'

function printTopology(out: Output, state: TopologyState): void {
  const rows: string[][] = [['NODE', 'ROLE', 'ADDRESS', 'PID']]
  for (const n of state.nodes) rows.push([String(n.node), n.role, `${n.host}:${n.port}`, n.pid === null ? '-' : String(n.pid)])
  const [head, ...body] = columns(rows)
  out.print(out.s.dim(head ?? ''))
  for (const line of body) out.print(line)
  for (const c of state.changes) out.print(out.s.dim(`+${(c.at / 1000).toFixed(1)}s ${c.kind === 'role' ? 'role ' : 'fault'} ${c.text}`))
}

function nodeArg(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new RigError('RIG_USAGE', `${what} must be a node number (0 started as primary, 1… as replicas), got "${v}"`, { exitCode: 2 })
  return Number(v)
}

/** `rig topology`. */
export async function topology({ values, positionals, out }: CommandContext): Promise<number> {
  const s = requireRunning(projectRoot(values.config as string | undefined))
  const [name, op, arg, ...extra] = positionals
  if (!name) throw new RigError('RIG_USAGE', 'rig topology needs a service: rig topology NAME [switchover|failover|promote N|rejoin [N]]', { exitCode: 2 })
  if (!Object.hasOwn(s.services, name)) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(s.services).join(', ')})`, { exitCode: 2 })
  if (extra.length > 0) throw new RigError('RIG_USAGE', `unexpected argument "${extra[0]}"`, { exitCode: 2 })
  const base = `/services/${encodeURIComponent(name)}/topology`
  if (op === undefined) {
    const state = await controlRequest<TopologyState>(s.controlSocket, 'GET', base)
    if (values.json) out.json(state)
    else printTopology(out, state)
    return 0
  }
  if (!(TOPOLOGY_OPS as readonly string[]).includes(op)) throw new RigError('RIG_USAGE', `unknown operation "${op}" (${TOPOLOGY_OPS.join(', ')})`, { exitCode: 2 })
  if (arg !== undefined && op !== 'promote' && op !== 'rejoin') throw new RigError('RIG_USAGE', `${op} takes no node: use --to N to choose the replica to promote`, { exitCode: 2 })
  const body: Record<string, unknown> = {}
  const node = nodeArg(arg, 'the node')
  if (node !== undefined) body.node = node
  const to = nodeArg(values.to as string | undefined, '--to')
  if (to !== undefined) body.to = to
  if (values.during !== undefined) body.during = values.during
  const result = await controlRequest<RoleChangeResult>(s.controlSocket, 'POST', `${base}/${op}`, 120_000, body)
  if (values.json) out.json(result)
  else {
    out.print(`${name}: ${result.change.text} in ${result.change.ms} ms`)
    printTopology(out, { ...result, changes: [] })
  }
  return 0
}
