// Hosting an environment for the CLI: refuse a second one, clean up a stale one, start with
// live progress, publish the state file and the control socket, and stop everything once.
import type http from 'node:http'
import path from 'node:path'
import type { LoadedConfig } from '../config/load-config.ts'
import { RigError } from '../errors.ts'
import { startEnvironment, type Environment } from '../env/environment.ts'
import type { EnvEvent } from '../env/events.ts'
import { serveControl } from '../env/control-server.ts'
import { reap } from '../env/registry.ts'
import { environmentState, ownerAlive, readState, removeState, writeState, type EnvState } from '../env/state.ts'
import { CLI_LOGS_DIR } from './_context.ts'
import type { Output } from './output.ts'
import { Progress } from './progress.ts'

/** Cleans up the state of a run that was killed; throws when a live environment exists. */
export function clearStale(root: string, out: Output): void {
  const s = readState(root)
  if (!s) return
  if (ownerAlive(s)) {
    throw new RigError('RIG_ALREADY_RUNNING', `an environment is already running here (pid ${s.pid}, started ${s.startedAt}).\n  use it (rig status, rig run), or stop it first with: rig down`, { exitCode: 2 })
  }
  const killed = reap(s.envDir)
  removeState(root)
  out.info(out.e.yellow(`cleaned up a stale environment left by a killed run (pid ${s.pid})${killed ? `: stopped ${killed} leftover process group(s)` : ''}`))
}


/** A hosted environment. */
export interface Hosted {
  env: Environment
  state: EnvState
  /** Resolves when someone asked the environment to go down (`rig down`, a signal). */
  downRequested: Promise<string>
  /** Stops services, control server and state file; idempotent. */
  stop(): Promise<void>
}

/** Starts the environment of `loaded` with progress on stderr and publishes it. */
export async function host(loaded: LoadedConfig, out: Output, options: { detached: boolean; onEvent?: (e: EnvEvent) => void; publish?: boolean }): Promise<Hosted> {
  const publish = options.publish ?? true
  if (publish) clearStale(loaded.root, out)
  const names = Object.keys(loaded.config.services)
  const progress = new Progress(out, names)
  const abort = new AbortController()
  let requestDown!: (why: string) => void
  const downRequested = new Promise<string>((r) => (requestDown = r))
  const onSignal = (sig: NodeJS.Signals): void => {
    abort.abort(new Error(sig))
    requestDown(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  let env: Environment
  try {
    // An unpublished environment (rig run --fresh beside rig up) must not truncate and share
    // the running one's log files: its logs stay in its own temp dir.
    const config = publish ? loaded.config : { ...loaded.config, logsDir: undefined }
    env = await startEnvironment(config, {
      root: loaded.root,
      ...(publish ? { logsDir: loaded.config.logsDir ?? CLI_LOGS_DIR } : {}),
      signal: abort.signal,
      onEvent: (e) => {
        progress.on(e)
        options.onEvent?.(e)
      },
    })
  } catch (err) {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
    throw err
  } finally {
    progress.stop()
  }
  const socket = path.join(env.dir, 'control.sock')
  const state = environmentState(env, loaded.file, options.detached, socket)
  let server: http.Server | undefined
  // Keep the state file's view current when services are stopped, restarted or exit.
  const refresh = (): void => writeState(loaded.root, { ...environmentState(env, loaded.file, options.detached, socket), startedAt: state.startedAt })
  if (publish) {
    server = await serveControl(env, socket, () => requestDown('rig down'))
    writeState(loaded.root, state)
    env.on(refresh)
  }
  // Keep the state file's view current when services are stopped, restarted or exit.
  let stopping: Promise<void> | undefined
  return {
    env,
    state,
    downRequested,
    stop: () =>
      (stopping ??= (async () => {
        server?.close()
        server = undefined
        await env.stop()
        if (publish) removeState(loaded.root, process.pid)
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGHUP', onSignal)
      })()),
  }
}
