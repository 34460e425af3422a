// `rig host NAME down|up`, `rig host NAME partition|heal OTHER`, `rig host --list`: the hosts
// (network namespaces) of the running environment, through its control socket.
import { controlRequest } from '../../env/control-client.ts'
import { RigError } from '../../errors.ts'
import type { HostsState } from '../../hosts/host-network.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import type { Output } from '../output.ts'
import { columns } from '../table.ts'

function printHosts(out: Output, state: HostsState | { hosts: [] }): void {
  if (state.hosts.length === 0 || !('subnet' in state)) {
    out.print("this environment has no hosts: add hosts: { core1: {} } to rig.config.ts and host: 'core1' to services")
    return
  }
  const rows: string[][] = [['HOST', 'ADDRESS', 'LINK', 'NAMESPACE']]
  for (const h of state.hosts) rows.push([h.name, h.address, h.down ? 'down' : 'up', h.netns])
  const [head, ...body] = columns(rows)
  out.print(out.s.dim(head ?? ''))
  for (const line of body) out.print(line)
  for (const [a, b] of state.partitions) out.print(`partition: ${a} ✕ ${b}`)
  out.print(out.s.dim(`network ${state.subnet}, this machine at ${state.gateway}`))
}

const USAGE = 'rig host NAME down|up | rig host NAME partition|heal OTHER | rig host --list'

/** `rig host`. */
export async function host({ values, positionals, out }: CommandContext): Promise<number> {
  const s = requireRunning(projectRoot(values.config as string | undefined))
  const show = (state: HostsState): number => {
    if (values.json) out.json(state)
    else printHosts(out, state)
    return 0
  }
  if (values.list || positionals.length === 0) {
    if (positionals.length > 0) throw new RigError('RIG_USAGE', 'rig host --list takes no other argument', { exitCode: 2 })
    return show(await controlRequest<HostsState>(s.controlSocket, 'GET', '/hosts'))
  }
  const [name, action, other, ...rest] = positionals as [string, string | undefined, string | undefined, ...string[]]
  const pair = action === 'partition' || action === 'heal'
  const single = action === 'down' || action === 'up'
  if (!(single && other === undefined) && !(pair && other !== undefined && rest.length === 0)) {
    throw new RigError('RIG_USAGE', `usage: ${USAGE}`, { exitCode: 2 })
  }
  const path = `/hosts/${encodeURIComponent(name)}/${action}${pair ? `/${encodeURIComponent(other as string)}` : ''}`
  return show(await controlRequest<HostsState>(s.controlSocket, 'POST', path, 15_000))
}
