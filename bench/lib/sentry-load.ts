// Load generator for bench/sentry.bench.ts, run as its own process so it does not share a
// thread with the endpoint it measures: `lanes` keep-alive connections, each posting one
// envelope (one error event, as an SDK sends it; `batch` events for a flood) after the other
// for `seconds`; prints counts by status and the events sent as JSON.
//   node bench/lib/sentry-load.ts '{"url":"http://127.0.0.1:PORT/api/1/envelope/?sentry_key=K","lanes":8,"seconds":3}'
import http from 'node:http'

const { url, lanes, seconds, batch = 1 } = JSON.parse(process.argv[2] ?? '{}') as { url: string; lanes: number; seconds: number; batch?: number }
const agent = new http.Agent({ keepAlive: true, maxSockets: lanes })
const event = (n: number): string =>
  JSON.stringify({
    event_id: n.toString(16).padStart(32, '0'),
    level: 'error',
    platform: 'node',
    exception: { values: [{ type: 'TypeError', value: `cannot read properties of undefined (reading 'id') #${n}`, stacktrace: { frames: [{ function: 'main', filename: '/app/server.js', lineno: 40, colno: 3, in_app: true }, { function: 'route', filename: '/app/server.js', lineno: 30, colno: 9, in_app: true }, { function: 'handler', filename: '/app/server.js', lineno: 12, colno: 17, in_app: true }] } }] },
  })

function post(body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-sentry-envelope', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(-1))
    req.end(body)
  })
}

const counts: Record<string, number> = {}
let n = 0
const t0 = performance.now()
const end = t0 + seconds * 1000
await Promise.all(
  Array.from({ length: lanes }, async () => {
    while (performance.now() < end) {
      let body = '{}\n'
      for (let i = 0; i < batch; i++) {
        const payload = event(n++)
        body += `{"type":"event","length":${Buffer.byteLength(payload)}}\n${payload}\n`
      }
      const status = await post(body)
      counts[status] = (counts[status] ?? 0) + 1
    }
  }),
)
agent.destroy()
process.stdout.write(JSON.stringify({ counts, events: n, ms: performance.now() - t0 }))
