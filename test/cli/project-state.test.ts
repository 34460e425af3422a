// One environment per project, and a state file that cannot be turned against its user:
// two `rig up --detach` at once cannot both succeed; a damaged state file is reported as such
// and `rig down` still stops what runs; a state file naming paths or processes that are not
// rig's makes rig touch nothing; a `rig run` never uses another `rig run`'s environment.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { procInfo } from '../../src/env/proc.ts'
import { leftovers, makeProject, type Project } from '../support/project.ts'
import { pidAlive, waitUntil } from '../support/procs.ts'

const projects: Project[] = []
const victims: number[] = []
afterEach(async () => {
  for (const pid of victims.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  for (const p of projects.splice(0)) {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  }
})

function project(): Project {
  const p = makeProject(`import { defineConfig, command } from 'testrig'\nexport default defineConfig({ services: { api: command({ run: 'exec sleep 600' }) } })\n`)
  projects.push(p)
  return p
}

const stateFile = (p: Project): string => path.join(p.dir, '.rig', 'state.json')

describe('the project state file', () => {
  it('naming a dir and a process that are not rig\'s: rig down and rig up touch neither', async () => {
    const p = project()
    const victimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-victim-'))
    fs.writeFileSync(path.join(victimDir, 'keep'), 'x')
    const victim = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' })
    victim.unref()
    victims.push(victim.pid as number)
    const forged = { version: 1, pid: victim.pid, pidStartTime: procInfo(victim.pid as number)?.startTime, detached: true, configFile: path.join(p.dir, 'rig.config.ts'), envId: 'mz1-1-abcdef', envDir: victimDir, controlSocket: path.join(victimDir, 'sock'), startedAt: '', startMs: 0, services: {}, timeline: {} }
    fs.mkdirSync(path.join(p.dir, '.rig'))
    fs.writeFileSync(stateFile(p), JSON.stringify(forged), { mode: 0o600 })
    try {
      const down = await p.rig(['down'])
      expect(down.code, down.stderr).toBe(3)
      expect(down.stderr).toContain('not in this user\'s temp dir')
      const up = await p.rig(['up', '--detach'])
      expect(up.code, up.stderr).toBe(3)
      expect(fs.existsSync(path.join(victimDir, 'keep'))).toBe(true)
      expect(pidAlive(victim.pid as number)).toBe(true)
      // A link in place of the state file is not believed.
      fs.rmSync(stateFile(p))
      fs.symlinkSync(path.join(victimDir, 'keep'), stateFile(p))
      const status = await p.rig(['status'])
      expect(status.code).toBe(1)
      expect(status.stderr).toMatch(/cannot be trusted .*symbolic link/)
      fs.rmSync(stateFile(p))
    } finally {
      fs.rmSync(victimDir, { recursive: true, force: true })
    }
  })

  it('two rig up --detach at once: one starts, the other says it is already running; a damaged state file is reported and rig down still stops it', async () => {
    const p = project()
    const [a, b] = await Promise.all([p.rig(['up', '--detach']), p.rig(['up', '--detach'])])
    expect([a?.code, b?.code].sort()).toEqual([0, 2])
    const loser = a?.code === 2 ? a : b
    expect(loser?.stderr).toContain('already running')
    expect(loser?.stderr).toContain('rig down')
    expect(fs.statSync(stateFile(p)).mode & 0o777).toBe(0o600)
    const state = JSON.parse(fs.readFileSync(stateFile(p), 'utf8')) as { pid: number }
    // Truncated, as by a full disk or a crash mid-write.
    fs.writeFileSync(stateFile(p), fs.readFileSync(stateFile(p), 'utf8').slice(0, 40))
    const status = await p.rig(['status'])
    expect(status.code).toBe(1)
    expect(status.stderr).toContain('is damaged')
    expect(status.stderr).not.toContain('no environment is running')
    const again = await p.rig(['up', '--detach'])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already running')
    const down = await p.rig(['down'])
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout + down.stderr).toContain('stopped 1 environment')
    expect(await waitUntil(() => !pidAlive(state.pid))).toBe(true)
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
    expect(fs.existsSync(stateFile(p))).toBe(false)
  })

  it('rig run never uses another rig run\'s environment', async () => {
    const p = project()
    const first = p.rig(['run', '--', 'sh', '-c', 'echo "env=$RIG_ENV_ID"; sleep 6'])
    expect(await waitUntil(() => fs.existsSync(stateFile(p)), 60_000)).toBe(true)
    const second = await p.rig(['run', '--', 'sh', '-c', 'echo "env=$RIG_ENV_ID"'])
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).not.toContain('using the environment started by rig up')
    expect(second.stderr).toContain('starting one of its own')
    const firstDone = await first
    expect(firstDone.code, firstDone.stderr).toBe(0)
    const idOf = (out: string): string | undefined => /env=(\S+)/.exec(out)?.[1]
    expect(idOf(second.stdout)).toBeDefined()
    expect(idOf(second.stdout)).not.toBe(idOf(firstDone.stdout))
  })
})
