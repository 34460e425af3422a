import { ProbeFailure, type ProbeContext, type ProbeTarget } from './probe.ts'

/** The service a readiness probe is attached to; a clear error for a free-standing probe without an address. */
export function requireTarget(ctx: ProbeContext, probe: string): ProbeTarget {
  if (!ctx.target) throw new ProbeFailure('error', `${probe} needs an address: give it a url, or attach it to a service's \`ready\``)
  return ctx.target
}
