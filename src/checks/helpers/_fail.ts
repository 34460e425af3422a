// Turns what Node's clients throw (fetch's "fetch failed", socket errors) into a ProbeFailure
// with a reason class and a message that says what was tried.
import { classifyError, ProbeFailure, type FailureReason } from '../../probes/probe.ts'

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } }
  const code = e?.code ?? e?.cause?.code
  return typeof code === 'string' ? code : undefined
}

/** The reason class of a low-level error; adds the TLS verification codes classifyError misses. */
export function reasonOf(err: unknown): FailureReason {
  const code = codeOf(err)
  if (code && /^(UNABLE_TO_|SELF_SIGNED|CERT_|DEPTH_ZERO|ERR_SSL|ERR_TLS|HOSTNAME_MISMATCH)/.test(code)) return 'tls'
  return classifyError(err)
}

/** Rethrows `err` as a ProbeFailure that names `what` (e.g. `GET https://api/health`). */
export function failure(what: string, err: unknown): ProbeFailure {
  if (err instanceof ProbeFailure) return err
  const e = err as { message?: string; cause?: { message?: string } }
  const inner = e?.cause?.message ?? e?.message ?? String(err)
  const code = codeOf(err)
  return new ProbeFailure(reasonOf(err), `${what}: ${inner}${code && !inner.includes(code) ? ` (${code})` : ''}`, { cause: err })
}

/** Rejects when `signal` aborts, so a call that cannot be cancelled still stops waiting. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
