import { amqpHandshake } from '../drivers/amqp-handshake.ts'
import type { Probe } from './probe.ts'
import { requireTarget } from './target.ts'

/**
 * Passes once an AMQP 0-9-1 connection opens with the URL's credentials on its vhost (the
 * service's URL, or `url`): an open port is not enough, the broker must accept the login.
 */
export function amqpOpen(options: { url?: string; timeoutMs?: number } = {}): Probe {
  return {
    name: 'amqp connection.open',
    timeoutMs: options.timeoutMs ?? 2000,
    async run(ctx) {
      const info = await amqpHandshake(options.url ?? requireTarget(ctx, 'amqpOpen()').url, ctx.signal)
      return { detail: [info.product, info.version].filter(Boolean).join(' ') || 'connection opened' }
    },
  }
}
