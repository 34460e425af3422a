import { spawn } from 'node:child_process'
import os from 'node:os'
import { loadConfig } from '../../config/load-config.ts'
import { RigError } from '../../errors.ts'
import { attachable, ownerAlive, readStateQuietly } from '../../env/state.ts'
import type { CommandContext } from '../command.ts'
import { host } from '../_host.ts'
import type { Output } from '../output.ts'

function runChild(cmd: string[], env: Record<string, string>, out: Output, downRequested?: Promise<string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } })
    // `rig down` from another terminal: the environment is going away, so CMD must end too
    // (otherwise `rig down` waits 30 s and then SIGKILLs rig). Signals are handled below.
    void downRequested?.then((why) => {
      if (why !== 'rig down' || child.exitCode !== null || child.signalCode !== null) return
      out.info(`stopping ${cmd[0]} (rig down)…`)
      child.kill('SIGTERM')
    })
    // The child gets Ctrl-C from the terminal itself; forward the rest.
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig)
    process.on('SIGTERM', forward)
    process.on('SIGHUP', forward)
    process.on('SIGINT', () => {})
    child.on('error', (err) => {
      out.error(`could not run ${cmd[0]}: ${err.message}`)
      resolve(127)
    })
    child.on('close', (code, signal) => {
      process.off('SIGTERM', forward)
      process.off('SIGHUP', forward)
      // Like a shell: 128 + the signal number (only INT, TERM and KILL were mapped before, so
      // any other signal gave NaN and crashed the CLI on `process.exitCode = NaN`).
      resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1))
    })
  })
}

/**
 * `rig run -- CMD`: CMD against the environment `rig up` runs in the project, or one started for
 * it. Never another `rig run`'s: that one ends with its command. CMD gets RIG_ENV_ID, so a test
 * run it starts (the Vitest plugin) uses this environment.
 */
export async function run({ values, rest, out }: CommandContext): Promise<number> {
  if (rest.length === 0) throw new RigError('RIG_USAGE', 'nothing to run: rig run -- CMD [ARGS...]', { exitCode: 2 })
  const loaded = await loadConfig(values.config as string | undefined)
  // A damaged state file is no environment to use; the project's lock decides below.
  const existing = readStateQuietly(loaded.root)
  if (existing && attachable(existing) && !values.fresh) {
    out.info(out.e.dim(`using the environment started by rig up (pid ${existing.pid})`))
    const env: Record<string, string> = Object.assign({ RIG_ENV_ID: existing.envId }, ...Object.values(existing.services).map((s) => s.env))
    return runChild(rest, env, out)
  }
  if (existing && ownerAlive(existing) && !values.fresh) out.info(out.e.dim(`another rig run (pid ${existing.pid}) has this project's environment; starting one of its own`))
  const hosted = await host(loaded, out, { detached: false, origin: 'run', whenUp: 'private', publish: !(existing && ownerAlive(existing)) })
  try {
    return await runChild(rest, { ...hosted.env.vars(), RIG_ENV_ID: hosted.env.id }, out, hosted.downRequested)
  } finally {
    await hosted.stop()
  }
}
