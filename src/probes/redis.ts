import { respCommand } from '../drivers/resp.ts'
import { ProbeFailure, type Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/** Passes when Redis answers PING with PONG (a loading Redis answers an error, so it keeps waiting). */
export function redisPing(options: { url?: string; timeoutMs?: number } = {}): Probe {
  return {
    name: 'redis PING',
    timeoutMs: options.timeoutMs ?? 1000,
    async run(ctx) {
      const u = new URL(options.url ?? requireTarget(ctx, 'redisPing()').url)
      const cmds: string[][] = []
      if (u.password) cmds.push(u.username ? ['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)] : ['AUTH', decodeURIComponent(u.password)])
      cmds.push(['PING'])
      const reply = await respCommand(u.hostname || '127.0.0.1', Number(u.port || 6379), cmds, ctx.signal)
      if (reply !== 'PONG') throw new ProbeFailure('assertion', `PING answered ${JSON.stringify(reply)}`)
    },
  }
}
