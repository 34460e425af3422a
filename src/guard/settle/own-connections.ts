// Which client ports belong to connections of this process: the settle loop leaves the test
// process's own sessions to the check (a transaction a test left open is its leak, and waiting
// for it would only make the test slower to fail). Linux tells through /proc; elsewhere the set
// is empty and every session counts as the application's.
import fs from 'node:fs'
import os from 'node:os'

/** Inodes of the sockets this process holds. */
function socketInodes(): Set<string> {
  const out = new Set<string>()
  let fds: string[]
  try {
    fds = fs.readdirSync('/proc/self/fd')
  } catch {
    return out
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))
      if (m?.[1]) out.add(m[1])
    } catch {
      // closed meanwhile
    }
  }
  return out
}

/** Local TCP ports of this process's sockets (IPv4 and IPv6), read when asked: a few ms on a busy host. */
export function ownClientPorts(): Set<number> {
  const inodes = socketInodes()
  const ports = new Set<number>()
  if (inodes.size === 0) return ports
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text: string
    try {
      text = fs.readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      const local = f[1]
      const inode = f[9]
      if (!local || !inode || !inodes.has(inode)) continue
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16)
      if (Number.isFinite(port)) ports.add(port)
    }
  }
  return ports
}

/** The port of a `host:port` client address (MariaDB's processlist), or undefined. */
export function portOf(hostPort: string): number | undefined {
  const m = /:(\d+)$/.exec(hostPort)
  return m ? Number(m[1]) : undefined
}

/** True for an address of this host (loopback or one of its interfaces): a client port seen from there may be ours. */
export function isLocalAddress(addr: string | null | undefined): boolean {
  if (!addr) return false
  const a = addr.replace(/^::ffff:/, '').replace(/\/\d+$/, '')
  if (a === 'localhost' || a.startsWith('127.') || a === '::1') return true
  return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address === a))
}
