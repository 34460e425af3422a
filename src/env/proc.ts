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

/** True when `pid` runs and, if `startTime` is given, is the same process as recorded. */
export function isAlive(pid: number, startTime?: number): boolean {
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

/** SIGKILLs a recorded process group, only if its leader is still the recorded process. */
export function killGroup(pid: number, startTime?: number): boolean {
  if (!isAlive(pid, startTime)) return false
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
