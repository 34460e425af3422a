// `rig fault NAME WORDS…`, `rig fault NAME clear|hold|refuse|resume`, `rig fault --list`,
// `rig fault clear`: network faults on the running environment, through its control socket.
import { controlRequest } from '../../env/control-client.ts'
import { RigError } from '../../errors.ts'
import type { NetworkState } from '../../proxy/network.ts'
import { parseFaultWords } from '../../proxy/fault-words.ts'
import { maskPassword } from '../../services/credentials.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import type { Output } from '../output.ts'
import { columns } from '../table.ts'

function printNetwork(out: Output, state: NetworkState): void {
  if (state.proxies.length === 0) {
    out.print('no service has a proxy: add `proxy: true` to a service in rig.config.ts to inject faults into it')
    return
  }
  const rows: string[][] = [['SERVICE', 'PROXY', 'TARGET', 'NEW CONNECTIONS', 'OPEN', 'FAULTS']]
  for (const p of state.proxies) {
    const faults = p.faults.map((f) => `${f.text}${f.config ? ' (config)' : ''}`).join('; ') || '-'
    rows.push([p.service, maskPassword(p.url), p.target, p.mode === 'open' ? 'let through' : p.mode === 'hold' ? 'held' : 'refused', String(p.connections), faults])
  }
  const [head, ...body] = columns(rows)
  out.print(out.s.dim(head ?? ''))
  for (const line of body) out.print(line)
  for (const p of state.partitions) out.print(`partition: ${p.between[0]} ✕ ${p.between[1]}${p.config ? ' (config)' : ''}`)
}

/** `rig fault`. */
export async function fault({ values, positionals, out }: CommandContext): Promise<number> {
  const s = requireRunning(projectRoot(values.config as string | undefined))
  const show = (state: NetworkState): number => {
    if (values.json) out.json(state)
    else printNetwork(out, state)
    return 0
  }
  if (values.list || positionals.length === 0) {
    if (positionals.length > 0) throw new RigError('RIG_USAGE', 'rig fault --list takes no other argument', { exitCode: 2 })
    return show(await controlRequest<NetworkState>(s.controlSocket, 'GET', '/faults'))
  }
  const [name, ...words] = positionals as [string, ...string[]]
  if (name === 'clear' && words.length === 0) return show(await controlRequest<NetworkState>(s.controlSocket, 'POST', '/faults/reset'))
  if (!Object.hasOwn(s.services, name)) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(s.services).join(', ')})`, { exitCode: 2 })
  const cmd = parseFaultWords(words, values.from as string | undefined)
  const base = `/services/${encodeURIComponent(name)}`
  let state: NetworkState
  if (cmd.op === 'fault') state = await controlRequest<NetworkState>(s.controlSocket, 'POST', `${base}/fault`, 10_000, cmd.faults)
  else if (cmd.op === 'clear') state = await controlRequest<NetworkState>(s.controlSocket, 'POST', `${base}/faults/clear`)
  else state = await controlRequest<NetworkState>(s.controlSocket, 'POST', `${base}/proxy/${cmd.op}`)
  return show(state)
}
