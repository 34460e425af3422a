// What the node side hands every worker (through the runner's own channel: Vitest's
// provide/inject, a global of Jest, an environment variable…): serialisable only.
import type { GuardMode, RestoreStrategy } from '../guard/adapter.ts'
import type { LogAllow } from './log-patterns.ts'
import type { SettleConfig } from './options.ts'
import { varName } from '../env/var-name.ts'

/** A service as a worker sees it. */
export interface ProvidedService {
  name: string
  kind: string
  url: string
  host: string
  port: number
  pid: number | null
  env: Record<string, string>
  logFile: string
  /** Error patterns (RegExp sources and flags) for the log scan. */
  errorPatterns: { source: string; flags: string }[]
  /** Whether the guard watches it. */
  guarded: boolean
  /** True when rig started it (only those are cleaned without an opt-in). */
  startedByRig: boolean
  /** Started as rig's embedded fallback (PGlite): one session serves every connection. */
  embedded?: true
  /** rig's proxy in front of it (`proxy: true`): where tests connect; `host`/`port`/`url` stay the service's own. */
  proxy?: { host: string; port: number }
  /** Per-worker urls (`isolation: 'database'`), indexed by worker id − 1. */
  workerUrls?: string[]
  /** Per-worker variables of the copies (`RIG_DB_DATABASE`…), indexed like `workerUrls`. */
  workerEnvs?: Record<string, string>[]
  /** Per-worker copies of a `command()` service (`isolation: 'stack'`), indexed by worker id − 1. */
  workerCopies?: WorkerCopy[]
  /** The control socket of the environment that runs this service when it is not the run's (a worker's copy). */
  controlSocket?: string
}

/** One worker's copy of a service (`isolation: 'stack'`): its own process, port, log and `RIG_<NAME>_*` variables. */
export type WorkerCopy = Pick<ProvidedService, 'url' | 'host' | 'port' | 'pid' | 'env' | 'logFile'> & {
  /** The control socket of the worker's stack (stop, restart… act on the copy). */
  controlSocket: string
}

/** Everything a worker needs. */
export interface RigProvided {
  services: Record<string, ProvidedService>
  /** `RIG_<NAME>_URL` etc. for every service. */
  vars: Record<string, string>
  /** Unix socket of the environment's control server (stop, restart, pause… from tests). */
  controlSocket: string | undefined
  seed: number
  /** rig.config.ts, for the fixtures a test asks for by name. */
  configFile: string
  /** The fixture loaded for the whole run (`rig({ fixture })`), if any. */
  fixture: string | undefined
  guard: {
    mode: GuardMode
    strategy: RestoreStrategy
    exclude: string[]
    allowCleaning: string[]
    /** @default false */
    keepOnFailure?: false | { max: number }
    /** What is kept outlives the run: the environment is `rig up`'s and the stores are not per-worker copies. */
    keptOutlivesRun?: boolean
    /** Waiting for the application's work in flight before each check. */
    settle?: SettleConfig
    /**
     * The guard's baseline of each store that can share one, taken once for the run by the main
     * process (`Guard.exportBaseline`), by service name: a worker adopts it while its store
     * (or its per-worker copy, made after it) still holds it, instead of taking its own.
     */
    baselines?: Record<string, unknown>
    /**
     * Unix socket of the run's guard host (src/runner/guard-host.ts) in the runner's main
     * process: a worker asks it to check and restore after each test (and to settle, switch
     * fixtures) instead of opening the guard itself, so its sessions and connections last the
     * whole run rather than one test file. Unset: each worker opens its own.
     */
    host?: string
    /**
     * The guard host runs in the environment's host process: its answer to a check carries the
     * environment's status (the log flush before the scan), so a worker makes one request per
     * test. Unset: the worker asks the control socket itself.
     */
    hostStatus?: boolean
  }
  /** `allow`: the lines the options allow (`logs.allow`, `logs.allowIn`). */
  logs: { failOnError: boolean; allow?: LogAllow }
}

/** The CA file of a service served over TLS (`RIG_<NAME>_CA_CERT`, else the `RIG_CA_CERT` among its variables). */
export function caOf(s: Pick<ProvidedService, 'name' | 'env'>): { ca?: string } {
  const ca = s.env[varName(s.name, 'CA_CERT')] ?? s.env.RIG_CA_CERT
  return ca ? { ca } : {}
}

/** The environment's status as `GET /status` of its control server answers it, as far as a test session reads it. */
export type EnvironmentStatus = { services: Record<string, { status: string; pid: number | null; proxy?: { bytesIn?: number } }> }

/** Whether `status` says service `name` is gone for good (exited, failed, or not there). */
export function exitedIn(status: EnvironmentStatus | undefined, name: string): boolean {
  const now = status?.services[name]
  return !now || now.status === 'exited' || now.status === 'failed'
}
