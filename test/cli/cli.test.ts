// The `rig` CLI as a real subprocess, in a throw-away project: the contract scripts rely on.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, FIXTURES, NODE, envDirs, leftovers, makeProject, runRig, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const CONFIG = `
import { defineConfig, postgres, redis, command, http } from 'testrig'
export default defineConfig({
  services: {
    db: postgres({ database: 'app' }),
    cache: redis(),
    api: command({
      run: [${JSON.stringify(NODE)}, ${JSON.stringify(path.join(FIXTURES, 'echo-server.cjs'))}],
      dependsOn: ['db', 'cache'],
      env: ({ db, cache }) => ({ PORT: '{port}', DATABASE_URL: db.url, REDIS_URL: cache.url }),
      ready: http('/health'),
    }),
  },
})
`

interface ServiceJson {
  url: string
  host: string
  port: number
  pid: number | null
  readyMs: number | null
  status: string
  env: Record<string, string>
}

const json = (text: string) => JSON.parse(text) as { running: boolean; services: Record<string, ServiceJson> }

// One environment walked through its life: the tests run in this order even when the suite
// shuffles (they share the running environment, and `down` ends it).
describe('rig up --detach … rig down', { shuffle: false }, () => {
  let p: Project
  let up: ReturnType<typeof json>
  beforeAll(async () => {
    p = makeProject(CONFIG)
    const r = await p.rig(['up', '--detach', '--json'])
    expect(r.code, r.stderr).toBe(0)
    up = json(r.stdout)
  })
  afterAll(async () => {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  })

  it('up --detach --json prints every service with url, host, port, pid and readyMs', () => {
    expect(Object.keys(up.services).sort()).toEqual(['api', 'cache', 'db'])
    for (const [name, s] of Object.entries(up.services)) {
      expect(s, name).toMatchObject({ url: expect.any(String), host: '127.0.0.1', port: expect.any(Number), pid: expect.any(Number), readyMs: expect.any(Number) })
    }
    expect(up.services.db?.url).toBe(`postgres://postgres:${up.services.db?.env.RIG_DB_PASSWORD}@127.0.0.1:${up.services.db?.port}/app`)
    expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(true)
  })

  it('status --json shows the same services, ready', async () => {
    const r = await p.rig(['status', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const s = json(r.stdout)
    expect(s.running).toBe(true)
    for (const name of ['db', 'cache', 'api']) {
      expect(s.services[name]).toMatchObject({ url: up.services[name]?.url, port: up.services[name]?.port, pid: up.services[name]?.pid, status: 'ready' })
    }
  })

  it('status prints a table and the critical chain', async () => {
    const r = await p.rig(['status'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/SERVICE\s+KIND\s+STATUS\s+URL/)
    // Others may see a terminal: the table masks passwords.
    expect(r.stdout).toMatch(/^db\s+postgres\s+ready\s+postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/app/m)
    expect(r.stdout).toMatch(/^api\s+command\s+ready\s+http:\/\/127\.0\.0\.1:\d+/m)
    expect(r.stdout).toMatch(/critical chain: (db|cache) \d+ ms → api \+\d+ ms/)
  })

  it('logs NAME prints the service output with timestamps', async () => {
    const r = await p.rig(['logs', 'api'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout +listening on \d+$/m)
    const all = await p.rig(['logs', '-n', '1'])
    expect(all.stdout).toMatch(/^api +\| /m)
    expect(all.stdout).toMatch(/^cache +\| /m)
    const unknown = await p.rig(['logs', 'nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no logs for "nope"')
  })

  it('logs -f keeps printing new lines until Ctrl-C', async () => {
    const child = spawn(NODE, ['--no-warnings', BIN, 'logs', '-f', 'api'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp') }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(await waitUntil(() => /listening on/.test(stdout))).toBe(true)
    const before = stdout.match(/listening on/g)?.length ?? 0
    expect((await p.rig(['restart', 'api'])).code).toBe(0)
    // The restart's lines arrive while it follows: the old process's goodbye, the new one's start.
    expect(await waitUntil(() => (stdout.match(/listening on/g)?.length ?? 0) > before && /stdout +bye$/m.test(stdout))).toBe(true)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })

  it('run -- CMD uses the running environment, sets RIG_* and exits with its code', async () => {
    const script = `console.log(JSON.stringify({ db: process.env.RIG_DB_URL, cachePort: process.env.RIG_CACHE_PORT, apiHost: process.env.RIG_API_HOST, api: process.env.RIG_API_URL })); process.exit(5)`
    const r = await p.rig(['run', '--', NODE, '-e', script])
    expect(r.code, r.stderr).toBe(5)
    expect(JSON.parse(r.stdout)).toEqual({ db: up.services.db?.url, cachePort: String(up.services.cache?.port), apiHost: '127.0.0.1', api: up.services.api?.url })
    // The environment is still there.
    expect((await p.rig(['status'])).code).toBe(0)
  })

  it('run --fresh starts a separate environment and leaves the running one and its logs alone', async () => {
    const r = await p.rig(['run', '--fresh', '--', 'sh', '-c', 'echo "$RIG_CACHE_PORT"'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).not.toBe(String(up.services.cache?.port))
    expect(json((await p.rig(['status', '--json'])).stdout).services.cache?.pid).toBe(up.services.cache?.pid)
    const logs = await p.rig(['logs', 'api'])
    expect(logs.stdout).toMatch(/listening on/)
    expect(logs.stdout).toContain(`listening on ${up.services.api?.port}`)
  })

  it('pause, resume, stop, restart and kill a service by name', async () => {
    const pause = await p.rig(['pause', 'cache', '--json'])
    expect(pause.code, pause.stderr).toBe(0)
    expect(JSON.parse(pause.stdout)).toMatchObject({ status: 'paused' })
    expect(json((await p.rig(['status', '--json'])).stdout).services.cache?.status).toBe('paused')
    const resume = await p.rig(['resume', 'cache'])
    expect(resume.code).toBe(0)
    expect(resume.stderr).toMatch(/cache: ready/)

    const stop = await p.rig(['stop', 'api', '--json'])
    expect(stop.code, stop.stderr).toBe(0)
    expect(JSON.parse(stop.stdout)).toMatchObject({ status: 'stopped', pid: null })
    const restart = await p.rig(['restart', 'api', '--json'])
    expect(restart.code, restart.stderr).toBe(0)
    const restarted = JSON.parse(restart.stdout) as ServiceJson
    expect(restarted).toMatchObject({ status: 'ready', port: up.services.api?.port })
    expect(restarted.pid).not.toBe(up.services.api?.pid)
    expect(await (await fetch(`${restarted.url}/health`)).text()).toBe('ok')

    const kill = await p.rig(['kill', 'cache'])
    expect(kill.code).toBe(0)
    expect(json((await p.rig(['status', '--json'])).stdout).services.cache?.status).toBe('stopped')
    expect((await p.rig(['restart', 'cache'])).code).toBe(0)

    const unknown = await p.rig(['stop', 'nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no service "nope"')
    const noName = await p.rig(['pause'])
    expect(noName.code).toBe(2)
  })

  it('--config PATH works from any directory', async () => {
    // rig finds environments in its own temp dir: the same RIG_TMP_DIR as the project's.
    const r = await runRig(['status', '--json', '--config', path.join(p.dir, 'rig.config.ts')], os.tmpdir(), { env: { RIG_TMP_DIR: path.join(p.dir, 'tmp') } })
    expect(r.code, r.stderr).toBe(0)
    expect(json(r.stdout).services.db?.port).toBe(up.services.db?.port)
    // Another temp dir is told apart from an environment that is gone.
    const elsewhere = await runRig(['status', '--config', path.join(p.dir, 'rig.config.ts')], os.tmpdir())
    expect(elsewhere.code).toBe(3)
    expect(elsewhere.stderr).toContain('RIG_TMP_DIR')
    expect(elsewhere.stderr).not.toContain('gone')
  })

  it('a second rig up refuses while one runs', async () => {
    const r = await p.rig(['up', '--detach'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('already running')
  })

  it('down stops everything, removes the state and leaves no process', async () => {
    const r = await p.rig(['down'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/stopped 3 services/)
    expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(false)
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
    expect(envDirs(p.dir)).toEqual([])
    // Logs survive `rig down`.
    expect((await p.rig(['logs', 'api'])).stdout).toMatch(/listening on/)
    const again = await p.rig(['down'])
    expect(again.code).toBe(3)
  })
})

describe('rig run without rig up', () => {
  it('starts, runs CMD with RIG_* vars, stops, and exits with its code', async () => {
    const p = makeProject(CONFIG)
    try {
      const r = await p.rig(['run', '--', 'sh', '-c', 'test -n "$RIG_DB_URL" && test -n "$RIG_API_PORT" && echo "$RIG_CACHE_URL" && exit 42'])
      expect(r.code, r.stderr).toBe(42)
      expect(r.stdout).toMatch(/^redis:\/\/default:[\w-]{24}@127\.0\.0\.1:\d+$/m)
      // The watchdog exits on its own right after rig: poll rather than look once.
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
      expect(envDirs(p.dir)).toEqual([])
      expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(false)
      const ok = await p.rig(['run', '--', 'true'])
      expect(ok.code).toBe(0)
      const missing = await p.rig(['run', '--', '/nonexistent/cmd'])
      expect(missing.code).toBe(127)
      expect(missing.stderr).toContain('could not run /nonexistent/cmd')
      // Killed by a signal: 128 + its number, like a shell.
      const usr1 = await p.rig(['run', '--', 'sh', '-c', 'kill -USR1 $$'])
      expect(usr1.code, usr1.stderr).toBe(128 + os.constants.signals.SIGUSR1)
      const nothing = await p.rig(['run'])
      expect(nothing.code).toBe(2)
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    } finally {
      await p.dispose()
    }
  })
})

describe('rig up in the foreground', () => {
  it('Ctrl-C (SIGINT) stops every service', async () => {
    const p = makeProject(CONFIG)
    try {
      const child = spawn(NODE, ['--no-warnings', BIN, 'up'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp') }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      const exited = new Promise<number | null>((r) => child.on('close', r))
      expect(await waitUntil(() => stderr.includes('press Ctrl-C to stop'), 60_000), stderr).toBe(true)
      expect(stdout).toMatch(/^api\s+command\s+ready/m)
      const status = await p.rig(['status', '--json'])
      expect(status.code).toBe(0)
      child.kill('SIGINT')
      // Interrupted: 130, as documented (it used to exit 0).
      expect(await exited).toBe(130)
      expect(stderr).toMatch(/stopping \(SIGINT\)/)
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
      expect(envDirs(p.dir)).toEqual([])
      expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(false)
    } finally {
      await p.dispose()
    }
  })
})

describe('rig down while rig run is running', () => {
  it('stops the command and the environment', async () => {
    const p = makeProject(`import { defineConfig, redis } from 'testrig'\nexport default defineConfig({ services: { cache: redis() } })\n`)
    try {
      const running = p.rig(['run', '--', 'sleep', '600'])
      expect(await waitUntil(() => fs.existsSync(path.join(p.dir, '.rig/state.json')) && leftovers(p.dir).some((l) => l.includes('redis-server')), 30_000)).toBe(true)
      const down = await p.rig(['down'])
      expect(down.code, down.stderr).toBe(0)
      const r = await running
      expect(r.code).toBe(128 + os.constants.signals.SIGTERM)
      expect(r.stderr).toContain('rig down')
      expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
      expect(envDirs(p.dir)).toEqual([])
    } finally {
      await p.dispose()
    }
  })
})

describe('rig doctor and usage', () => {
  it('doctor lists the binaries found', async () => {
    const p = makeProject(CONFIG)
    try {
      const r = await p.rig(['doctor'])
      expect(r.code, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toMatch(/✓\s+postgres\s+PostgreSQL \d+/)
      expect(r.stdout).toMatch(/✓\s+redis-server/)
      expect(r.stdout).toMatch(/✓\s+certutil\s+\/usr\/bin\/certutil \(Chromium in testrig\/playwright trusts rig's CA with it\)/)
      const j = await p.rig(['doctor', '--json'])
      expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, checks: expect.arrayContaining([expect.objectContaining({ what: 'postgres', ok: true })]) })
    } finally {
      await p.dispose()
    }
  })

  it('--help, unknown commands and flags', async () => {
    const cwd = os.tmpdir()
    const help = await runRig(['--help'], cwd)
    expect(help.code).toBe(0)
    for (const c of ['up', 'down', 'status', 'logs', 'run', 'doctor', 'pause']) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'))
    const upHelp = await runRig(['up', '--help'], cwd)
    expect(upHelp.code).toBe(0)
    expect(upHelp.stdout).toContain('--detach')
    expect(upHelp.stdout).not.toContain('--supervised')
    const none = await runRig([], cwd)
    expect(none.code).toBe(2)
    const unknown = await runRig(['upp'], cwd)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown command "upp"')
    const flag = await runRig(['status', '--bogus'], cwd)
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('--bogus')
    const noConfig = await runRig(['up', '--config', '/nonexistent/rig.config.ts'], cwd)
    expect(noConfig.code).toBe(2)
    expect(noConfig.stderr).toContain('does not exist')
  })
})
