// An AMQP 0-9-1 connection handshake over a raw socket (protocol header, start/start-ok,
// tune/tune-ok, open/open-ok, close): enough for readiness probes to prove that the broker
// accepts these credentials on this vhost, without loading a client library.
import net from 'node:net'
import tls from 'node:tls'
import { ProbeFailure } from '../probes/probe.ts'

/** What the broker said about itself in `connection.start`. */
export interface AmqpServerInfo {
  product?: string
  version?: string
}

/** Where and as whom to connect, from an `amqp://user:password@host:port/vhost` URL. */
export interface AmqpAddress {
  tls: boolean
  host: string
  port: number
  user: string
  password: string
  vhost: string
}

/** Parses an AMQP URL the way clients do: guest/guest, port 5672 and vhost `/` by default. */
export function parseAmqpUrl(url: string): AmqpAddress {
  const u = new URL(url)
  const path = u.pathname.replace(/^\//, '')
  return {
    tls: u.protocol === 'amqps:',
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || (u.protocol === 'amqps:' ? 5671 : 5672)),
    user: u.username ? decodeURIComponent(u.username) : 'guest',
    password: u.password ? decodeURIComponent(u.password) : 'guest',
    vhost: path ? decodeURIComponent(path) : '/',
  }
}

const FRAME_END = 0xce

function shortstr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  return Buffer.concat([Buffer.from([b.length]), b])
}

function longstr(b: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}

function methodFrame(classId: number, methodId: number, args: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from([classId >> 8, classId & 0xff, methodId >> 8, methodId & 0xff]), args])
  const header = Buffer.alloc(7)
  header.writeUInt8(1, 0)
  header.writeUInt16BE(0, 1)
  header.writeUInt32BE(payload.length, 3)
  return Buffer.concat([header, payload, Buffer.from([FRAME_END])])
}

/** Byte length of one field-table value of type `tag` at `pos` (to step over it). */
function valueLength(buf: Buffer, tag: string, pos: number): number {
  switch (tag) {
    case 't': case 'b': case 'B': return 1
    case 's': case 'u': return 2
    case 'I': case 'i': case 'f': return 4
    case 'l': case 'd': case 'T': return 8
    case 'D': return 5
    case 'V': return 0
    case 'S': case 'F': case 'A': case 'x': return 4 + buf.readUInt32BE(pos)
    default: throw new Error(`unknown field type ${JSON.stringify(tag)}`)
  }
}

/** The top-level string fields of a field table (nested tables are skipped). */
function tableStrings(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < buf.length) {
    const nameLen = buf.readUInt8(pos)
    const name = buf.toString('utf8', pos + 1, pos + 1 + nameLen)
    pos += 1 + nameLen
    const tag = String.fromCharCode(buf.readUInt8(pos))
    pos += 1
    if (tag === 'S') out[name] = buf.toString('utf8', pos + 4, pos + 4 + buf.readUInt32BE(pos))
    pos += valueLength(buf, tag, pos)
  }
  return out
}

/** `connection.close` arguments: why the broker refused. */
function closeReason(args: Buffer): { code: number; text: string } {
  const code = args.readUInt16BE(0)
  return { code, text: args.toString('utf8', 3, 3 + args.readUInt8(2)) }
}

function refusal(code: number, text: string, addr: AmqpAddress): ProbeFailure {
  if (code === 403) return new ProbeFailure('assertion', `access refused for user "${addr.user}" (${text}): check the user and password in the URL`)
  if (code === 530) return new ProbeFailure('assertion', `vhost "${addr.vhost}" is not open to user "${addr.user}" (${text}): create it or fix the URL's path`)
  return new ProbeFailure('assertion', `the broker closed the connection: ${code} ${text}`)
}

/**
 * Opens an AMQP connection to `url` (connection.open succeeds with its credentials and vhost),
 * closes it, and resolves with what the broker said about itself.
 */
