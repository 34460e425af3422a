import { setTimeout as sleep } from 'node:timers/promises'
import { NotRunningError } from '../../errors.ts'
import { controlRequest } from '../../env/control-client.ts'
import { isAlive } from '../../env/proc.ts'
import { reap } from '../../env/registry.ts'
import { ownerAlive, readState, removeState } from '../../env/state.ts'
import type { CommandContext } from '../command.ts'
import { projectRoot } from '../_context.ts'

/** `rig down`: asks the environment `rig up` started to stop, and waits until it has. */
export async function down({ values, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  const s = readState(root)
  if (!s) throw new NotRunningError(`nothing to stop: no environment is running in ${root}`)
  const t = performance.now()
  if (!ownerAlive(s)) {
    const killed = reap(s.envDir)
    removeState(root)
    out.info(`the environment's owner (pid ${s.pid}) was already gone; cleaned up${killed ? ` ${killed} leftover process group(s)` : ' its files'}`)
    return 0
  }
  try {
    await controlRequest(s.controlSocket, 'POST', '/down', 5000)
  } catch {
    // Not answering: fall back to a signal, which the owner handles the same way.
    process.kill(s.pid, 'SIGTERM')
  }
  for (let i = 0; isAlive(s.pid, s.pidStartTime); i++) {
    if (i === 600) {
      out.info(out.e.yellow(`pid ${s.pid} did not stop within 30 s; killing it and its services`))
      process.kill(s.pid, 'SIGKILL')
      await sleep(100)
      reap(s.envDir)
      removeState(root)
      break
    }
    await sleep(50)
  }
  out.info(`stopped ${Object.keys(s.services).length} services in ${Math.round(performance.now() - t)} ms`)
  return 0
}
