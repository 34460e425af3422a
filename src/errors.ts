// Every failure rig reports is a RigError with a stable `code`, so scripts and the CLI can
// branch on it, and a message built from structured fields that says what to do next.

/** Base class of every error rig throws on purpose. */
export class RigError extends Error {
  /** Stable identifier, e.g. `RIG_CONFIG_UNKNOWN_KEY`; never changes between versions. */
  readonly code: string
  /** Exit code the CLI uses when this error ends a command. */
  readonly exitCode: number

  constructor(code: string, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RigError'
    this.code = code
    this.exitCode = options?.exitCode ?? 1
  }
}

/** The configuration is wrong: unknown keys, bad values, unknown dependencies, cycles. */
export class ConfigError extends RigError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, exitCode: 2 })
    this.name = 'ConfigError'
  }
}

/** A binary a service needs is not installed. */
export class MissingBinaryError extends RigError {
  readonly binary: string
  /** `where` replaces "which was not found", e.g. "which is not in binDir /opt/pg (no such directory)". */
  constructor(binary: string, service: string, searched: readonly string[], install: string, envVar?: string, where?: string) {
    super(
      'RIG_BINARY_NOT_FOUND',
      `service "${service}" needs \`${binary}\`, ${where ?? 'which was not found'}.\n` +
        `  searched: ${searched.join(', ') || '(nothing)'}\n` +
        `  install it: ${install}\n` +
        `  or point rig at its directory with the service's \`binDir\` option${envVar ? ` or ${envVar}` : ''}.`,
    )
    this.name = 'MissingBinaryError'
    this.binary = binary
  }
}

/** Evidence collected while a service failed to become ready. */
export interface StartFailureDetails {
  service: string
  probe?: string
  attempts?: number
  elapsedMs: number
  lastError?: string
  exitCode?: number | null
  signal?: string | null
  logTail: readonly string[]
}

function formatEvidence(d: StartFailureDetails): string {
  const lines: string[] = []
  if (d.probe !== undefined) lines.push(`  probe: ${d.probe} (${d.attempts ?? 0} attempts over ${Math.round(d.elapsedMs)} ms)`)
  if (d.lastError !== undefined) lines.push(`  last error: ${d.lastError}`)
  if (d.logTail.length > 0) {
    lines.push(`  last ${d.logTail.length} log lines:`)
    for (const l of d.logTail) lines.push(`    ${l}`)
  } else {
    lines.push('  (the service wrote nothing to its logs)')
  }
  return lines.join('\n')
}

/** A service exited, or failed to spawn, before it became ready. */
export class ServiceCrashedError extends RigError {
  readonly details: StartFailureDetails
  constructor(details: StartFailureDetails, hint?: string) {
    const how = details.signal ? `was killed by ${details.signal}` : `exited with code ${details.exitCode}`
    super(
      'RIG_SERVICE_CRASHED',
      `service "${details.service}" ${how} while starting (after ${Math.round(details.elapsedMs)} ms).\n` +
        formatEvidence(details) +
        (hint ? `\n  ${hint}` : ''),
    )
    this.name = 'ServiceCrashedError'
    this.details = details
  }
}

/** What {@link SpawnFailedError} reports. */
export interface SpawnFailureDetails {
  service: string
  /** The program (argv[0]) rig tried to run. */
  command: string
  cwd?: string | undefined
  /** The OS error code, e.g. `ENOENT`, `EACCES`. */
  errno: string
  /** What that means here, e.g. "its working directory … does not exist". */
  explanation: string
}

/** A service's process could not be started at all: no such program, no such cwd, not executable. */
export class SpawnFailedError extends RigError {
  readonly details: SpawnFailureDetails
  constructor(details: SpawnFailureDetails, options: { hint?: string | undefined; cause?: unknown } = {}) {
    super(
      'RIG_SPAWN_FAILED',
      `service "${details.service}" could not start: ${details.explanation} (${details.errno}).\n` +
        `  command: ${details.command}` +
        (details.cwd ? `\n  cwd: ${details.cwd}` : '') +
        (options.hint ? `\n  ${options.hint}` : ''),
      { cause: options.cause },
    )
    this.name = 'SpawnFailedError'
    this.details = details
  }
}

/** A service's readiness probes did not pass before its deadline. */
export class ReadinessTimeoutError extends RigError {
  readonly details: StartFailureDetails
  /** `hint` says what to do; it suggests more time only when more time can help. */
  constructor(details: StartFailureDetails, timeoutMs: number, hint: string) {
    super('RIG_READY_TIMEOUT', `service "${details.service}" was not ready after ${timeoutMs} ms.\n` + formatEvidence(details) + `\n  ${hint}`)
    this.name = 'ReadinessTimeoutError'
    this.details = details
  }
}

/** A readiness probe that cannot work however long rig waits (e.g. an HTTP probe on a service without a port). */
export class ProbeUnusableError extends RigError {
  readonly details: StartFailureDetails
  constructor(details: StartFailureDetails) {
    super('RIG_PROBE_UNUSABLE', `service "${details.service}" cannot be checked for readiness: ${details.lastError ?? 'its probe cannot run'}\n  probe: ${details.probe ?? '?'}`, { exitCode: 2 })
    this.name = 'ProbeUnusableError'
    this.details = details
  }
}

/** A fixed port a service asked for is already taken. */
export class PortInUseError extends RigError {
  readonly port: number
  constructor(service: string, port: number) {
    super(
      'RIG_PORT_IN_USE',
      `service "${service}" asks for port ${port}, which is already in use.\n` +
        `  free the port, choose another, or remove \`port\` to let rig pick a free one.`,
    )
    this.name = 'PortInUseError'
    this.port = port
  }
}

/** A fixed port a service asked for is one only root may bind. */
export class PrivilegedPortError extends RigError {
  readonly port: number
  constructor(service: string, port: number) {
    super(
      'RIG_PORT_PRIVILEGED',
      `service "${service}" asks for port ${port}, a privileged port that only root may listen on (ports below 1024 by default).\n` +
        `  choose a port from 1024 up, remove \`port\` to let rig pick a free one, or run as root.`,
    )
    this.name = 'PrivilegedPortError'
    this.port = port
  }
}

/** A driver package rig loads lazily is not installed. */
export class MissingDriverError extends RigError {
  constructor(pkg: string, purpose: string, cause?: unknown) {
    super('RIG_DRIVER_MISSING', `${purpose} needs the \`${pkg}\` package: npm install --save-dev ${pkg}`, { cause })
    this.name = 'MissingDriverError'
  }
}

/** A command that expects a running environment found none. */
export class NotRunningError extends RigError {
  constructor(message: string) {
    super('RIG_NOT_RUNNING', message, { exitCode: 3 })
    this.name = 'NotRunningError'
  }
}

/** The operation was aborted (Ctrl-C, an AbortSignal, another service failing). */
export class AbortedError extends RigError {
  constructor(what: string, cause?: unknown) {
    super('RIG_ABORTED', `${what} was aborted`, { cause, exitCode: 130 })
    this.name = 'AbortedError'
  }
}

/** Turns anything thrown into a one-line description. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join('; ')
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    // Some socket errors carry only a code (ECONNREFUSED) and an empty message.
    const msg = err.message || (typeof code === 'string' ? code : err.name)
    return typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg
  }
  return String(err)
}