export function amqpHandshake(url: string, signal?: AbortSignal): Promise<AmqpServerInfo> {
  const addr = parseAmqpUrl(url)
  return new Promise((resolve, reject) => {
    const socket = addr.tls ? tls.connect({ host: addr.host, port: addr.port, servername: addr.host }) : net.connect({ host: addr.host, port: addr.port })
    let buf = Buffer.alloc(0)
    let step: 'start' | 'tune' | 'open' = 'start'
    let info: AmqpServerInfo = {}
    let settled = false
    const finish = (err?: unknown): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (err) socket.destroy()
      else socket.end(methodFrame(10, 50, Buffer.concat([Buffer.from([0, 200]), shortstr('bye'), Buffer.from([0, 0, 0, 0])])))
      if (err) reject(err)
      else resolve(info)
    }
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'))
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const onMethod = (classId: number, methodId: number, args: Buffer): void => {
      if (classId === 10 && methodId === 50) {
        const r = closeReason(args)
        return finish(refusal(r.code, r.text, addr))
      }
      if (step === 'start' && classId === 10 && methodId === 10) {
        const propsLen = args.readUInt32BE(2)
        const props = tableStrings(args.subarray(6, 6 + propsLen))
        info = { ...(props.product ? { product: props.product } : {}), ...(props.version ? { version: props.version } : {}) }
        const response = Buffer.from(`\0${addr.user}\0${addr.password}`, 'utf8')
        // authentication_failure_close: a bad password gets a 403 close instead of a reset socket.
        const capabilities = Buffer.concat([shortstr('authentication_failure_close'), Buffer.from('t'), Buffer.from([1])])
        const clientProps = Buffer.concat([shortstr('product'), Buffer.from('S'), longstr(Buffer.from('testrig')), shortstr('capabilities'), Buffer.from('F'), longstr(capabilities)])
        socket.write(methodFrame(10, 11, Buffer.concat([longstr(clientProps), shortstr('PLAIN'), longstr(response), shortstr('en_US')])))
        step = 'tune'
        return
      }
      if (step === 'tune' && classId === 10 && methodId === 30) {
        const tuneOk = Buffer.alloc(8)
        tuneOk.writeUInt16BE(args.readUInt16BE(0), 0)
        tuneOk.writeUInt32BE(args.readUInt32BE(2), 2)
        tuneOk.writeUInt16BE(0, 6)
        socket.write(Buffer.concat([methodFrame(10, 31, tuneOk), methodFrame(10, 40, Buffer.concat([shortstr(addr.vhost), shortstr(''), Buffer.from([0])]))]))
        step = 'open'
        return
      }
      if (step === 'open' && classId === 10 && methodId === 41) return finish()
      finish(new ProbeFailure('error', `unexpected AMQP method ${classId}.${methodId} while waiting for ${step}`))
    }
    socket.on(addr.tls ? 'secureConnect' : 'connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      try {
        if (buf.subarray(0, 4).toString('latin1') === 'AMQP') throw new ProbeFailure('error', `the server speaks another AMQP version (${[...buf.subarray(4, 8)].join('-')})`)
        while (buf.length >= 8) {
          const size = buf.readUInt32BE(3)
          if (buf.length < 8 + size) break
          const type = buf.readUInt8(0)
          const payload = buf.subarray(7, 7 + size)
          buf = buf.subarray(8 + size)
          if (type === 1) onMethod(payload.readUInt16BE(0), payload.readUInt16BE(2), payload.subarray(4))
          if (settled) return
        }
      } catch (err) {
        finish(err)
      }
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => {
      // RabbitMQ closes the socket without a word when authentication fails and the client did
      // not announce the authentication_failure_close capability.
      const why = step === 'tune' ? `the broker closed the connection after authentication: check the user and password in the URL` : 'the broker closed the connection'
      finish(new ProbeFailure(step === 'start' ? 'connect' : 'assertion', why))
    })
  })
}
