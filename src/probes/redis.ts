import { respCommand } from '../drivers/resp.ts'
import { redisTlsOptions } from '../tls/client-trust.ts'
import { ProbeFailure, type Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/**
 * Passes when Redis answers PING with PONG (a loading Redis answers an error, so it keeps waiting).
 * A `rediss://` URL is reached over TLS, the certificate verified against `caFile`, the
 * service's `RIG_CA_CERT` and rig's CA.
 */
export function redisPing(options: { url?: string; timeoutMs?: number; caFile?: string } = {}): Probe {
  return {
    name: 'redis PING',
    timeoutMs: options.timeoutMs ?? 1000,
    async run(ctx) {
      const target = options.url === undefined ? requireTarget(ctx, 'redisPing()') : ctx.target
      const u = new URL(options.url ?? (target as { url: string }).url)
      const cmds: string[][] = []
      if (u.password) cmds.push(u.username ? ['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)] : ['AUTH', decodeURIComponent(u.password)])
      cmds.push(['PING'])
      // The service's own CA file for its own address; a URL given here may be anyone's.
      const secure = redisTlsOptions(u, options.caFile ?? (options.url === undefined ? target?.env?.RIG_CA_CERT : undefined))
      const reply = await respCommand(u.hostname || '127.0.0.1', Number(u.port || 6379), cmds, ctx.signal, secure)
      if (reply !== 'PONG') throw new ProbeFailure('assertion', `PING answered ${JSON.stringify(reply)}`)
    },
  }
}
