// Hosting an environment for the CLI: one per project directory (`.rig/lock`), a stale one
// cleaned up, started with live progress, published (state file, control socket), stopped once.
import type http from 'node:http'
import path from 'node:path'
import type { LoadedConfig } from '../config/load-config.ts'
import { RigError } from '../errors.ts'
import { backgroundDone, startEnvironment, type Environment } from '../env/environment.ts'
import type { EnvEvent } from '../env/events.ts'
import { serveControl } from '../env/control-server.ts'
import { acquireProjectLock, type LockOwner, type ProjectLock } from '../env/project-lock.ts'
import { environmentsOf, reap } from '../env/registry.ts'
import { isAlive } from '../env/proc.ts'
import { environmentState, ownerAlive, readState, removeState, StateFileError, writeState, type EnvState } from '../env/state.ts'
import { CLI_LOGS_DIR } from './_context.ts'
import type { Output } from './output.ts'
import { Progress } from './progress.ts'

/** The error when a project's environment is already up. */
export function alreadyRunning(root: string, holder: LockOwner): RigError {
  return new RigError('RIG_ALREADY_RUNNING', `an environment is already running in ${root} (pid ${holder.pid}).\n  see it with: rig status; use it: rig run -- CMD; stop it first with: rig down`, { exitCode: 2 })
}

/**
 * Cleans up the state of a run that was killed (the caller holds the project's lock); throws
 * when a live environment exists. A damaged state file is removed after the environments this
 * project published whose owner died are reaped.
 */
export function clearStale(root: string, out: Output): void {
  let s: EnvState | undefined
  try {
    s = readState(root)
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err
    let killed = 0
    for (const e of environmentsOf(root)) {
      if (isAlive(e.owner.pid, e.owner.startTime)) throw alreadyRunning(root, e.owner)
      killed += reap(e.dir)
    }
    removeState(root)
    out.info(out.e.yellow(`removed a damaged state file${killed ? `; stopped ${killed} leftover process group(s)` : ''}`))
    return
  }
  if (!s) return
  if (ownerAlive(s)) throw alreadyRunning(root, s)
  const killed = s.envDir ? reap(s.envDir) : 0
  removeState(root)
  out.info(out.e.yellow(`cleaned up a stale environment left by a killed run (pid ${s.pid})${killed ? `: stopped ${killed} leftover process group(s)` : ''}`))
}

/** A hosted environment. */
export interface Hosted {
  env: Environment
  state: EnvState
  /** Resolves when someone asked the environment to go down (`rig down`, a signal). */
  downRequested: Promise<string>
  /** Stops services, control server and state file, and resolves once the environment's dir is removed; idempotent. */
  stop(): Promise<void>
}

/** How {@link host} publishes the environment. */
export interface HostOptions {
  detached: boolean
  onEvent?: (e: EnvEvent) => void
  /** Publish it in the project (state file, control socket, lock). @default true */
  publish?: boolean
  /** Who starts it: `run` environments are used by nothing else. @default 'up' */
  origin?: 'up' | 'run'
  /** When another environment is up in the project: fail (`rig up`), or start an unpublished one (`rig run`). @default 'fail' */
  whenUp?: 'fail' | 'private'
}

/** Starts the environment of `loaded` with progress on stderr and publishes it. */
export async function host(loaded: LoadedConfig, out: Output, options: HostOptions): Promise<Hosted> {
  let publish = options.publish ?? true
  let lock: ProjectLock | undefined
  if (publish) {
    const got = acquireProjectLock(loaded.root)
    if ('heldBy' in got) {
      if (options.whenUp !== 'private') throw alreadyRunning(loaded.root, got.heldBy)
      publish = false
    } else {
      lock = got
      try {
        clearStale(loaded.root, out)
      } catch (err) {
        lock.release()
        throw err
      }
    }
  }
  const origin = options.origin ?? 'up'
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
      ...(publish ? { logsDir: loaded.config.logsDir ?? CLI_LOGS_DIR, project: loaded.root } : {}),
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
    lock?.release()
    throw err
  } finally {
    progress.stop()
  }
  const socket = path.join(env.dir, 'control.sock')
  const state = environmentState(env, loaded.file, options.detached, socket, origin)
  let server: http.Server | undefined
  // Keep the state file's view current when services are stopped, restarted or exit.
  const refresh = (): void => writeState(loaded.root, { ...environmentState(env, loaded.file, options.detached, socket, origin), startedAt: state.startedAt })
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
        // Its dir (~25 MB of data dirs) is removed in the background: this process exits only
        // once it is gone, a second Ctrl-C meanwhile still handled here.
        await backgroundDone()
        if (publish) removeState(loaded.root, process.pid)
        lock?.release()
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        process.off('SIGHUP', onSignal)
      })()),
  }
}
