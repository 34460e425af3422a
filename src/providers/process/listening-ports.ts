// Which TCP ports a process group listens on, from /proc (Linux). Used only to explain a
// readiness failure: "it listens on :3000, not on the port rig gave it".
import fs from 'node:fs'

/** A listening socket. */
export interface Listener {
  host: string
  port: number
}

function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16)
  return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255].join('.')
}

function ipv6(hex: string): string {
  if (/^0+$/.test(hex)) return '::'
  if (hex === '00000000000000000000000001000000') return '::1'
  return 'an IPv6 address'
}

/** Listening sockets of this network namespace, by socket inode. */
function listeningSockets(): Map<string, Listener> {
  const out = new Map<string, Listener>()
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text = ''
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // local_address, st (0A = LISTEN), inode
      const [addr, portHex] = (f[1] ?? '').split(':')
      if (f[3] !== '0A' || !addr || !portHex || !f[9]) continue
      out.set(f[9], { host: v6 ? ipv6(addr) : ipv4(addr), port: Number.parseInt(portHex, 16) })
    }
  }
  return out
}

/** Pids whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8')
      // After the command name's ')': state, ppid, pgrp.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) pids.push(Number(e))
    } catch {
      // exited meanwhile
    }
  }
  return pids
}

/** TCP listeners of the processes in group `pgid` (empty when unknown, e.g. not on Linux). */
export function listeningPorts(pgid: number): Listener[] {
  const sockets = listeningSockets()
  if (sockets.size === 0) return []
  const found = new Map<string, Listener>()
  for (const pid of groupMembers(pgid)) {
    let fds: string[] = []
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]
        const l = inode ? sockets.get(inode) : undefined
        if (l) found.set(`${l.host}:${l.port}`, l)
      } catch {
        // closed meanwhile
      }
    }
  }
  return [...found.values()]
}
