// A single Redis command over raw RESP: enough for PING and EXISTS in probes without
// loading a client library. RESP counts bytes, not characters: replies are parsed from
// Buffers, and arguments may be Buffers (a key need not be UTF-8).
import net from 'node:net'
import tls from 'node:tls'
import { ProbeFailure } from '../probes/probe.ts'

/** A RESP reply: simple string, integer, bulk string (decoded as UTF-8), null or array. */
export type RespValue = string | number | null | RespValue[]

function encode(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

/** Parses one reply from `buf` at `pos`; returns undefined when more bytes are needed. */
function parse(buf: Buffer, pos: number): { value: RespValue; next: number } | undefined {
  const eol = buf.indexOf('\r\n', pos)
  if (eol < 0) return undefined
  const type = String.fromCharCode(buf[pos] ?? 0)
  const line = buf.toString('utf8', pos + 1, eol)
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 }
    case '-':
      throw new ProbeFailure('assertion', `redis replied: ${line}`)
    case ':':
      return { value: Number(line), next: eol + 2 }
    case '$': {
      const len = Number(line)
      if (len < 0) return { value: null, next: eol + 2 }
      if (buf.length < eol + 2 + len + 2) return undefined
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 }
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return { value: null, next: eol + 2 }
      const out: RespValue[] = []
      let next = eol + 2
      for (let i = 0; i < n; i++) {
        const item = parse(buf, next)
        if (!item) return undefined
        out.push(item.value)
        next = item.next
      }
      return { value: out, next }
    }
    default:
      throw new ProbeFailure('error', `unexpected RESP reply: ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`)
  }
}

/**
 * Sends the commands (e.g. AUTH then PING) and resolves with the last reply; over TLS when
 * `secure` is given (`redisTlsOptions`: the CAs to verify against).
 */
export function respCommand(host: string, port: number, commands: readonly (readonly (string | Buffer)[])[], signal?: AbortSignal, secure?: tls.ConnectionOptions): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ ...secure, host, port }) : net.connect({ host, port })
    let buf = Buffer.alloc(0)
    let pos = 0
    const replies: RespValue[] = []
    const finish = (err?: unknown, value?: RespValue): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err) reject(err)
      else resolve(value ?? null)
    }
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'))
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat(commands.map(encode))))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      try {
        for (;;) {
          const r = parse(buf, pos)
          if (!r) break
          replies.push(r.value)
          pos = r.next
          if (replies.length === commands.length) return finish(undefined, r.value)
        }
      } catch (err) {
        finish(err)
      }
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => finish(new ProbeFailure('connect', 'redis closed the connection')))
  })
}
