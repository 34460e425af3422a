// Never an orphan: when the process that owns an environment is SIGKILLed, its watchdog reaps
// every service; when the watchdog dies too, the next start sweeps the stale environment.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { redis } from '../../src/index.ts'
import { start } from '../support/env.ts'
import { expectGroupsGone, firstOutput, groupAlive, pidAlive, waitUntil, watchdogOf } from '../support/procs.ts'
import { leftovers as projectLeftovers, makeProject, REPO, type Project } from '../support/project.ts'

const OWNER = path.join(import.meta.dirname, '../support/fixtures/owner.ts')

interface Owned {
  child: ChildProcess
  dir: string
  pids: number[]
}

const children: ChildProcess[] = []
const leftovers: number[] = []
afterEach(() => {
  // Whatever a failed assertion left: kill it by pid.
  for (const c of children.splice(0)) if (c.pid && pidAlive(c.pid)) c.kill('SIGKILL')
  for (const p of leftovers.splice(0)) {
    try {
      process.kill(-p, 'SIGKILL')
    } catch {
      // gone
    }
  }
})

/** Runs the owner script and waits for its environment to be ready (with `second`, its second one). */
async function startOwner(second = false): Promise<Owned & { watchdogDir?: string }> {
  const child = spawn(process.execPath, ['--no-warnings', OWNER, ...(second ? ['second'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  const line = await firstOutput(child, (out) => out.split('\n').find((l) => l.startsWith('{')), 'its environment was ready')
  const { dir, pids, watchdog } = JSON.parse(line) as { dir: string; pids: Record<string, number>; watchdog?: string }
  leftovers.push(...Object.values(pids))
  return { child, dir, pids: Object.values(pids), ...(watchdog ? { watchdogDir: watchdog } : {}) }
}

describe('SIGKILL of the owner', () => {
  it('the watchdog reaps every service and removes the env dir', async () => {
    const { child, dir, pids } = await startOwner()
    expect(pids).toHaveLength(3)
    expect(pids.every(groupAlive)).toBe(true)
    expect(fs.existsSync(dir)).toBe(true)
    const watchdog = watchdogOf(dir)
    expect(watchdog).toBeDefined()
    child.kill('SIGKILL')
    await expectGroupsGone(pids, 15_000)
    expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
    expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
  })

  it("a process's second environment is watched by the first one's watchdog, kept for it: it reaps that one", async () => {
    const { child, dir, pids, watchdogDir } = await startOwner(true)
    expect(watchdogDir).toBeDefined()
    expect(fs.existsSync(watchdogDir!)).toBe(false)
    // No new watchdog was spawned for the second environment: the first one's watches it.
    expect(watchdogOf(dir)).toBeUndefined()
    const watchdog = watchdogOf(watchdogDir!)
    expect(watchdog).toBeDefined()
    expect(pids.every(groupAlive)).toBe(true)
    child.kill('SIGKILL')
    await expectGroupsGone(pids, 15_000)
    expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
    expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
  })

  it('the next start sweeps an environment whose watchdog died too', async () => {
    const { child, dir, pids } = await startOwner()
    const watchdog = watchdogOf(dir)
    expect(watchdog).toBeDefined()
    process.kill(watchdog!, 'SIGKILL')
    expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
    child.kill('SIGKILL')
    expect(await waitUntil(() => !pidAlive(child.pid!))).toBe(true)
    // Nobody is left to clean up: the services are orphans now.
    expect(pids.every(groupAlive)).toBe(true)
    expect(fs.existsSync(dir)).toBe(true)

    const env = await start({ services: { cache: redis() } })
    try {
      await expectGroupsGone(pids, 15_000)
      expect(fs.existsSync(dir)).toBe(false)
    } finally {
      await env.stop()
    }
  })
})

/** Whether this machine can run a process in a mount namespace of its own (root, unshare). */
function canUnshare(): boolean {
  return spawnSync('unshare', ['-m', 'true']).status === 0
}

describe('the watchdog when the shell cannot be started', () => {
  it.skipIf(!canUnshare())('runs as Node, says so, and still reaps every service after SIGKILL of the owner', async () => {
    // In a mount namespace of its own, /bin/sh is /dev/null: spawning it fails with EACCES.
    const script = `
      import { redis, command, startEnvironment } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))}
      const env = await startEnvironment({ services: { cache: redis(), w: command({ run: ['sleep', '600'] }) } })
      console.log(JSON.stringify({ dir: env.dir, pids: Object.fromEntries(Object.entries(env.services).map(([n, s]) => [n, s.pid])) }))
      setInterval(() => {}, 1 << 30)
    `
    const shell = fs.realpathSync('/bin/sh')
    const child = spawn('unshare', ['-m', '/bin/sh', '-c', 'mount --bind /dev/null "$1" && exec "$2" --no-warnings --input-type=module -e "$3"', 'owner', shell, process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    expect(await waitUntil(() => out.includes('\n') || child.exitCode !== null, 30_000), err).toBe(true)
    const { dir, pids } = JSON.parse(out.trim().split('\n')[0] ?? '{}') as { dir: string; pids: Record<string, number> }
    leftovers.push(...Object.values(pids))
    expect(err).toMatch(/rig: warning: the watchdog could not start as \/bin\/sh \(.*EACCES.*\); it runs as Node instead/)
    const watchdog = watchdogOf(dir)
    expect(watchdog).toBeDefined()
    expect(fs.readFileSync(`/proc/${watchdog}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath)
    child.kill('SIGKILL')
    await expectGroupsGone(Object.values(pids), 15_000)
    expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
    expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
  })
})

describe('the owner exiting without stopping', () => {
  it('an uncaught exception in the owner still leaves nothing', async () => {
    const script = `
      import { redis, command, startEnvironment } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))}
      const env = await startEnvironment({ services: { cache: redis(), w: command({ run: ['sleep', '600'] }) } })
      console.log(JSON.stringify({ dir: env.dir, pids: Object.fromEntries(Object.entries(env.services).map(([n, s]) => [n, s.pid])) }))
      setTimeout(() => { throw new Error('the test runner crashed') }, 100)
    `
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    const code = await new Promise<number | null>((r) => child.on('exit', r))
    expect(code).not.toBe(0)
    const { dir, pids } = JSON.parse(out.trim().split('\n')[0] ?? '{}') as { dir: string; pids: Record<string, number> }
    leftovers.push(...Object.values(pids))
    await expectGroupsGone(Object.values(pids), 15_000)
    expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
  })
})

describe("the watchdog when rig's files are gone by the time it must reap", () => {
  /** A project with its own copy of rig (and the drivers), whose files a test can remove. */
  function copyOfRig(): Project {
    const p = makeProject('export default {}\n', { isolated: true })
    for (const pkg of ['pg', 'redis']) fs.symlinkSync(path.join(REPO, 'node_modules', pkg), path.join(p.dir, 'node_modules', pkg))
    return p
  }
  const OWNER_SCRIPT = `
    import { command, postgres, redis, startEnvironment } from 'testrig'
    try {
      const env = await startEnvironment({ services: { db: postgres(), cache: redis(), worker: command({ run: ['sh', '-c', 'sleep 600 & sleep 600; wait'] }) } })
      console.log(JSON.stringify({ dir: env.dir, pids: Object.fromEntries(Object.entries(env.services).map(([n, s]) => [n, s.pid])) }))
      setInterval(() => {}, 1 << 30)
    } catch (err) {
      console.log(JSON.stringify({ error: err.code, message: err.message }))
    }
  `

  /** Runs the owner script in `p` (rig's temp root inside it); resolves with its first line and the process. */
  async function ownerIn(p: Project): Promise<{ child: ChildProcess; line: { dir?: string; pids?: Record<string, number>; error?: string; message?: string } }> {
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', OWNER_SCRIPT], { cwd: p.dir, env: { ...process.env, RIG_TMP_DIR: path.join(p.dir, 'tmp') }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const line = await firstOutput(child, (out) => out.split('\n').find((l) => l.startsWith('{')), 'it was ready')
    return { child, line: JSON.parse(line) as never }
  }

  it('Node cannot run its script: the shell kills the recorded process groups itself and removes the dir', async () => {
    const p = copyOfRig()
    try {
      const { child, line } = await ownerIn(p)
      const pids = Object.values(line.pids ?? {})
      leftovers.push(...pids)
      expect(pids).toHaveLength(3)
      const dir = line.dir!
      const watchdog = watchdogOf(dir)
      expect(watchdog).toBeDefined()
      expect(fs.readFileSync(`/proc/${watchdog}/cmdline`, 'utf8').split('\0')).toContain(path.join(p.dir, 'testrig/src/env/watchdog-main.ts'))
      // An upgrade or a reinstall removed rig's files while the environment ran.
      fs.rmSync(path.join(p.dir, 'testrig/src'), { recursive: true })
      child.kill('SIGKILL')
      await expectGroupsGone(pids, 15_000)
      expect(await waitUntil(() => !fs.existsSync(dir))).toBe(true)
      expect(await waitUntil(() => !pidAlive(watchdog!))).toBe(true)
    } finally {
      await p.dispose()
    }
  })

  it('a script that cannot be read at the start is refused with what to do, nothing left', async () => {
    const p = copyOfRig()
    try {
      fs.rmSync(path.join(p.dir, 'testrig/src/env/watchdog-main.ts'))
      const { child, line } = await ownerIn(p)
      expect(line.error).toBe('RIG_WATCHDOG_UNAVAILABLE')
      expect(line.message).toMatch(/rig's watchdog script .*watchdog-main\.ts cannot be read \(ENOENT\)\. Reinstall testrig/)
      await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r(null)))
      expect(fs.readdirSync(path.join(p.dir, 'tmp/testrig/envs'))).toEqual([])
      expect(await waitUntil(() => projectLeftovers(p.dir).length === 0), projectLeftovers(p.dir).join('\n')).toBe(true)
    } finally {
      await p.dispose()
    }
  })
})
