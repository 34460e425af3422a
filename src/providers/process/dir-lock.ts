// A lock between rig processes that build the same cached directory: mkdir is atomic, and a
// lock older than two minutes belongs to a process that died while holding it.
import fs from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** Takes the lock `<dir>.lock`, waiting for another holder; returns its release. */
export async function lockDir(dir: string, staleMs = 120_000): Promise<() => void> {
  const lockPath = `${dir}.lock`
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lockPath)
      return () => fs.rmSync(lockPath, { recursive: true, force: true })
    } catch {
      const age = Date.now() - (fs.statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > staleMs) fs.rmSync(lockPath, { recursive: true, force: true })
      await sleep(Math.min(200, 10 * (i + 1)))
    }
  }
}
