// The body of a request a reporting SDK or a log shipper sent, decompressed, never larger than
// a limit: a flood or a compression bomb costs a bounded amount of memory and gets a clear answer.
import type { IncomingMessage } from 'node:http'
import zlib from 'node:zlib'

/** A request that is refused, with the status and the reason sent back (and counted). */
export class IntakeRefusal extends Error {
  readonly status: number
  constructor(status: number, reason: string) {
    super(reason)
    this.name = 'IntakeRefusal'
    this.status = status
  }
}

type Inflate = (buf: Buffer, opts: zlib.ZlibOptions & zlib.BrotliOptions, cb: (err: Error | null, out: Buffer) => void) => void

const z = zlib as unknown as Record<string, Inflate | undefined>
// zstd exists in Node's zlib from 22.15 / 23.8 on.
const DECODERS: Record<string, Inflate | undefined> = { gzip: zlib.gunzip, 'x-gzip': zlib.gunzip, deflate: zlib.inflate, br: zlib.brotliDecompress, zstd: z.zstdDecompress }

function inflate(fn: Inflate, buf: Buffer, maxBytes: number, encoding: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fn(buf, { maxOutputLength: maxBytes }, (err, out) => {
      if (!err) return resolve(out)
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /too large|maxOutputLength/i.test(err.message)) return reject(new IntakeRefusal(413, `body larger than ${maxBytes} bytes once decompressed`))
      // `deflate` is zlib-wrapped by the standard; some clients send raw deflate.
      if (fn === zlib.inflate) return zlib.inflateRaw(buf, { maxOutputLength: maxBytes }, (e2, o2) => (e2 ? reject(new IntakeRefusal(400, `body is not valid ${encoding} data: ${err.message}`)) : resolve(o2)))
      reject(new IntakeRefusal(400, `body is not valid ${encoding} data: ${err.message}`))
    })
  })
}

/**
 * Reads the whole body (at most `maxBytes` on the wire and once decompressed), undoing a
 * `Content-Encoding` of gzip, deflate, br or zstd. Throws {@link IntakeRefusal} (413, 415, 400).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  const decode = encoding === 'identity' || encoding === '' ? undefined : DECODERS[encoding]
  if (encoding !== 'identity' && encoding !== '' && !decode) {
    req.resume()
    throw new IntakeRefusal(415, `unsupported Content-Encoding "${encoding}" (gzip, deflate, br${z.zstdDecompress ? ', zstd' : ''} or none)`)
  }
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) {
    req.resume()
    throw new IntakeRefusal(413, `body of ${declared} bytes is over the limit of ${maxBytes}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      req.resume()
      throw new IntakeRefusal(413, `body over the limit of ${maxBytes} bytes`)
    }
    chunks.push(chunk)
  }
  const raw = Buffer.concat(chunks, size)
  return decode ? inflate(decode, raw, maxBytes, encoding) : raw
}
