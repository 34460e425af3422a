// The log sink, run as a child process of the environment: apps ship structured logs to it
// and it writes one line per record on stdout, which rig captures into the service's log: the
// per-test log scan fails a test on each `error`/`fatal` record. One port speaks both HTTP
// (JSON records) and syslog over TCP, told apart by the first byte; syslog over UDP on the same
// port number.
// Usage: node server.ts '<json SinkConfig>'
import dgram from 'node:dgram'
import http from 'node:http'
import net from 'node:net'
import { emitLine } from '../intake/emit-line.ts'
import { Intake, sendJson, sendPreflight } from '../intake/intake.ts'
import { IntakeRefusal, readBody } from '../intake/read-body.ts'
import { httpRecords } from './http-records.ts'
import { recordLine } from './record-line.ts'
import { syslogLine } from './syslog.ts'

/** What the service kind passes to the server. */
export interface SinkConfig {
  port: number
  maxRecordsPerSecond: number
  maxBodyBytes: number
  /** Longest syslog message; a longer one closes its connection. */
  maxRecordBytes: number
  udp: boolean
}

const config = JSON.parse(process.argv[2] ?? '{}') as SinkConfig
const intake = new Intake(config.maxRecordsPerSecond, 'record', 'maxRecordsPerSecond', {})

const web = http.createServer((req, res) => {
  if (req.method === 'OPTIONS') return sendPreflight(res)
  if (req.method === 'GET' && req.url === '/stats') return sendJson(res, 200, intake.stats)
  if (req.method !== 'POST' && req.method !== 'PUT') {
    req.resume()
    return sendJson(res, 404, { detail: `POST JSON records to any path (JSON lines, an array, one record, Loki's JSON push), or GET /stats; got ${req.method} ${req.url}` })
  }
  void (async () => {
    try {
      const records = httpRecords(await readBody(req, config.maxBodyBytes))
      let dropped = 0
      for (const r of records) if (!intake.accept(recordLine(r))) dropped++
      intake.tell()
      if (dropped > 0) sendJson(res, 429, { accepted: records.length - dropped, dropped }, { 'retry-after': '1' })
      else sendJson(res, 200, { accepted: records.length })
    } catch (err) {
      const refusal = err instanceof IntakeRefusal ? err : new IntakeRefusal(500, `the sink failed on it: ${(err as Error).message}`)
      req.resume()
      intake.reject(refusal.status, 'request', refusal.message)
      if (!res.headersSent) sendJson(res, refusal.status, { detail: refusal.message })
    }
  })()
})

function syslogMessage(text: string, via: string): void {
  const line = syslogLine(text)
  if (line === undefined) intake.reject(400, `syslog message over ${via}`, `no <PRI> at the start: ${JSON.stringify(text.slice(0, 80))}`)
  else intake.accept(line)
}

/**
 * Syslog over TCP (RFC 6587): octet counting (`<length> <message>`) or one message per line
 * (ended by a newline or a NUL).
 * What is buffered is one message at most; a longer one closes the connection, counted.
 */
function serveSyslog(socket: net.Socket, first: Buffer): void {
  let buf = first
  const take = (): void => {
    for (;;) {
      const counted = /^(\d{1,7}) /.exec(buf.subarray(0, 8).toString('latin1'))
      if (counted?.[1]) {
        const len = Number(counted[1])
        const start = counted[0].length
        if (len > config.maxRecordBytes) return tooLong(len)
        if (buf.length < start + len) return
        syslogMessage(buf.subarray(start, start + len).toString('utf8'), 'TCP')
        buf = buf.subarray(start + len)
        continue
      }
      // Newline, or NUL as Python's SysLogHandler ends its messages.
      const lf = buf.indexOf(0x0a)
      const nul = buf.indexOf(0x00)
      const nl = lf < 0 ? nul : nul < 0 ? lf : Math.min(lf, nul)
      if (nl < 0) {
        if (buf.length > config.maxRecordBytes) tooLong(buf.length)
        return
      }
      const text = buf.subarray(0, nl).toString('utf8').replace(/\r$/, '')
      buf = buf.subarray(nl + 1)
      if (text.trim() !== '') syslogMessage(text, 'TCP')
    }
  }
  const tooLong = (n: number): void => {
    intake.reject(413, 'syslog message over TCP', `longer than ${config.maxRecordBytes} bytes (${n}): the connection is closed`)
    buf = Buffer.alloc(0)
    socket.destroy()
  }
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    take()
  })
  socket.on('end', () => {
    const text = buf.toString('utf8').trim()
    if (text !== '') syslogMessage(text, 'TCP')
    buf = Buffer.alloc(0)
  })
  take()
}

// One port: HTTP starts with a method name (a capital letter); syslog with `<` or a length.
const server = net.createServer((socket) => {
  socket.on('error', () => {})
  socket.once('data', (first: Buffer) => {
    const c = first[0] ?? 0
    if (c >= 0x41 && c <= 0x5a) {
      socket.pause()
      socket.unshift(first)
      web.emit('connection', socket)
      socket.resume()
    } else serveSyslog(socket, first)
  })
})
server.maxConnections = 256

let udp: dgram.Socket | undefined
if (config.udp) {
  udp = dgram.createSocket('udp4')
  udp.on('message', (msg) => syslogMessage(msg.toString('utf8'), 'UDP'))
  // Another process may hold the UDP port of the same number: the sink still serves TCP.
  udp.on('error', (err) => {
    emitLine(`warning syslog over UDP is off: ${err.message}`)
    udp?.close()
    udp = undefined
  })
  udp.bind(config.port, '127.0.0.1')
}

intake.run(() => {
  server.close()
  web.closeAllConnections()
  udp?.close()
})
server.listen(config.port, '127.0.0.1')
