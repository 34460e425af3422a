import { ProbeFailure, type Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/** Passes once the service has written a log line matching `pattern`. */
export function logLine(pattern: RegExp | string): Probe {
  const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern
  return {
    name: `log line ${re}`,
    timeoutMs: 1000,
    async run(ctx) {
      const lines = requireTarget(ctx, 'logLine()').logLines()
      if (!lines.some((l) => re.test(l))) throw new ProbeFailure('assertion', `no log line matched ${re} yet`)
    },
  }
}
