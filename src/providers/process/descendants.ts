// A server's processes are not always in its process group: PostgreSQL backends call setsid(),
// so a signal to the group misses every open connection. Their parentage does not change while
// the server runs, so the process tree (from /proc) finds them all. A cgroup freezer would
// too, but needs a delegated cgroup (root or systemd) that rig cannot count on; walking /proc
// needs no privilege and costs a few ms per pause.
import fs from 'node:fs'

/** A process as identified on Linux: pid plus start time, so a recycled pid is never signalled. */
export interface ProcessId {
  pid: number
  startTime: number
}

function stat(pid: number): { ppid: number; startTime: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: count after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), startTime: Number(f[19]) }
  } catch {
    return undefined
  }
}

/** Every live descendant of `root` (children, their children…); empty where there is no /proc. */
export function descendants(root: number): ProcessId[] {
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const children = new Map<number, ProcessId[]>()
  for (const e of entries) {
    if (e.charCodeAt(0) > 57) continue
    const pid = Number(e)
    if (!Number.isInteger(pid)) continue
    const s = stat(pid)
    if (!s) continue
    const list = children.get(s.ppid)
    if (list) list.push({ pid, startTime: s.startTime })
    else children.set(s.ppid, [{ pid, startTime: s.startTime }])
  }
  const out: ProcessId[] = []
  const queue = [root]
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    for (const c of children.get(p) ?? []) {
      out.push(c)
      queue.push(c.pid)
    }
  }
  return out
}

/** Sends `signal` to `id` if it is still the same process; false when it is gone. */
export function signalProcess(id: ProcessId, signal: NodeJS.Signals): boolean {
  if (stat(id.pid)?.startTime !== id.startTime) return false
  try {
    process.kill(id.pid, signal)
    return true
  } catch {
    return false
  }
}
