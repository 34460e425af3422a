// `.rig/state.json`: what `rig up` (or `rig run`) left running, so `rig status`, `rig logs`,
// `rig down` and tests in another process can find it. The file sits in the project, where
// others may be able to write: it is written 0600 without following links, believed only when
// this user wrote it, and every path in it is confined to rig's own roots: the environment's
// dir must be the verified dir of its id in this user's temp root, the control socket is
// inside it, log files are inside it or the project; the owner pid is believed only when the
// environment's own owner.json names it and the process runs as this user.
import type { MemberState } from './members.ts'
import fs from 'node:fs'
import path from 'node:path'
import { STATE_DIR } from '../config/defaults.ts'
import { RigError } from '../errors.ts'
import { isInside, myUid } from '../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../fs-safe/private-file.ts'
import type { Environment } from './environment.ts'
import type { ProxyState } from '../proxy/network.ts'
import { isAlive, procInfo } from './proc.ts'
import { envDirOf, envsRoot, readOwner } from './registry.ts'

/** One service as recorded in the state file. */
export interface ServiceState {
  kind: string
  provider: string
  status: string
  url: string
  host: string
  port: number
  pid: number | null
  readyMs: number | null
  env: Record<string, string>
  logFile: string
  /** rig's proxy in front of the service, when it has one. */
  proxy?: ProxyState
  /** The processes of a service that runs several, with their roles. */
  members?: MemberState[]
}

/** The state file's content. */
export interface EnvState {
  version: 1
  /** `up`: `rig up`'s, which `rig run` and test runs may use; `run`: a `rig run`'s own, used by nothing else. Absent: `up`. */
  origin?: 'up' | 'run'
  /** The process that owns the environment (`rig up` in the foreground or its detached supervisor). */
  pid: number
  pidStartTime?: number | undefined
  detached: boolean
  configFile: string
  envId: string
  envDir: string
  /** Unix socket of the control server. */
  controlSocket: string
  startedAt: string
  startMs: number
  services: Record<string, ServiceState>
  /** The variant of rig.config.ts it runs (`rig up --variant`); a test run attaches only with the same one. */
  variant?: string
  /** Events of the start-up, for the timeline. */
  timeline: Record<string, { dependsOn: string[]; startingAt?: number; startedAt?: number; readyAt?: number; completedAt?: number }>
}

/** Path of the state file for a project root. */
export function statePath(root: string): string {
  return path.join(root, STATE_DIR, 'state.json')
}

/** The state file exists but cannot be believed: damaged (truncated, not JSON), not this user's, or naming paths outside rig's roots. */
export class StateFileError extends RigError {
  constructor(file: string, why: string, cause?: unknown) {
    super(
      'RIG_STATE_DAMAGED',
      `${file} ${why}, so rig cannot tell what runs from it.\n  rig down stops what this project started (found through rig's own temp dir) and removes it; rig status then says what runs`,
      cause === undefined ? {} : { cause },
    )
    this.name = 'StateFileError'
  }
}

function check(file: string, s: unknown): asserts s is EnvState {
  const v = s as Partial<EnvState> | null
  const ok =
    typeof v === 'object' && v !== null && v.version === 1 && Number.isInteger(v.pid) && typeof v.envId === 'string' && typeof v.envDir === 'string' && typeof v.services === 'object' && v.services !== null
  if (!ok) throw new StateFileError(file, 'is damaged (not the state rig writes)')
}

/**
 * Reads the state file: undefined when there is none; throws {@link StateFileError} when it is
 * damaged, not this user's, or names an environment dir other than its id's in rig's temp root.
 * The result's paths are rig's own: `envDir` verified, `controlSocket` inside it, every
 * `logFile` inside it or the project (else empty).
 */
