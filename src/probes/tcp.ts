import net from 'node:net'
import type { Probe } from './probe.ts'
import { requireAddress } from './target.ts'

/** Passes once a TCP connection to the service's port (or `host:port`) is accepted. */
export function tcp(options: { host?: string; port?: number; timeoutMs?: number } = {}): Probe {
  const where = options.port !== undefined ? `${options.host ?? '127.0.0.1'}:${options.port}` : 'service port'
  return {
    name: `tcp ${where}`,
    timeoutMs: options.timeoutMs ?? 1000,
    run: (ctx) =>
      new Promise<void>((resolve, reject) => {
        const host = options.host ?? (options.port !== undefined ? '127.0.0.1' : requireAddress(ctx, 'tcp()', 'port').host)
        const port = options.port ?? requireAddress(ctx, 'tcp()', 'port').port
        const socket = net.connect({ host, port })
        const done = (err?: Error): void => {
          socket.destroy()
          if (err) reject(err)
          else resolve()
        }
        ctx.signal.addEventListener('abort', () => done(ctx.signal.reason), { once: true })
        socket.once('connect', () => done())
        socket.once('error', done)
      }),
  }
}
