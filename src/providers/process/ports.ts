// Free ports without races: the OS picks a free port, and a lock file in the user's temp root
// keeps concurrent rig processes from handing the same port out twice before the server binds
// it. (rig processes of other users reserve in their own roots; the OS still refuses a port
// bound twice, and a start that lost that race retries on another port.)
import fs from 'node:fs'
import net from 'node:net'
import { RigError } from '../../errors.ts'
import path from 'node:path'
import { tempDir } from '../../fs-safe/temp-root.ts'

/** A reservation older than this is stale: its server has bound the port or never will. */
const LOCK_TTL_MS = 60_000

/**
 * Binds `port` (0: one the OS picks) on `host`, or without one on the wildcard address (IPv6 and
 * IPv4 at once where the machine has IPv6, else IPv4), then closes it; resolves with the port.
 */
function listen(port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen({ port, ...(host === undefined ? {} : { host }), exclusive: true }, () => {
      const addr = srv.address()
      const p = typeof addr === 'object' && addr ? addr.port : port
      srv.close(() => resolve(p))
    })
  })
}

/**
 * Why `port` cannot be used, or undefined when it is free (checked on 127.0.0.1 and the
 * wildcard address): `in-use`, or `privileged` when this user may not bind it (below
 * net.ipv4.ip_unprivileged_port_start, 1024 by default, without root).
 */
export async function portProblem(port: number): Promise<'in-use' | 'privileged' | undefined> {
  try {
    await listen(port, '127.0.0.1')
    await listen(port, '0.0.0.0')
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'EACCES' || code === 'EPERM' ? 'privileged' : 'in-use'
  }
}

/** True when nothing listens on `port` and this user may bind it. */
export async function isPortFree(port: number): Promise<boolean> {
  return (await portProblem(port)) === undefined
}

/** A readable error for a reservation that cannot be written (a full or read-only temp dir). */
function lockError(dir: string, err: unknown): RigError {
  return new RigError('RIG_TEMP_DENIED', `cannot write port reservations in ${dir}: ${(err as Error).message}. Set RIG_TMP_DIR to a directory of yours with room`, { cause: err })
}

function tryLock(port: number): boolean {
  const dir = tempDir('ports')
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
  } catch (err) {
    // Only "someone else holds it" means try another port; anything else would fail 50 times.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw lockError(dir, err)
  }
}

/**
 * Returns a TCP port free on every address, 127.0.0.1 included, that no other rig process is
 * about to use. The port is picked on the wildcard address: with a host, Node looks the address
 * up first, and the first such listen of a process costs ~10-20 ms more (the lookup's modules, an
 * IPv6 address check's pattern compiled) on the path of its first start.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await listen(0)
    if (tryLock(port)) return port
  }
  throw new Error('could not reserve a free port after 50 tries')
}
