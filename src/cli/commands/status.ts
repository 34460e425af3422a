import { NotRunningError } from '../../errors.ts'
import { controlRequest } from '../../env/control-client.ts'
import type { EnvState, ServiceState } from '../../env/state.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot, requireRunning } from '../_context.ts'
import { printServices, servicesJson } from '../table.ts'

/** `rig status`: the running services, live from the control socket when it answers. */
export async function status({ values, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  let s: EnvState
  try {
    s = requireRunning(root)
  } catch (err) {
    if (values.json && err instanceof NotRunningError) out.json({ running: false, services: {} })
    throw err
  }
  // The live view knows about pauses, restarts and crashes since the state was written.
  const live = await controlRequest<{ services: Record<string, ServiceState> }>(s.controlSocket, 'GET', '/status', 5000).catch(() => undefined)
  const state = live ? { ...s, services: live.services } : s
  if (values.json) out.json(servicesJson(state))
  else printServices(out, state)
  return 0
}
