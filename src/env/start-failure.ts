// The errors of a start that failed: a process that could not be spawned, a probe that cannot
// work, a readiness wait that ran out. "Raise readyTimeout" is only advice when more time can
// help: the failure was still changing, an attempt hung on a slow answer, or the service is
// still busy. A server listening on another port, or a probe failing the same way all along,
// gets the fix that applies instead.
import { ProbeUnusableError, ReadinessTimeoutError, SpawnFailedError, type StartFailureDetails } from '../errors.ts'
import type { WaitOutcome } from '../probes/retry.ts'
import { listeningPorts, type Listener } from '../providers/process/listening-ports.ts'
import type { LogBuffer } from '../providers/process/log-buffer.ts'
import type { SpawnSpec } from '../providers/process/managed-process.ts'
import { explainSpawnError } from '../providers/process/spawn-failure.ts'

/** What is known about a readiness wait that ran out of time. */
export interface StuckWait {
  service: string
  outcome: WaitOutcome
  host: string
  port: number
  timeoutMs: number
  /** rig does not run the service (external). */
  external: boolean
  /** Where the service's processes listen, when rig runs it. */
  listeners: readonly Listener[]
  /** ms since the service last wrote a log line of its own; undefined when it wrote none. */
  quietMs: number | undefined
}

const RAISE = 'raise its `readyTimeout` (RIG_TIMEOUT_SCALE scales every deadline)'
const USE_PORT = "make it listen on the port rig gives it: {port} in its run or env, e.g. env: { PORT: '{port}' }"

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`

/** One line of advice for a readiness timeout. */
export function readinessHint(w: StuckWait): string {
  const { outcome } = w
  const last = outcome.last
  if (outcome.hung) return `its answers took longer than the probe's own timeout: if it is just slow, ${RAISE} or the probe's \`timeoutMs\``
  if (outcome.progressed) return `it was still changing when time ran out: if it only needs longer, ${RAISE}`
  if (last?.reason === 'connect') {
    const where = `${w.host}:${w.port}`
    if (w.external) return `nothing accepted connections at ${where} for the last ${seconds(outcome.sameForMs ?? outcome.elapsedMs)}: start it there, or fix its \`url\``
    const elsewhere = w.listeners.filter((l) => l.port !== w.port)
    if (elsewhere.length > 0) return `nothing listens on ${where}, but it listens on ${elsewhere.map((l) => `${l.host}:${l.port}`).join(', ')}: ${USE_PORT}`
    const busy = w.quietMs !== undefined && w.quietMs < Math.max(2000, w.timeoutMs / 4)
    if (busy) return `nothing listens on ${where} yet, but it is still writing logs: if it is slow to start, ${RAISE}; otherwise ${USE_PORT}`
    return `nothing listened on ${where} for the last ${seconds(outcome.sameForMs ?? outcome.elapsedMs)}${w.quietMs !== undefined ? ` and it has written nothing for ${seconds(w.quietMs)}` : ''}: ${USE_PORT}, or fix the probe`
  }
  if (last?.reason === 'status' && /answered 5\d\d/.test(last.detail ?? '')) {
    return `it answered ${/answered (5\d\d)/.exec(last.detail ?? '')?.[1]} for the last ${seconds(outcome.sameForMs ?? outcome.elapsedMs)}: if it is still warming up, ${RAISE}; otherwise see its logs`
  }
  return `the probe failed the same way for the last ${seconds(outcome.sameForMs ?? outcome.elapsedMs)} (see the last error): fix the service or the probe; more time is unlikely to change it`
}

/** A process that never ran: what, where, and the OS error in words. */
export function spawnError(service: string, kind: string, spec: SpawnSpec, error: NodeJS.ErrnoException): SpawnFailedError {
  return new SpawnFailedError(
    { service, command: spec.command, cwd: spec.cwd, errno: error.code ?? error.name, explanation: explainSpawnError(spec, error) },
    { hint: kind === 'command' ? `fix \`run\` or \`cwd\` of service "${service}" in the config` : undefined, cause: error },
  )
}

/** The service whose readiness wait failed, as far as the error needs it. */
export interface WaitingService {
  name: string
  host: string
  port: number
  logs: LogBuffer
  /** Its process group leader while it runs; undefined for a service rig does not run. */
  pid: number | undefined
  external: boolean
  logTail(): string[]
}

/** The error for a readiness wait that stopped at its deadline or on a probe that cannot work. */
export function readinessError(s: WaitingService, outcome: WaitOutcome, timeoutMs: number): ProbeUnusableError | ReadinessTimeoutError {
  const details: StartFailureDetails = {
    service: s.name,
    elapsedMs: outcome.elapsedMs,
    attempts: outcome.attempts,
    logTail: s.logTail(),
    ...(outcome.probe ? { probe: outcome.probe } : {}),
    ...(outcome.last?.detail ? { lastError: outcome.last.detail } : {}),
  }
  if (outcome.stoppedBy === 'permanent') return new ProbeUnusableError(details)
  const lastAt = s.logs.tail(200).filter((l) => l.stream !== 'rig').at(-1)?.at
  const hint = readinessHint({
    service: s.name,
    outcome,
    host: s.host,
    port: s.port,
    timeoutMs,
    external: s.external,
    listeners: s.pid ? listeningPorts(s.pid) : [],
    quietMs: lastAt === undefined ? undefined : Date.now() - lastAt,
  })
  return new ReadinessTimeoutError(details, timeoutMs, hint)
}
