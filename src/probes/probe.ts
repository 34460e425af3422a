// One probe model serves readiness (retried), health checks (run once) and assertions.
import { describeError, MissingDriverError } from '../errors.ts'

/** Outcome of one probe run. */
export type ProbeStatus = 'pass' | 'warn' | 'fail'

/** Why a probe failed, carried through every output format. */
export type FailureReason = 'dns' | 'connect' | 'tls' | 'timeout' | 'status' | 'assertion' | 'error'

/** Where a probe points when it is attached to a service; absent for free-standing checks. */
export interface ProbeTarget {
  name: string
  host: string
  port: number
  url: string
  /** The variables the service exports (`RIG_<NAME>_*`, and `RIG_CA_CERT` with TLS). */
  env?: Readonly<Record<string, string>>
  /** Log lines the service wrote so far (newest last). */
  logLines(): readonly string[]
}

/** What a probe receives each time it runs. */
export interface ProbeContext {
  /** Aborted when the attempt's deadline passes or the caller gives up. */
  signal: AbortSignal
  /** The service the probe is attached to, when it is a readiness probe. */
  target?: ProbeTarget
}

/** The result of one run. */
export interface ProbeResult {
  status: ProbeStatus
  /** Human-readable evidence: what was seen, or why it failed. */
  detail?: string
  reason?: FailureReason
  /** Set when retrying cannot help (see {@link ProbeFailure.permanent}; a driver package not installed). */
  permanent?: true
  durationMs: number
}

/** An async check with a name and a per-attempt timeout. */
export interface Probe {
  /** Shown in progress output and errors, e.g. `http GET /health`. */
  readonly name: string
  /**
   * Per-attempt timeout in ms.
   * @default 2000
   */
  readonly timeoutMs?: number
  /** Resolves when the check passes (optionally with a warn result); throws or returns `fail` otherwise. */
  run(ctx: ProbeContext): Promise<void | Partial<ProbeResult>>
}

/** A failed probe attempt, with a reason class. */
export class ProbeFailure extends Error {
  readonly reason: FailureReason
  /** Retrying cannot help (the probe is misconfigured): a readiness wait stops at once. */
  readonly permanent: boolean
  constructor(reason: FailureReason, message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ProbeFailure'
    this.reason = reason
    this.permanent = options?.permanent ?? false
  }
}

const DEFAULT_TIMEOUT_MS = 2000

/** Maps low-level errors (ECONNREFUSED, ENOTFOUND, AbortError…) to a reason class. */
export function classifyError(err: unknown): FailureReason {
  if (err instanceof ProbeFailure) return err.reason
  const e = err as { code?: string; name?: string; cause?: { code?: string } }
  const code = e?.code ?? e?.cause?.code
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'timeout'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns'
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'EPIPE') return 'connect'
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT'))) return 'tls'
  return 'error'
}


/**
 * Runs a probe once with its own timeout, never throwing: the outcome is in the result.
 * `parent` aborts the attempt early (the caller's deadline, Ctrl-C).
 */
export async function runProbe(probe: Probe, options: { signal?: AbortSignal; target?: ProbeTarget; timeoutMs?: number } = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? probe.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const controller = new AbortController()
  const onParentAbort = (): void => controller.abort(options.signal?.reason)
  // An already-aborted signal never fires 'abort': without this check the probe would run
  // until its own timeout.
  if (options.signal?.aborted) onParentAbort()
  else options.signal?.addEventListener('abort', onParentAbort, { once: true })
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ProbeFailure('timeout', `timed out after ${timeoutMs} ms`)
      controller.abort(err)
      reject(err)
    }, timeoutMs)
  })
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason)
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  aborted.catch(() => {})
  timedOut.catch(() => {})
  try {
    const ctx: ProbeContext = options.target ? { signal: controller.signal, target: options.target } : { signal: controller.signal }
    const out = await Promise.race([probe.run(ctx), timedOut, aborted])
    const durationMs = performance.now() - started
    if (out && out.status === 'fail') return { reason: 'assertion', ...out, status: 'fail', durationMs }
    return { status: out?.status ?? 'pass', ...(out?.detail !== undefined ? { detail: out.detail } : {}), durationMs }
  } catch (err) {
    // A driver package that is not installed will not be by waiting: stop at once, naming it.
    const permanent = (err instanceof ProbeFailure && err.permanent) || err instanceof MissingDriverError ? { permanent: true as const } : {}
    return { status: 'fail', detail: describeError(err), reason: classifyError(err), ...permanent, durationMs: performance.now() - started }
  } finally {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', onParentAbort)
    if (!controller.signal.aborted) controller.abort(new Error('probe finished'))
  }
}
