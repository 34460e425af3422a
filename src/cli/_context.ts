// Helpers shared by commands: find the project, read a running environment's state.
import fs from 'node:fs'
import path from 'node:path'
import { STATE_DIR } from '../config/defaults.ts'
import { findConfigFile } from '../config/find-config.ts'
import { NotRunningError } from '../errors.ts'
import { ownerAlive, readState, type EnvState } from '../env/state.ts'

/** Default logs dir of CLI-started environments, relative to the config file. */
export const CLI_LOGS_DIR = path.join(STATE_DIR, 'logs')

/** The project root: the config file's directory, or the cwd when there is no config. */
export function projectRoot(configOption: string | undefined): string {
  try {
    return path.dirname(findConfigFile(configOption))
  } catch (err) {
    if (configOption) throw err
    return process.cwd()
  }
}

/** The running environment's state, or a NotRunningError saying how to start one. */
export function requireRunning(root: string): EnvState {
  const s = readState(root)
  if (!s) throw new NotRunningError(`no environment is running in ${root}: start one with \`rig up --detach\` (or \`rig up\` in another terminal)`)
  if (!ownerAlive(s)) throw new NotRunningError(`the environment in ${root} was left by a run that is gone (pid ${s.pid}): run \`rig down\` to clean it up`)
  if (!fs.existsSync(s.controlSocket)) throw new NotRunningError(`the environment in ${root} is not answering (no control socket): run \`rig down\``)
  return s
}
