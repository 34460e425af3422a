// `rig stop|kill|restart|pause|resume NAME`: one control of one service of the running
// environment, through its control socket.
import { controlRequest } from '../../env/control-client.ts'
import type { ServiceState } from '../../env/state.ts'
import { RigError } from '../../errors.ts'
import type { RestartChange } from '../../services/service-kind.ts'
import type { CommandContext, CommandRun } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import type { ControlAction } from './index.ts'

/** `--run` and `--env KEY=VALUE` of `rig restart`, or undefined without them. */
function restartChange(values: CommandContext['values']): RestartChange | undefined {
  const run = values.run as string | undefined
  const pairs = (values.env as string[] | undefined) ?? []
  const env: Record<string, string> = {}
  for (const p of pairs) {
    const i = p.indexOf('=')
    if (i <= 0) throw new RigError('RIG_USAGE', `--env takes KEY=VALUE, got "${p}"`, { exitCode: 2 })
    env[p.slice(0, i)] = p.slice(i + 1)
  }
  if (run === undefined && pairs.length === 0) return undefined
  return { ...(run !== undefined ? { run } : {}), ...(pairs.length > 0 ? { env } : {}) }
}

/** The command that applies `action` to the service named by its one argument. */
export function control(action: ControlAction): CommandRun {
  return async ({ values, positionals, out }: CommandContext): Promise<number> => {
    const most = action === 'kill' ? 2 : 1
    if (positionals.length < 1 || positionals.length > most) throw new RigError('RIG_USAGE', action === 'kill' ? 'rig kill takes a service name and, for a service of several processes, a member' : `rig ${action} takes one service name`, { exitCode: 2 })
    const name = positionals[0] as string
    const member = positionals[1]
    const s = requireRunning(projectRoot(values.config as string | undefined))
    if (!Object.hasOwn(s.services, name)) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(s.services).join(', ')})`, { exitCode: 2 })
    const t = performance.now()
    const query = member === undefined ? '' : `?member=${encodeURIComponent(member)}`
    const change = action === 'restart' ? restartChange(values) : undefined
    const svc = await controlRequest<ServiceState & { master?: string }>(s.controlSocket, 'POST', `/services/${encodeURIComponent(name)}/${action}${query}`, 600_000, change)
    const ms = Math.round(performance.now() - t)
    if (values.json) out.json(svc)
    else if (svc.master !== undefined) out.info(`${name}: ${svc.master} is the master now, in ${ms} ms`)
    else out.info(`${name}: ${member === undefined ? '' : `${member} killed; `}${svc.status}${svc.pid ? ` (pid ${svc.pid})` : ''} in ${ms} ms`)
    return 0
  }
}
