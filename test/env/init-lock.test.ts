// A run killed during the first initdb leaves `<cache>.lock` and a staging dir behind: the next
// start takes them over at once when the lock's owner is dead (pid + start time), instead of
// waiting out the two-minute age limit. A live holder is still waited for.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { procInfo } from '../../src/env/proc.ts'
import { postgres } from '../../src/index.ts'
import { lockDir } from '../../src/providers/process/dir-lock.ts'
import { assertNothingLeft, start } from '../support/env.ts'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-init-lock-'))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

/** The identity of a process that has exited (as a killed initdb run's would be). */
async function deadProcess(): Promise<{ pid: number; startTime: number }> {
  const c = spawn('sleep', ['0.2'], { stdio: 'ignore' })
  const startTime = procInfo(c.pid as number)?.startTime as number
  await new Promise((r) => c.on('exit', r))
  return { pid: c.pid as number, startTime }
}

/** Plants what a run killed mid-initdb leaves: the lock with its owner, and its staging dir. */
function plantStale(dir: string, holder: { pid: number; startTime: number }): string {
  fs.mkdirSync(`${dir}.lock`, { recursive: true })
  fs.writeFileSync(path.join(`${dir}.lock`, 'owner.json'), JSON.stringify(holder))
  const staging = `${dir}.tmp-${holder.pid}`
  fs.mkdirSync(path.join(staging, 'data'), { recursive: true })
  return staging
}

describe('the init cache lock', () => {
  it('is taken over at once when its owner is dead, with the staging dir it left', async () => {
    const dir = path.join(scratch, 'unit', 'pg-15')
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    const staging = plantStale(dir, await deadProcess())
    // The default age limit is two minutes: resolving inside the test's timeout means it was not waited out.
    const release = await lockDir(dir)
    expect(fs.existsSync(staging)).toBe(false)
    expect(JSON.parse(fs.readFileSync(path.join(`${dir}.lock`, 'owner.json'), 'utf8')).pid).toBe(process.pid)
    release()
    expect(fs.existsSync(`${dir}.lock`)).toBe(false)
  })

  it('waits for a live owner, and gets the lock once it is released', async () => {
    const dir = path.join(scratch, 'unit', 'pg-16')
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    const first = await lockDir(dir)
    let second: (() => void) | undefined
    const waiting = lockDir(dir).then((r) => (second = r))
    await new Promise((r) => setTimeout(r, 300))
    expect(second).toBeUndefined()
    first()
    await waiting
    expect(second).toBeDefined()
    second?.()
  })

  it('PostgreSQL starts through a stale lock and staging dir of a run killed during initdb', async () => {
    const saved = process.env.RIG_CACHE_DIR
    process.env.RIG_CACHE_DIR = path.join(scratch, 'cache')
    fs.mkdirSync(process.env.RIG_CACHE_DIR, { mode: 0o755 })
    fs.chmodSync(scratch, 0o755)
    try {
      const env = await start({ services: { db: postgres() } })
      await env.stop()
      const root = path.join(process.env.RIG_CACHE_DIR, 'postgres')
      // versions/: `postgres --version` recorded per binary (version.ts), not an initialised data dir.
      const cached = fs.readdirSync(root).filter((e) => !/\.(lock|tmp-|stale-)/.test(e) && e !== 'versions')
      expect(cached).toHaveLength(1)
      const dir = path.join(root, cached[0] as string)
      fs.rmSync(dir, { recursive: true })
      const staging = plantStale(dir, await deadProcess())
      const again = await start({ services: { db: postgres() } })
      expect(again.get('db').status).toBe('ready')
      await again.stop()
      expect(fs.existsSync(staging)).toBe(false)
      expect(fs.existsSync(`${dir}.lock`)).toBe(false)
      await assertNothingLeft(again)
    } finally {
      if (saved === undefined) delete process.env.RIG_CACHE_DIR
      else process.env.RIG_CACHE_DIR = saved
    }
  }, 100_000)
})
