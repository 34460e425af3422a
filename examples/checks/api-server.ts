// A stand-in for "your API" so the example checks have something real to watch:
// `node examples/checks/api-server.ts` serves it on 127.0.0.1:3000; tests start it on port 0.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Starts the example API; resolves with its URL and a close function. */
export async function startExampleApi(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify({ ok: true, version: '1.4.2' }))
    }
    if (req.url === '/orders') {
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify([{ id: 1, total: 42 }]))
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

if (import.meta.main) {
  const api = await startExampleApi(3000)
  console.log(`example API on ${api.url}; now run: rig check --target local (from examples/checks)`)
}