export function readState(root: string): EnvState | undefined {
  const file = statePath(root)
  let text: string | undefined
  try {
    text = readOwnFile(file)
  } catch (err) {
    throw new StateFileError(file, `cannot be trusted (${(err as Error).message})`, err)
  }
  if (text === undefined) return undefined
  let s: unknown
  try {
    s = JSON.parse(text)
  } catch (err) {
    throw new StateFileError(file, 'is damaged (truncated, or not JSON)', err)
  }
  check(file, s)
  const dir = envDirOf(s.envId)
  const expected = dir ?? ''
  if (dir === undefined) {
    const here = envsRoot()
    if (path.dirname(path.resolve(s.envDir)) !== here) {
      throw new RigError(
        'RIG_STATE_ELSEWHERE',
        `${file} describes an environment kept in ${path.dirname(s.envDir)}, not in this user's temp dir ${here}: it was started by another user or with another RIG_TMP_DIR.\n  run rig as that user with the same RIG_TMP_DIR (or remove ${file} if that environment no longer runs)`,
        { exitCode: 3 },
      )
    }
    // Its environment is gone (stopped, reaped); only the id's own place is ever acted on.
    s.envDir = ''
  } else if (path.resolve(s.envDir) !== expected) {
    throw new StateFileError(file, `names ${s.envDir} as its environment's dir, which is not rig's (${expected})`)
  } else {
    s.envDir = dir
  }
  s.controlSocket = s.envDir ? path.join(s.envDir, 'control.sock') : ''
  for (const svc of Object.values(s.services)) {
    if (typeof svc.logFile !== 'string' || !(isInside(svc.logFile, root) || (s.envDir !== '' && isInside(svc.logFile, s.envDir)))) svc.logFile = ''
  }
  return s
}

/** {@link readState}, with a damaged or untrusted file read as none (for views that only look). */
export function readStateQuietly(root: string): EnvState | undefined {
  try {
    return readState(root)
  } catch {
    return undefined
  }
}

/** Writes the state file atomically, 0600, never through a link. */
export function writeState(root: string, state: EnvState): void {
  const file = statePath(root)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writePrivateFile(file, JSON.stringify(state, null, 2))
}

/** Removes the state file (only if it still belongs to `pid`, when given). */
export function removeState(root: string, pid?: number): void {
  if (pid !== undefined) {
    const s = readStateQuietly(root)
    if (s && s.pid !== pid) return
  }
  fs.rmSync(statePath(root), { force: true })
}

/**
 * True when the state's owner process still runs and is verifiably the environment's: its
 * verified dir's owner.json names the same pid and start time, and it runs as this user.
 */
export function ownerAlive(s: EnvState): boolean {
  if (!s.envDir) return false
  const owner = readOwner(s.envDir)
  if (!owner || owner.pid !== s.pid || owner.startTime !== s.pidStartTime) return false
  return isAlive(s.pid, s.pidStartTime) && procInfo(s.pid)?.uid === myUid()
}

/** True when this process may use the environment: a live `rig up` one, or the `rig run` that started this process (RIG_ENV_ID). */
export function attachable(s: EnvState): boolean {
  return ownerAlive(s) && ((s.origin ?? 'up') === 'up' || process.env.RIG_ENV_ID === s.envId)
}

/** Identity of the current process, for the state file. */
export function selfIdentity(): { pid: number; pidStartTime: number | undefined } {
  return { pid: process.pid, pidStartTime: procInfo(process.pid)?.startTime }
}

/** The state-file view of a running environment owned by this process. */
export function environmentState(env: Environment, configFile: string, detached: boolean, controlSocket: string, origin: 'up' | 'run' = 'up'): EnvState {
  const services: Record<string, ServiceState> = {}
  const timeline: EnvState['timeline'] = {}
  for (const [name, s] of Object.entries(env.services)) {
    services[name] = env.withProxy(name, s.state())
    timeline[name] = s.timeline
  }
  // The config loader applied RIG_VARIANT (`rig up --variant`) to what was started.
  const variant = process.env.RIG_VARIANT || undefined
  return { version: 1, origin, ...selfIdentity(), detached, configFile, envId: env.id, envDir: env.dir, controlSocket, startedAt: new Date().toISOString(), startMs: env.startMs, services, ...(variant ? { variant } : {}), timeline }
}
