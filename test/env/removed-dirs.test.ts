// A stopped environment's dir is renamed to `<id>.removed` and removed in the background (a
// PostgreSQL data dir is ~25 MB). A process that exits or is killed before that removal is done
// must not leave it behind: its watchdog, released only once the dir is gone, finishes it; the
// next start's sweep removes one whose owner and watchdog both died; the CLI waits for it.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { redis } from '../../src/index.ts'
import { start } from '../support/env.ts'
import { pidAlive, waitUntil, watchdogOf } from '../support/procs.ts'
import { BIN, envDirs, leftovers, makeProject, NODE } from '../support/project.ts'

const SRC = JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL')
})

/**
 * A process that starts postgres() and redis(), prints its env dir, waits for a line on stdin,
 * stops the environment and then ends at once (`exit`: process.exit(0); `kill`: SIGKILL of itself).
 */
function stopper(end: 'exit' | 'kill'): { child: ChildProcess; dir: Promise<string>; exited: Promise<void> } {
  const script = `
    import { postgres, redis, startEnvironment } from ${SRC}
    const env = await startEnvironment({ services: { db: postgres(), cache: redis() } })
    console.log(env.dir)
    process.stdin.once('data', async () => {
      await env.stop()
      if (${JSON.stringify(end)} === 'kill') process.kill(process.pid, 'SIGKILL')
      else process.exit(0)
    })
  `
  const child = spawn(NODE, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  const dir = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('\n')) resolve(out.trim())
    })
    void exited.then(() => reject(new Error(`the owner exited before it was ready: ${err}`)))
  })
  return { child, dir, exited }
}

describe('<id>.removed', () => {
  it.each(['exit', 'kill'] as const)('a process that ends (%s) right after stopping postgres() leaves nothing: its watchdog finishes the removal', async (end) => {
    const s = stopper(end)
    const dir = await s.dir
    s.child.stdin!.write('stop\n')
    await s.exited
    // The removal was cut short…
    expect(fs.existsSync(`${dir}.removed`), 'the owner ended before its removal was done').toBe(true)
    // …and the watchdog, still held, removes the rest.
    expect(await waitUntil(() => !fs.existsSync(`${dir}.removed`) && !fs.existsSync(dir))).toBe(true)
    expect(await waitUntil(() => watchdogOf(dir) === undefined)).toBe(true)
  })

  it("one whose owner and watchdog both died is removed by the next start's sweep", async () => {
    const s = stopper('kill')
    const dir = await s.dir
    const watchdog = watchdogOf(dir)
    expect(watchdog).toBeDefined()
    process.kill(watchdog!, 'SIGKILL')
    expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
    s.child.stdin!.write('stop\n')
    await s.exited
    expect(fs.existsSync(`${dir}.removed`), 'the owner ended before its removal was done').toBe(true)
    // Still there: nobody is left to remove it.
    expect(fs.existsSync(path.join(`${dir}.removed`, 'owner.json'))).toBe(true)

    const env = await start({ services: { cache: redis() } })
    try {
      expect(fs.existsSync(`${dir}.removed`)).toBe(false)
    } finally {
      await env.stop()
    }
  })
})

describe('rig up in the foreground', () => {
  it("exits only once its environment's dir is removed, Ctrl-C pressed again meanwhile included", async () => {
    const p = makeProject(`import { defineConfig, postgres, redis } from 'testrig'\nexport default defineConfig({ services: { db: postgres(), cache: redis() } })\n`)
    try {
      const child = spawn(NODE, ['--no-warnings', BIN, 'up'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp') }, stdio: ['ignore', 'ignore', 'pipe'] })
      children.push(child)
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })))
      expect(await waitUntil(() => stderr.includes('press Ctrl-C to stop'), 60_000), stderr).toBe(true)
      expect(envDirs(p.dir)).toHaveLength(1)
      // Ctrl-C, then again and again while it stops.
      child.kill('SIGINT')
      const again = setInterval(() => child.exitCode === null && child.signalCode === null && child.kill('SIGINT'), 2)
      const r = await closed.finally(() => clearInterval(again))
      // Interrupted (130); a Ctrl-C after the handlers were gone ends it by the signal.
      expect(r.code === 130 || r.signal === 'SIGINT', `${JSON.stringify(r)}\n${stderr}`).toBe(true)
      expect(stderr).toMatch(/stopping \(SIGINT\)/)
      // Looked at once, right away: not left to the watchdog or a later sweep.
      expect(envDirs(p.dir)).toEqual([])
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    } finally {
      await p.dispose()
    }
  }, 90_000)
})
