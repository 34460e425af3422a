// One environment per project directory: `.rig/lock`, made with an atomic exclusive link (a
// complete record appears at once or not at all) holding the owner's pid and start time. Two
// `rig up --detach` started together cannot both get it; a lock whose owner died (SIGKILL, a
// crash) is taken over at once, under a short exclusive `lock.takeover` so two takers cannot
// both remove it.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { STATE_DIR } from '../config/defaults.ts'
import { myUid } from '../fs-safe/private-dir.ts'
import { readOwnFile } from '../fs-safe/private-file.ts'
import { isAlive, procInfo } from './proc.ts'

/** What the lock file holds. */
export interface LockOwner {
  pid: number
  startTime?: number | undefined
}

/** Path of a project's lock. */
export function lockPath(root: string): string {
  return path.join(root, STATE_DIR, 'lock')
}

function readLock(file: string): LockOwner | undefined {
  try {
    const text = readOwnFile(file)
    if (text === undefined) return undefined
    const o = JSON.parse(text) as LockOwner
    return Number.isInteger(o.pid) ? o : { pid: -1 }
  } catch {
    // Damaged or not ours: no live owner can be read from it.
    return { pid: -1 }
  }
}

/** True when the lock's owner runs, is the recorded process and runs as this user. */
export function lockOwnerAlive(o: LockOwner): boolean {
  return o.pid > 0 && isAlive(o.pid, o.startTime) && procInfo(o.pid)?.uid === myUid()
}

/** The live owner of the project's lock, if any. */
export function lockHolder(root: string): LockOwner | undefined {
  const o = readLock(lockPath(root))
  return o && lockOwnerAlive(o) ? o : undefined
}

/** A held lock. */
export interface ProjectLock {
  /** Removes the lock if it is still this process's. */
  release(): void
}

/**
 * Takes the project's lock for this process. Returns the live holder instead when another
 * process has it; a dead holder's lock is taken over at once.
 */
export function acquireProjectLock(root: string): ProjectLock | { heldBy: LockOwner } {
  const file = lockPath(root)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const self: LockOwner = { pid: process.pid, startTime: procInfo(process.pid)?.startTime }
  const text = JSON.stringify(self)
  for (let attempt = 0; attempt < 50; attempt++) {
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    fs.writeFileSync(tmp, text, { flag: 'wx', mode: 0o600 })
    try {
      fs.linkSync(tmp, file)
      return {
        release() {
          const o = readLock(file)
          if (o?.pid === self.pid && o.startTime === self.startTime) fs.rmSync(file, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      fs.rmSync(tmp, { force: true })
    }
    const holder = readLock(file)
    if (holder && lockOwnerAlive(holder)) return { heldBy: holder }
    if (!takeOver(file, holder)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
  }
  throw new Error(`could not take ${file}`)
}

/** Removes a dead holder's lock, unless someone else replaced it meanwhile; false when another process is at it. */
function takeOver(file: string, seen: LockOwner | undefined): boolean {
  const guard = `${file}.takeover`
  try {
    fs.writeFileSync(guard, String(process.pid), { flag: 'wx', mode: 0o600 })
  } catch {
    // Another process is taking over (microseconds); a guard left by one that died then is old.
    const age = Date.now() - (fs.statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
    if (age > 5000) fs.rmSync(guard, { force: true })
    return false
  }
  try {
    const now = readLock(file)
    if (now && now.pid === seen?.pid && now.startTime === seen.startTime && !lockOwnerAlive(now)) fs.rmSync(file, { force: true })
  } finally {
    fs.rmSync(guard, { force: true })
  }
  return true
}

/** Removes the lock of a project whose owner is dead (`rig down` after a crash). */
export function clearDeadLock(root: string): void {
  const file = lockPath(root)
  const holder = readLock(file)
  if (holder && !lockOwnerAlive(holder)) takeOver(file, holder)
}
