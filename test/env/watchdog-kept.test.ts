// A stopped environment's watchdog is kept for the next environment this process starts (a spawn
// forks this whole process: it is the dearest step of a warm start rig controls); the next start
// hands it its dir instead of spawning one. backgroundDone() ends it, so a run that waits for it
// leaves nothing running; one that died meanwhile is replaced by a new one.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { backgroundDone } from '../../src/env/environment.ts'
import { startWatchdog } from '../../src/env/watchdog.ts'
import { redis } from '../../src/index.ts'
import { start } from '../support/env.ts'
import { pidAlive, waitUntil, watchdogOf } from '../support/procs.ts'

/** Starts and stops an environment; resolves with its dir and watchdog once the dir is gone and the watchdog released. */
async function startAndStop(): Promise<{ dir: string; watchdog: number }> {
  const env = await start({ services: { cache: redis() } })
  const watchdog = watchdogOf(env.dir)
  await env.stop()
  // The dir is removed in the background; the watchdog is released after it.
  expect(await waitUntil(() => !fs.existsSync(env.dir) && !fs.existsSync(`${env.dir}.removed`))).toBe(true)
  await new Promise((r) => setTimeout(r, 20))
  return { dir: env.dir, watchdog: watchdog ?? -1 }
}

describe("a stopped environment's watchdog", () => {
  it('watches the next environment of the process, and backgroundDone() ends it', async () => {
    await backgroundDone()
    const first = await startAndStop()
    expect(first.watchdog).toBeGreaterThan(0)
    // Kept, idle.
    expect(pidAlive(first.watchdog)).toBe(true)
    const env = await start({ services: { cache: redis() } })
    try {
      // No watchdog of its own: the kept one watches it.
      expect(watchdogOf(env.dir)).toBeUndefined()
      expect(pidAlive(first.watchdog)).toBe(true)
    } finally {
      await env.stop()
    }
    // Gone once it resolves: a run that waited for it leaves nothing running.
    await backgroundDone()
    expect(pidAlive(first.watchdog)).toBe(false)
  })

  it('is replaced when it died meanwhile', async () => {
    await backgroundDone()
    const first = await startAndStop()
    process.kill(first.watchdog, 'SIGKILL')
    expect(await waitUntil(() => !pidAlive(first.watchdog))).toBe(true)
    const env = await start({ services: { cache: redis() } })
    try {
      const own = watchdogOf(env.dir)
      expect(own).toBeDefined()
      expect(pidAlive(own!)).toBe(true)
    } finally {
      await env.stop()
      await backgroundDone()
    }
  })

  it('is not handed a dir it would not read as one (relative, or with a newline): that dir gets a watchdog of its own', async () => {
    await backgroundDone()
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-watchdog-kept-'))
    const first = await startWatchdog(path.join(scratch, 'first'))
    first.release()
    const dirs = [path.relative(process.cwd(), path.join(scratch, 'relative')), path.join(scratch, 'new\nline')]
    const own: number[] = []
    try {
      for (const dir of dirs) {
        const w = await startWatchdog(dir)
        const pid = watchdogOf(dir)
        expect(pid, dir).toBeDefined()
        own.push(pid!)
        w.release()
      }
    } finally {
      await backgroundDone()
      fs.rmSync(scratch, { recursive: true, force: true })
    }
    for (const pid of own) expect(await waitUntil(() => !pidAlive(pid))).toBe(true)
  })
})
