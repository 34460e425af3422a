// Process identity on Linux: a pid plus its start time, so a recycled pid is never killed, plus
// its uid, so a record naming someone else's process (all of /proc/<pid>/stat is world-readable,
// start times included) is never believed. A process group outlives its leader: rig remembers
// it until no live process is left in it.
import fs from 'node:fs'

/** What /proc says of a process. */
export interface ProcInfo {
  /** State letter (R, S, Z…). */
  state: string
  pgrp: number
  /** Start time in clock ticks since boot. */
  startTime: number
  /** Real uid. */
  uid: number
}

const HAS_PROC = fs.existsSync('/proc/self/stat')

/** /proc's view of `pid`, or undefined when it is gone (or there is no /proc). */
export function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: count after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN)
    return { state: f[0] ?? '', pgrp: Number(f[2]), startTime: Number(f[19]), uid }
  } catch {
    return undefined
  }
}

/** The process's start time in clock ticks since boot, or undefined when it is gone. */
export function processStartTime(pid: number): number | undefined {
  return procInfo(pid)?.startTime
}

/** The uid a process runs as, or undefined when it is gone. */
export function processUid(pid: number): number | undefined {
  return procInfo(pid)?.uid
}

/** True when `pid` exists (possibly as a zombie) and, if `startTime` is given, is the recorded process. */
function exists(pid: number, startTime?: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (startTime === undefined) return true
  const now = processStartTime(pid)
  // Without /proc (not Linux) identity cannot be checked; trust the pid.
  return now === undefined ? !HAS_PROC : now === startTime
}

/**
 * True when `pid` runs and, if `startTime` is given, is the same process as recorded.
 * A zombie is dead: an owner SIGKILLed after its parent exited is reparented to PID 1, and a
 * container's PID 1 may reap it late or never.
 */
export function isAlive(pid: number, startTime?: number): boolean {
  if (!exists(pid, startTime)) return false
  const state = procInfo(pid)?.state
  return state !== 'Z' && state !== 'X'
}

/** A process group rig started, as recorded: its leader's pid (= the group id), start time and uid. */
export interface GroupRecord {
  pid: number
  startTime?: number | undefined
  uid?: number | undefined
}

/** Live (not zombie) members of process group `pgid`, from /proc. */
function groupMembers(pgid: number): Array<ProcInfo & { pid: number }> {
  const out: Array<ProcInfo & { pid: number }> = []
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return out
  }
  for (const e of entries) {
    if (e.charCodeAt(0) > 57) continue
    const pid = Number(e)
    if (!Number.isInteger(pid)) continue
    const info = procInfo(pid)
    if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X') out.push({ pid, ...info })
  }
  return out
}

/**
 * True while process group `pgid` has a live member. `kill(-pgid, 0)` answers for the kernel;
 * zombies (which a container's PID 1 may never reap) do not count.
 */
export function groupAlive(pgid: number): boolean {
  return groupExists(pgid) && (HAS_PROC ? groupMembers(pgid).length > 0 : true)
}

/** The kernel's answer alone (zombies count): cheap, no /proc walk. */
function groupExists(pgid: number): boolean {
  if (pgid <= 0) return false
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * True when the group (or single process) `rec` names is still the one rig started: its leader
 * runs with the recorded start time and uid; or, once the leader is gone, live members remain
 * that run as the recorded uid and started after it (the kernel gives no new process a pid that
 * is still a group's id, so they are the leader's children).
 */
export function isOurGroup(rec: GroupRecord): boolean {
  if (!HAS_PROC) return exists(rec.pid, rec.startTime)
  const leader = procInfo(rec.pid)
  if (leader) return leader.startTime === rec.startTime && (rec.uid === undefined || leader.uid === rec.uid)
  if (rec.startTime === undefined || rec.uid === undefined || !groupExists(rec.pid)) return false
  return groupMembers(rec.pid).some((m) => m.uid === rec.uid && m.startTime >= (rec.startTime as number))
}

/**
 * SIGKILLs a recorded process group, leader gone or not, only when it is verifiably rig's
 * ({@link isOurGroup}); a recorded process that leads no group (a paused server's backend) is
 * killed alone. A zombie leader still identifies the group: its children may be alive.
 */
export function killGroup(rec: GroupRecord): boolean {
  if (!isOurGroup(rec)) return false
  try {
    process.kill(-rec.pid, 'SIGKILL')
  } catch {
    try {
      process.kill(rec.pid, 'SIGKILL')
    } catch {
      return false
    }
  }
  return true
}
