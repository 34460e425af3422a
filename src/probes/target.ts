import { ProbeFailure, type ProbeContext, type ProbeTarget } from './probe.ts'

/** The service a readiness probe is attached to; a clear error for a free-standing probe without an address. */
export function requireTarget(ctx: ProbeContext, probe: string): ProbeTarget {
  if (!ctx.target) throw new ProbeFailure('error', `${probe} needs an address: give it a url, or attach it to a service's \`ready\``, { permanent: true })
  return ctx.target
}

/**
 * The attached service's address. A command that was given no `{port}` has none: probing it
 * cannot succeed however long one waits, so the failure is permanent and says how to give one.
 */
export function requireAddress(ctx: ProbeContext, probe: string, needs: 'port' | 'url'): ProbeTarget {
  const t = requireTarget(ctx, probe)
  if (needs === 'port' ? t.port > 0 : t.url !== '') return t
  throw new ProbeFailure(
    'error',
    `${probe} needs the address of "${t.name}", but it has ${needs === 'port' ? 'no port' : 'no port or url'}: put {port} in its run or env (e.g. env: { PORT: '{port}' }) so rig gives it one, or set its \`port\` or \`url\``,
    { permanent: true },
  )
}
