// `.rig/state.json`: what `rig up` left running, so `rig status`, `rig logs`, `rig down` and
// tests in another process can find it.
import fs from 'node:fs'
import path from 'node:path'
import { STATE_DIR } from '../config/defaults.ts'
import type { Environment } from './environment.ts'
import type { ProxyState } from '../proxy/network.ts'
import { isAlive, processStartTime } from './proc.ts'

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
}

/** The state file's content. */
export interface EnvState {
  version: 1
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
  /** Events of the start-up, for the timeline. */
  timeline: Record<string, { dependsOn: string[]; startingAt?: number; startedAt?: number; readyAt?: number; completedAt?: number }>
}

/** Path of the state file for a project root. */
export function statePath(root: string): string {
  return path.join(root, STATE_DIR, 'state.json')
}

/** Reads the state file, or undefined when there is none. */
export function readState(root: string): EnvState | undefined {
  try {
    return JSON.parse(fs.readFileSync(statePath(root), 'utf8')) as EnvState
  } catch {
    return undefined
  }
}

/** Writes the state file atomically. */
export function writeState(root: string, state: EnvState): void {
  const file = statePath(root)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  fs.renameSync(`${file}.tmp`, file)
}

/** Removes the state file (only if it still belongs to `pid`, when given). */
export function removeState(root: string, pid?: number): void {
  const s = readState(root)
  if (pid !== undefined && s && s.pid !== pid) return
  fs.rmSync(statePath(root), { force: true })
}

/** True when the state's owner process still runs. */
export function ownerAlive(s: EnvState): boolean {
  return isAlive(s.pid, s.pidStartTime)
}

/** Identity of the current process, for the state file. */
export function selfIdentity(): { pid: number; pidStartTime: number | undefined } {
  return { pid: process.pid, pidStartTime: processStartTime(process.pid) }
}

/** The state-file view of a running environment owned by this process. */
export function environmentState(env: Environment, configFile: string, detached: boolean, controlSocket: string): EnvState {
  const services: Record<string, ServiceState> = {}
  const timeline: EnvState['timeline'] = {}
  for (const [name, s] of Object.entries(env.services)) {
    services[name] = env.withProxy(name, s.state())
    timeline[name] = s.timeline
  }
  return { version: 1, ...selfIdentity(), detached, configFile, envId: env.id, envDir: env.dir, controlSocket, startedAt: new Date().toISOString(), startMs: env.startMs, services, timeline }
}
