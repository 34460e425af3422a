import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { NotRunningError } from '../../errors.ts'
import { controlRequest } from '../../env/control-client.ts'
import { clearDeadLock } from '../../env/project-lock.ts'
import { isAlive, procInfo } from '../../env/proc.ts'
import { environmentsOf, envsRoot, reap } from '../../env/registry.ts'
import { ownerAlive, readState, removeState, StateFileError, type EnvState } from '../../env/state.ts'
import { myUid } from '../../fs-safe/private-dir.ts'
import type { CommandContext } from '../command.ts'
import type { Output } from '../output.ts'
import { projectRoot } from '../_context.ts'

/** Waits up to 30 s for a (verified) owner to stop on its own, then SIGKILLs it and reaps its dir. */
async function waitForOwner(pid: number, startTime: number | undefined, envDir: string, out: Output): Promise<void> {
  for (let i = 0; isAlive(pid, startTime); i++) {
    if (i === 600) {
      out.info(out.e.yellow(`pid ${pid} did not stop within 30 s; killing it and its services`))
      process.kill(pid, 'SIGKILL')
      await sleep(100)
      reap(envDir)
      break
    }
    await sleep(50)
  }
}

/**
 * The state file is damaged: the environments this project published are found in rig's own
 * temp root (their owner.json names the project), their owners asked to stop, the rest reaped.
 */
async function downWithoutState(root: string, damage: StateFileError, out: Output): Promise<number> {
  const found = environmentsOf(root)
  for (const e of found) {
    const { pid, startTime } = e.owner
    if (isAlive(pid, startTime) && procInfo(pid)?.uid === myUid()) {
      process.kill(pid, 'SIGTERM')
      await waitForOwner(pid, startTime, e.dir, out)
    }
    reap(e.dir)
  }
  removeState(root)
  clearDeadLock(root)
  out.info(`${damage.message.split('\n')[0]}\n  stopped ${found.length} environment(s) this project started, found in rig's temp dir, and removed the state file`)
  return 0
}

/**
 * Where the environment's dir is, or was: its `<id>.removed` twin, left when its owner was killed
 * while removing it, is found from there ({@link reap} refuses any place but rig's own).
 */
function placeOf(s: EnvState): string {
  return s.envDir || path.join(envsRoot(), s.envId)
}

/** `rig down`: asks the environment `rig up` started to stop, and waits until it has. */
export async function down({ values, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  let s: EnvState | undefined
  try {
    s = readState(root)
  } catch (err) {
    if (err instanceof StateFileError) return downWithoutState(root, err, out)
    throw err
  }
  if (!s) throw new NotRunningError(`nothing to stop: no environment is running in ${root}`)
  const t = performance.now()
  if (!ownerAlive(s)) {
    const killed = reap(placeOf(s))
    removeState(root)
    clearDeadLock(root)
    out.info(`the environment's owner (pid ${s.pid}) was already gone; cleaned up${killed ? ` ${killed} leftover process group(s)` : ' its files'}`)
    return 0
  }
  try {
    await controlRequest(s.controlSocket, 'POST', '/down', 5000)
  } catch {
    // Not answering: fall back to a signal, which the owner handles the same way (the owner is
    // verified: its environment's owner.json names it and it runs as this user).
    process.kill(s.pid, 'SIGTERM')
  }
  await waitForOwner(s.pid, s.pidStartTime, placeOf(s), out)
  if (!isAlive(s.pid, s.pidStartTime)) {
    // The owner removes its environment's dir before it exits; whatever it left (it crashed, or
    // was killed in the middle) goes now: the dir, or `<id>.removed`.
    reap(placeOf(s))
    removeState(root, s.pid)
    clearDeadLock(root)
  }
  out.info(`stopped ${Object.keys(s.services).length} services in ${Math.round(performance.now() - t)} ms`)
  return 0
}
