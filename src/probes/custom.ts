import type { Probe, ProbeContext, ProbeResult } from './probe.ts'

/** A probe from any async function: it passes unless it throws or returns `{ status: 'fail' }`. */
export function probe(name: string, fn: (ctx: ProbeContext) => Promise<void | Partial<ProbeResult> | boolean> | void | boolean, options: { timeoutMs?: number } = {}): Probe {
  return {
    name,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    async run(ctx) {
      const out = await fn(ctx)
      if (out === false) return { status: 'fail', detail: 'returned false' }
      if (out === true || out === undefined) return
      return out
    },
  }
}

/** Passes when every probe passes; runs them in parallel and reports every failure. */
export function allOf(...probes: Probe[]): Probe {
  const timeoutMs = Math.max(0, ...probes.map((p) => p.timeoutMs ?? 2000))
  return {
    name: `all of (${probes.map((p) => p.name).join(', ')})`,
    timeoutMs,
    async run(ctx) {
      const results = await Promise.allSettled(probes.map((p) => p.run(ctx)))
      const failed = results.flatMap((r, i) => {
        if (r.status === 'rejected') return [`${probes[i]?.name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`]
        if (r.value && r.value.status === 'fail') return [`${probes[i]?.name}: ${r.value.detail ?? 'failed'}`]
        return []
      })
      if (failed.length > 0) return { status: 'fail', detail: failed.join('; ') }
    },
  }
}
