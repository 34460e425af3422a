// `rig stop|kill|restart|pause|resume NAME`: one control of one service of the running
// environment, through its control socket.
import { controlRequest } from '../../env/control-client.ts'
import type { ServiceState } from '../../env/state.ts'
import { RigError } from '../../errors.ts'
import type { CommandContext, CommandRun } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import type { ControlAction } from './index.ts'

/** The command that applies `action` to the service named by its one argument. */
export function control(action: ControlAction): CommandRun {
  return async ({ values, positionals, out }: CommandContext): Promise<number> => {
    if (positionals.length !== 1) throw new RigError('RIG_USAGE', `rig ${action} takes one service name`, { exitCode: 2 })
    const name = positionals[0] as string
    const s = requireRunning(projectRoot(values.config as string | undefined))
    if (!Object.hasOwn(s.services, name)) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(s.services).join(', ')})`, { exitCode: 2 })
    const t = performance.now()
    const svc = await controlRequest<ServiceState>(s.controlSocket, 'POST', `/services/${encodeURIComponent(name)}/${action}`)
    if (values.json) out.json(svc)
    else out.info(`${name}: ${svc.status}${svc.pid ? ` (pid ${svc.pid})` : ''} in ${Math.round(performance.now() - t)} ms`)
    return 0
  }
}
