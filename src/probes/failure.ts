// Turns what Node's clients throw (fetch's bare "fetch failed", socket errors) into a
// ProbeFailure with a reason class and a message that says what was tried and what the OS said.
import { classifyError, ProbeFailure, type FailureReason } from './probe.ts'

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

/** Rethrows `err` as a ProbeFailure that names `what` (e.g. `GET http://127.0.0.1:4000/health`). */
export function failure(what: string, err: unknown): ProbeFailure {
  if (err instanceof ProbeFailure) return err
  const e = err as { message?: string; cause?: { message?: string } }
  const inner = e?.cause?.message || e?.message || String(err)
  const code = codeOf(err)
  return new ProbeFailure(reasonOf(err), `${what}: ${inner}${code && !inner.includes(code) ? ` (${code})` : ''}`, { cause: err })
}
