// Stopping Redis by asking it: on SIGTERM Redis only sets a flag that its timer (10 times a
// second) acts on, so a signal costs up to 100 ms; SHUTDOWN over a connection exits at once.
import net from 'node:net'
import tls from 'node:tls'
import { redisTlsOptions } from '../../tls/client-trust.ts'

/** RESP for one command. */
function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`
}

/**
 * Sends `AUTH` and `SHUTDOWN [NOSAVE]` to the Redis at `url` (with its password; over TLS for
 * `rediss://`, verified against `caFile` and rig's CAs). Resolves when
 * Redis closed the connection without an error (it is exiting); rejects when it could not be
 * reached, refused the password or the command (renamed, not allowed), or did not close within
 * `timeoutMs`: the caller then sends a signal.
 */
export function shutdownRedis(url: string, nosave: boolean, timeoutMs = 1000, caFile?: string): Promise<void> {
  const u = new URL(url)
  const cmds: string[][] = []
  if (u.password) cmds.push(u.username ? ['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)] : ['AUTH', decodeURIComponent(u.password)])
  cmds.push(nosave ? ['SHUTDOWN', 'NOSAVE'] : ['SHUTDOWN'])
  return new Promise((resolve, reject) => {
    const secure = redisTlsOptions(u, caFile)
    const address = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) }
    const socket = secure ? tls.connect({ ...secure, ...address }) : net.connect(address)
    let text = ''
    let settled = false
    const finish = (err?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve()
    }
    const timer = setTimeout(() => finish(new Error(`redis did not close the connection within ${timeoutMs} ms of SHUTDOWN`)), timeoutMs)
    socket.setEncoding('utf8')
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(cmds.map(encode).join('')))
    // AUTH answers +OK; SHUTDOWN answers only when it fails.
    socket.on('data', (s: string) => {
      text += s
      const error = /^-(.*)\r\n/m.exec(text)
      if (error) finish(new Error(`redis refused: ${error[1]}`))
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => finish())
  })
}
