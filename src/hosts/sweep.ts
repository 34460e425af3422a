// Removing hosts: at a clean stop, by the watchdog when the owner died, and by the sweep at the
// next start for an environment whose owner is gone (its id carries the owner's pid). Only
// names rig gives are touched: namespaces `rig-<id>-<host>`, bridges whose alias names the
// environment, and their ports.
import fs from 'node:fs'
import { isAlive } from '../env/proc.ts'
import { ipBatchSync, ipBinary, ipSync } from './ip.ts'
import { BRIDGE, bridgeAlias, NETNS, ownerPid } from './names.ts'

const NETNS_DIR = '/run/netns'
const NET_DIR = '/sys/class/net'

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}

function aliasOf(link: string): string {
  try {
    return fs.readFileSync(`${NET_DIR}/${link}/ifalias`, 'utf8').trim()
  } catch {
    return ''
  }
}

function quietly(args: readonly string[]): string {
  try {
    return ipSync(args)
  } catch {
    return ''
  }
}

/** Environment ids that have hosts on this machine: from namespace names and bridge aliases. */
function envIdsWithHosts(): Set<string> {
  const ids = new Set<string>()
  for (const n of list(NETNS_DIR)) {
    const m = NETNS.exec(n)
    if (m?.[1]) ids.add(m[1])
  }
  for (const l of list(NET_DIR)) {
    if (!BRIDGE.test(l)) continue
    const m = /^testrig (\S+)$/.exec(aliasOf(l))
    if (m?.[1]) ids.add(m[1])
  }
  return ids
}

/**
 * Removes every namespace, bridge and port of environment `envId` (one `ip -batch`). Processes
 * still inside its namespaces (none after a clean stop, so `killInside: false` skips the look)
 * are killed first, or a namespace would live on in them. Returns how many namespaces and
 * bridges were removed.
 */
export function removeHostsOf(envId: string, options: { killInside?: boolean } = {}): number {
  if (process.getuid?.() !== 0 || !ipBinary()) return 0
  const lines: string[][] = []
  const prefix = `rig-${envId}-`
  let removed = 0
  for (const n of list(NETNS_DIR)) {
    if (!n.startsWith(prefix) || NETNS.exec(n)?.[1] !== envId) continue
    if (options.killInside !== false) {
      for (const pid of quietly(['netns', 'pids', n]).split('\n').map(Number)) {
        if (Number.isInteger(pid) && pid > 1 && pid !== process.pid) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // gone meanwhile
          }
        }
      }
    }
    lines.push(['netns', 'del', n])
    removed++
  }
  const alias = bridgeAlias(envId)
  for (const bridge of list(NET_DIR)) {
    if (!BRIDGE.test(bridge) || aliasOf(bridge) !== alias) continue
    // A port outlives its bridge while the namespace at its other end lives: delete each pair.
    const port = new RegExp(`^${bridge}h\\d+$`)
    for (const p of list(NET_DIR)) if (port.test(p)) lines.push(['link', 'del', 'dev', p])
    lines.push(['link', 'del', 'dev', bridge])
    removed++
  }
  ipBatchSync(lines)
  return removed
}

/** Removes the hosts of every environment whose owner process is gone; returns how many were. */
export function sweepStaleHosts(): number {
  if (process.getuid?.() !== 0) return 0
  let removed = 0
  for (const id of envIdsWithHosts()) if (!isAlive(ownerPid(id))) removed += removeHostsOf(id)
  return removed
}
