// The embedded PostgreSQL fallback: PGlite (PostgreSQL compiled to WASM) served over TCP, run
// as its own child process so it is stopped, killed and paused like any other server.
// Usage: node pglite-server.ts <port> <dataDir> [maxConnections]
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const [portArg, dataDir, maxArg] = process.argv.slice(2)
const db = await PGlite.create(dataDir ? `file://${dataDir}` : 'memory://')
const server = new PGLiteSocketServer({ db, port: Number(portArg), host: '127.0.0.1', maxConnections: Number(maxArg ?? 16) })
server.addEventListener('error', (e) => console.error('ERROR:', (e as CustomEvent).detail))
await server.start()
console.log(`PGlite ${(await db.query<{ v: string }>('select version() as v')).rows[0]?.v} listening on 127.0.0.1:${portArg}`)

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  await server.stop().catch(() => {})
  await db.close().catch(() => {})
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
