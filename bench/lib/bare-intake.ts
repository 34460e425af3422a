// The baseline of bench/sentry.bench.ts: a bare node:http server that reads each body whole
// and answers 200 with `{}`, what any endpoint must at least do.
//   node bench/lib/bare-intake.ts PORT
import http from 'node:http'

http
  .createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      Buffer.concat(chunks)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 })
      res.end('{}')
    })
  })
  .listen(Number(process.argv[2]), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
