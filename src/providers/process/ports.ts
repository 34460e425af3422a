// Free ports without races: the OS picks a free port, and a lock file under the shared temp
// dir keeps concurrent rig processes from handing the same port out twice before the
// server binds it.
import fs from 'node:fs'
import net from 'node:net'
import { tempRoot } from './cache-dir.ts'
import path from 'node:path'

const lockDir = (): string => path.join(tempRoot(), 'ports')
/** A reservation older than this is stale: its server has bound the port or never will. */
const LOCK_TTL_MS = 60_000

function listen(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen({ port, host, exclusive: true }, () => {
      const addr = srv.address()
      const p = typeof addr === 'object' && addr ? addr.port : port
      srv.close(() => resolve(p))
    })
  })
}

/** True when nothing listens on `port` (checked on 127.0.0.1 and the wildcard address). */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listen(port, '127.0.0.1')
    await listen(port, '0.0.0.0')
    return true
  } catch {
    return false
  }
}

function tryLock(port: number): boolean {
  const dir = lockDir()
  fs.mkdirSync(dir, { recursive: true, mode: 0o1777 })
  const file = path.join(dir, String(port))
  try {
    const st = fs.statSync(file)
    if (Date.now() - st.mtimeMs < LOCK_TTL_MS) return false
    fs.rmSync(file, { force: true })
  } catch {
    // no lock yet
  }
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx' })
    return true
  } catch {
    return false
  }
}

/** Returns a free TCP port on 127.0.0.1 that no other rig process is about to use. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listen(0, '127.0.0.1')
    if (tryLock(port)) return port
  }
  throw new Error('could not reserve a free port after 50 tries')
}
