// One HTTP/1.0 request over a Unix socket, on node:net alone. Test workers call rig's servers
// (the environment's control server, the run's guard host) after every test: node:net is
// already loaded in every child process that has an IPC channel, while node:http costs a test
// worker 5-20 ms to load, once per test file when each file gets a fresh worker.
// HTTP/1.0: the server answers without chunked encoding and closes the connection at the end.
// (The client does not half-close its side first: Node's HTTP server aborts a request whose
// client did.)
import { RigError } from '../errors.ts'

const net = process.getBuiltinModule('node:net')

/** A server's answer: its status and body (UTF-8). */
export interface UnixResponse {
  status: number
  body: string
}

/** An error of {@link unixRequest}; `beforeConnect`: it came before the connection was made (nothing was sent). */
export type UnixRequestError = Error & { code?: string; beforeConnect?: boolean }

/**
 * Sends `method path` with `body` (JSON, when given) to the HTTP server on `socketPath` and
 * resolves with its answer. `timeout`: when the server takes longer than `timeoutMs`
 * (0: no deadline), the error to reject with. `connectTimeoutMs` (0: none): the connection
 * not made within it rejects with code `RIG_CONNECT_TIMEOUT`; every error before the
 * connection is made carries `beforeConnect: true` (the request was not sent: it may be sent again).
 */
export function unixRequest(socketPath: string, method: string, path: string, body?: string, timeoutMs = 0, timeout?: () => Error, connectTimeoutMs = 0): Promise<UnixResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const payload = body === undefined ? '' : body
    let connected = false
    const socket = net.createConnection(socketPath, () => {
      connected = true
      if (connectTimer) clearTimeout(connectTimer)
      // Not end(): a server that sees the client half-close gives up on its request.
      socket.write(`${method} ${path} HTTP/1.0\r\nHost: rig\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`)
    })
    const connectTimer = connectTimeoutMs > 0 ? setTimeout(() => socket.destroy(new RigError('RIG_CONNECT_TIMEOUT', `no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs) : undefined
    if (timeoutMs > 0) {
      socket.setTimeout(timeoutMs, () => socket.destroy(timeout?.() ?? new RigError('RIG_CONTROL_TIMEOUT', `no answer within ${timeoutMs} ms`)))
    }
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (err: UnixRequestError) => {
      if (connectTimer) clearTimeout(connectTimer)
      if (!connected) err.beforeConnect = true
      reject(err)
    })
    socket.on('end', () => {
      const raw = Buffer.concat(chunks)
      const split = raw.indexOf('\r\n\r\n')
      const head = (split < 0 ? raw : raw.subarray(0, split)).toString('latin1')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1])
      if (split < 0 || !Number.isInteger(status)) return reject(new RigError('RIG_CONTROL_FAILED', `the server answered with something that is not HTTP: ${head.slice(0, 200)}`))
      let rest: Buffer = raw.subarray(split + 4)
      if (/^transfer-encoding:\s*chunked/im.test(head)) rest = dechunk(rest)
      resolve({ status, body: rest.toString('utf8') })
    })
  })
}

/** The body of a chunked response. */
function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = b.indexOf('\r\n', at)
    if (eol < 0) break
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    out.push(b.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(out)
}
