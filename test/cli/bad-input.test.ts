// Bad input through the CLI: a clear message, a meaningful non-zero exit code, and nothing left
// running — including after the environment's supervisor was SIGKILLed.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { envDirs, leftovers, makeProject, type Project } from '../support/project.ts'
import { expectGroupsGone, pidAlive, waitUntil } from '../support/procs.ts'

const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0), `left in ${p.dir}: ${leftovers(p.dir).join('\n')}`).toBe(true)
  }
})

function project(services: string, extra = ''): Project {
  const p = makeProject(`import { defineConfig, postgres, redis, command, tcp } from 'testrig'\n${extra}\nexport default defineConfig({ services: { ${services} } })\n`)
  projects.push(p)
  return p
}

/** Asserts that a failed `rig up` left nothing: no process, no state, no env dir. */
async function nothingLeft(p: Project): Promise<void> {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(false)
  expect(await waitUntil(() => envDirs(p.dir).length === 0)).toBe(true)
}

describe('config errors exit 2', () => {
  it('a mistyped option names the key, the service and the fix', async () => {
    const p = project(`cache: redis(), db: postgres({ databse: 'app' } as any)`)
    for (const args of [['up'], ['up', '--detach'], ['run', '--', 'true']]) {
      const r = await p.rig(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toContain('service "db" (postgres): unknown option "databse" — did you mean "database"?')
    }
    await nothingLeft(p)
  })

  it('a dependency on an unknown service, and a cycle', async () => {
    const unknown = project(`api: command({ run: 'true', dependsOn: ['db'] })`)
    const r1 = await unknown.rig(['up', '--detach'])
    expect(r1.code).toBe(2)
    expect(r1.stderr).toContain('"api" depends on "db", which is not a service')
    const cycle = project(`a: command({ run: 'true', dependsOn: ['b'] }), b: command({ run: 'true', dependsOn: ['a'] })`)
    const r2 = await cycle.rig(['up'])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toMatch(/dependency cycle: (a → b → a|b → a → b)/)
    await nothingLeft(unknown)
    await nothingLeft(cycle)
  })

  it('a config that does not load', async () => {
    const p = project(`db: postgres()`, `import { nope } from './missing.ts'`)
    const r = await p.rig(['up'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('could not load')
  })
})

describe('start failures exit 1', () => {
  it('a missing binary says what to install', async () => {
    const p = project(`cache: redis(), db: postgres({ binDir: '/nonexistent', provider: 'process' })`)
    const r = await p.rig(['up', '--detach'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('service "db" needs `postgres`')
    expect(r.stderr).toContain('apt-get install postgresql')
    await nothingLeft(p)
  })

  it('a command that cannot start is not reported ready', async () => {
    const p = project(`cache: redis(), api: command({ run: ['/nonexistent/bin'], dependsOn: ['cache'] }), web: command({ run: 'exec sleep 600', cwd: 'missing-dir' })`)
    for (const args of [['up'], ['up', '--detach'], ['run', '--', 'true']]) {
      const r = await p.rig(args)
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1)
      expect(r.stderr).toMatch(/service "(api|web)" could not start: /)
      expect(r.stderr).not.toMatch(/✓ (api|web)/)
      await nothingLeft(p)
    }
    const r = await p.rig(['up'])
    expect(r.stderr).toMatch(/\/nonexistent\/bin does not exist \(ENOENT\)|missing-dir does not exist/)
  })

  it('a fixed port already in use', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1')
    await new Promise((r) => srv.once('listening', r))
    const port = (srv.address() as net.AddressInfo).port
    try {
      const p = project(`db: postgres(), cache: redis({ port: ${port} })`)
      const r = await p.rig(['up', '--detach'])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`service "cache" asks for port ${port}, which is already in use`)
      await nothingLeft(p)
    } finally {
      srv.close()
    }
  })

  it('a service that crashes during start shows its exit code and last log lines', async () => {
    const p = project(`cache: redis(), api: command({ run: 'echo "cannot open config.yml" >&2; exit 7', env: { PORT: '{port}' }, dependsOn: ['cache'] })`)
    const r = await p.rig(['up', '--detach'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('service "api" exited with code 7 while starting')
    expect(r.stderr).toContain('cannot open config.yml')
    await nothingLeft(p)
    // The logs of the failed start stay readable.
    expect((await p.rig(['logs', 'api'])).stdout).toContain('cannot open config.yml')
  })

  it('a readiness timeout names the probe and its last error', async () => {
    const p = project(`api: command({ run: 'echo still booting; exec sleep 600', env: { PORT: '{port}' }, ready: tcp(), readyTimeout: 800 })`)
    const r = await p.rig(['run', '--', 'true'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/service "api" was not ready after \d+ ms/)
    expect(r.stderr).toMatch(/probe: tcp service port \(\d+ attempts/)
    expect(r.stderr).toContain('ECONNREFUSED')
    expect(r.stderr).toContain('still booting')
    await nothingLeft(p)
  })
})

describe('nothing running exits 3', () => {
  it('down, status, logs and controls say so', async () => {
    const p = project(`cache: redis()`)
    const down = await p.rig(['down'])
    expect(down.code).toBe(3)
    expect(down.stderr).toContain('nothing to stop')
    const status = await p.rig(['status'])
    expect(status.code).toBe(3)
    expect(status.stderr).toContain('rig up --detach')
    const json = await p.rig(['status', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toEqual({ running: false, services: {} })
    expect((await p.rig(['logs'])).code).toBe(3)
    expect((await p.rig(['stop', 'cache'])).code).toBe(3)
  })
})

describe('a stale .rig/ from a killed run', () => {
  it('the watchdog reaps the services; status, up and down cope with the stale state', async () => {
    const p = project(`db: postgres(), cache: redis(), worker: command({ run: 'sleep 600', dependsOn: ['db'] })`)
    const stateFile = path.join(p.dir, '.rig/state.json')
    const killSupervisor = async (): Promise<{ envDir: string; pids: number[] }> => {
      const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { pid: number; envDir: string; services: Record<string, { pid: number }> }
      const pids = Object.values(state.services).map((s) => s.pid)
      expect(pids.every((x) => x > 0)).toBe(true)
      process.kill(state.pid, 'SIGKILL')
      expect(await waitUntil(() => !pidAlive(state.pid))).toBe(true)
      // The watchdog reaps every service within a few seconds.
      await expectGroupsGone(pids, 15_000)
      expect(await waitUntil(() => !fs.existsSync(state.envDir))).toBe(true)
      return { envDir: state.envDir, pids }
    }

    const up1 = await p.rig(['up', '--detach'])
    expect(up1.code, up1.stderr).toBe(0)
    await killSupervisor()
    expect(fs.existsSync(stateFile)).toBe(true)

    const status = await p.rig(['status'])
    expect(status.code).toBe(3)
    expect(status.stderr).toMatch(/left by a run that is gone \(pid \d+\): run `rig down`/)
    const control = await p.rig(['restart', 'cache'])
    expect(control.code).toBe(3)

    // `rig up` cleans the stale state and starts afresh.
    const up2 = await p.rig(['up', '--detach', '--json'])
    expect(up2.code, up2.stderr).toBe(0)
    expect(up2.stderr).toContain('cleaned up a stale environment left by a killed run')
    expect(JSON.parse(up2.stdout).services.cache.pid).toBeGreaterThan(0)
    await killSupervisor()

    // `rig down` cleans it up too, and says what happened.
    const down = await p.rig(['down'])
    expect(down.code).toBe(0)
    expect(down.stderr).toMatch(/owner \(pid \d+\) was already gone; cleaned up/)
    expect(fs.existsSync(stateFile)).toBe(false)
    expect((await p.rig(['status'])).code).toBe(3)
    expect((await p.rig(['down'])).code).toBe(3)
    await nothingLeft(p)
  })
})
