// A process group outlives its leader: a one-shot `sleep 300 & echo seeded` or a wrapper that
// exits leaves children in the group. rig remembers the group until it is empty, so stopping
// the environment, or the watchdog after its owner was SIGKILLed, kills them too.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { command } from '../../src/index.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { groupMembers, pidAlive, waitUntil } from '../support/procs.ts'

const OWNER = path.join(import.meta.dirname, '../support/fixtures/owner-oneshot.ts')
const groups: number[] = []
const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL')
  for (const g of groups.splice(0)) {
    try {
      process.kill(-g, 'SIGKILL')
    } catch {
      // gone
    }
  }
})

const recorded = (dir: string): number[] => (JSON.parse(fs.readFileSync(path.join(dir, 'processes.json'), 'utf8')) as Array<{ pid: number }>).map((p) => p.pid)

describe('children a leader left in its group', () => {
  it('a one-shot that exits first: its child stays recorded and is stopped with the environment', async () => {
    let pgid = 0
    const env = await start(
      { services: { seed: command({ run: 'sleep 300 & echo seeded', oneShot: true }), api: command({ run: 'exec sleep 300', dependsOn: { seed: 'completed' } }) } },
      { onEvent: (e) => void (e.type === 'started' && e.service === 'seed' && e.pid ? (pgid = e.pid) : undefined) },
    )
    groups.push(pgid)
    expect(env.get('seed').status).toBe('completed')
    const children = groupMembers(pgid)
    expect(children.length).toBeGreaterThan(0)
    expect(recorded(env.dir)).toContain(pgid)
    await env.stop()
    expect(children.filter(pidAlive)).toEqual([])
    await assertNothingLeft(env)
  })

  it('a wrapper that exits 0 while its server runs on: stopping the service stops the server', async () => {
    let pgid = 0
    const env = await start({ services: { web: command({ run: ['sh', '-c', 'sleep 300 & exit 0'] }) } }, { onEvent: (e) => void (e.type === 'started' && e.pid ? (pgid = e.pid) : undefined) })
    groups.push(pgid)
    expect(await waitUntil(() => env.get('web').status === 'completed')).toBe(true)
    const children = groupMembers(pgid)
    expect(children.length).toBeGreaterThan(0)
    await env.get('web').stop()
    expect(children.filter(pidAlive)).toEqual([])
    await env.stop()
    await assertNothingLeft(env)
  })

  it('the watchdog kills them when the owner is SIGKILLed after the leader exited', async () => {
    const child = spawn(process.execPath, ['--no-warnings', OWNER], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const { dir, pgid } = await new Promise<{ dir: string; pgid: number }>((resolve, reject) => {
      let out = ''
      let err = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) resolve(JSON.parse(line) as { dir: string; pgid: number })
      })
      child.on('exit', (code) => reject(new Error(`owner exited (${code}): ${err}`)))
    })
    groups.push(pgid)
    const orphans = groupMembers(pgid)
    expect(orphans.length).toBeGreaterThan(0)
    expect(pidAlive(pgid)).toBe(false)
    child.kill('SIGKILL')
    expect(await waitUntil(() => orphans.every((p) => !pidAlive(p)))).toBe(true)
    expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
  })
})
