// Process identity on Linux: a pid plus its start time, so a recycled pid is never killed.
import fs from 'node:fs'

/** The process's start time in clock ticks since boot, or undefined when it is gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22; the command name (field 2) may contain spaces, so count after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[19])
  } catch {
    return undefined
  }
}

/** `/proc/<pid>/stat`'s state letter (R, S, Z…), or undefined when unknown. */
function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  } catch {
    return undefined
  }
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
  return now === undefined || now === startTime
}

/**
 * True when `pid` runs and, if `startTime` is given, is the same process as recorded.
 * A zombie is dead: an owner SIGKILLed after its parent exited is reparented to PID 1, and a
 * container's PID 1 may reap it late or never.
 */
export function isAlive(pid: number, startTime?: number): boolean {
  if (!exists(pid, startTime)) return false
  const state = processState(pid)
  return state !== 'Z' && state !== 'X'
}

/**
 * SIGKILLs a recorded process group, only if its leader is still the recorded process. A
 * zombie leader still identifies the group: its children may be alive.
 */
export function killGroup(pid: number, startTime?: number): boolean {
  if (!exists(pid, startTime)) return false
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      return false
    }
  }
  return true
}
