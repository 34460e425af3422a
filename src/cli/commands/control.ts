import { controlRequest } from '../../env/control-client.ts'
import type { ServiceState } from '../../env/state.ts'
import { RigError } from '../../errors.ts'
import type { Command } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'

const WHAT = {
  stop: 'stop a service gracefully (it stays stopped until restart)',
  kill: 'SIGKILL a service and its children (simulate a crash)',
  restart: 'restart a service on the same port and data, and wait until ready',
  pause: 'freeze a service with SIGSTOP (connections hang)',
  resume: 'resume a paused service (SIGCONT)',
} as const

function controlCommand(action: keyof typeof WHAT): Command {
  return {
    name: action,
    summary: WHAT[action],
    usage: `rig ${action} NAME [--json]`,
    options: { json: { type: 'boolean', description: 'print the service as JSON afterwards' } },
    positionals: true,
    async run({ values, positionals, out }) {
      if (positionals.length !== 1) throw new RigError('RIG_USAGE', `rig ${action} takes one service name`, { exitCode: 2 })
      const name = positionals[0] as string
      const s = requireRunning(projectRoot(values.config as string | undefined))
      if (!Object.hasOwn(s.services, name)) throw new RigError('RIG_UNKNOWN_SERVICE', `no service "${name}" (services: ${Object.keys(s.services).join(', ')})`, { exitCode: 2 })
      const t = performance.now()
      const svc = await controlRequest<ServiceState>(s.controlSocket, 'POST', `/services/${encodeURIComponent(name)}/${action}`)
      if (values.json) out.json(svc)
      else out.info(`${name}: ${svc.status}${svc.pid ? ` (pid ${svc.pid})` : ''} in ${Math.round(performance.now() - t)} ms`)
      return 0
    },
  }
}

export const controlCommands: Command[] = (Object.keys(WHAT) as (keyof typeof WHAT)[]).map(controlCommand)
