// Redeploys of the team's own processes: a new version of a command on the same address, and a
// rolling replacement of `instances` behind one stable address while a client keeps sending
// requests through it (none may fail); a new version that does not get ready leaves the old one.
import http from 'node:http'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { command, defineConfig, redis, type Environment } from '../../src/index.ts'
import { FIXTURES, leftovers, makeProject } from '../support/project.ts'
import { assertNothingLeft, recordMembers, rejection, start } from '../support/env.ts'
import { pidAlive, waitUntil } from '../support/procs.ts'

const SERVER = path.join(FIXTURES, 'echo-server.cjs')

let env: Environment | undefined
afterEach(async () => {
  await env?.stop()
  env = undefined
})
afterAll(async () => {
  await assertNothingLeft()
})

const record = recordMembers

/** GET `path` on a new connection (no keep-alive): the body, or throws. */
function get(port: number, p = '/env/VERSION'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

/** Sends requests one after the other until `stop()`; every answer and failure is kept. */
function clientLoop(port: number): { stop: () => Promise<{ answers: string[]; failures: string[] }> } {
  const answers: string[] = []
  const failures: string[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        answers.push(await get(port))
      } catch (err) {
        failures.push((err as Error).message)
      }
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { answers, failures }
    },
  }
}

const app = (extra: Record<string, unknown> = {}) =>
  command({ run: ['node', SERVER], env: { PORT: '{port}', VERSION: '1', READY_DELAY_MS: '200' }, ready: undefined, ...extra } as Parameters<typeof command>[0])

describe('restart({ run, env })', () => {
  it('starts a new version of a command on the same address', async () => {
    env = await start(defineConfig({ services: { api: app() } }))
    record(env)
    const api = env.get('api')
    const { port, url } = api
    expect(await get(port)).toBe('1')
    await api.restart(undefined, { env: { VERSION: '2' } })
    record(env)
    expect(api.url).toBe(url)
    expect(await get(port)).toBe('2')
    // A plain restart keeps the new version.
    await api.restart()
    record(env)
    expect(await get(port)).toBe('2')
  })

  it('keeps the previous version when the new one does not get ready', async () => {
    env = await start(defineConfig({ services: { api: app({ readyTimeout: 3000 }) } }))
    record(env)
    const api = env.get('api')
    const err = await rejection(api.restart(undefined, { run: 'node -e "process.exit(3)"' }))
    record(env)
    expect(err.code).toBe('RIG_RESTART_FAILED')
    expect(err.message).toMatch(/the new version of service "api" \(run: node -e "process.exit\(3\)"\) did not get ready: [\s\S]*the previous version runs again on the same address/)
    expect(api.status).toBe('ready')
    expect(await get(api.port)).toBe('1')
  })
})

describe('instances', () => {
  it('a rolling restart to a new version: every request through the stable address succeeds', async () => {
    env = await start(defineConfig({ services: { api: app({ instances: 3 }) } }))
    record(env)
    const api = env.get('api')
    const before = api.members?.state() ?? []
    expect(before.map((m) => m.name)).toEqual(['instance1', 'instance2', 'instance3'])
    expect(new Set(before.map((m) => m.port)).size).toBe(3)
    expect(before.every((m) => m.port !== api.port)).toBe(true)
    const client = clientLoop(api.port)
    await api.restart(undefined, { env: { VERSION: '2' } })
    record(env)
    // Requests after the restart, on the same loop.
    const until = performance.now()
    while (performance.now() - until < 300) await new Promise((r) => setTimeout(r, 20))
    const { answers, failures } = await client.stop()
    expect(failures).toEqual([])
    expect(answers).toContain('1')
    expect(answers.at(-1)).toBe('2')
    const after = api.members?.state() ?? []
    expect(after.map((m) => m.name)).toEqual(['instance1', 'instance2', 'instance3'])
    expect(after.every((m) => !before.some((b) => b.port === m.port))).toBe(true)
    for (const b of before) expect(b.pid !== null && pidAlive(b.pid)).toBe(false)
    // Every instance now answers the new version.
    const seen = await Promise.all(Array.from({ length: 6 }, () => get(api.port)))
    expect(new Set(seen)).toEqual(new Set(['2']))
  })

  it('a new version that does not get ready is stopped and every instance keeps the old one', async () => {
    env = await start(defineConfig({ services: { api: app({ instances: 2, readyTimeout: 3000 }) } }))
    record(env)
    const api = env.get('api')
    const before = api.members?.state().map((m) => m.pid)
    const err = await rejection(api.restart(undefined, { run: 'sleep 30' }))
    expect(err.code).toBe('RIG_RESTART_FAILED')
    expect(err.message).toMatch(/the new instance1 of service "api" \(run: sleep 30\) did not get ready: [\s\S]*it was stopped and instance1 kept; every instance keeps running the previous version/)
    expect(api.members?.state().map((m) => m.pid)).toEqual(before)
    expect(new Set(await Promise.all([get(api.port), get(api.port)]))).toEqual(new Set(['1']))
  })
})

describe('bad input', () => {
  it('a new run for a kind that takes none, an unknown instance, a bad change', async () => {
    env = await start(defineConfig({ services: { cache: redis(), api: app({ instances: 2 }) } }))
    record(env)
    const invalid = await rejection(env.get('cache').restart(undefined, { run: 'redis-server' }))
    expect(invalid.code).toBe('RIG_RESTART_INVALID')
    expect(invalid.message).toMatch(/service "cache" \(redis\) takes no new run or env: only command\(\) services do/)
    const unknown = await rejection(env.get('api').kill('instance9'))
    expect(unknown.code).toBe('RIG_UNKNOWN_MEMBER')
    expect(unknown.message).toMatch(/members: instance1 \(instance\), instance2 \(instance\)/)
    const badRun = await rejection(env.get('api').restart(undefined, { run: '' }))
    expect(badRun.message).toMatch(/restart of service "api": run must be/)
  })

  it('rejects instances out of range, on a one-shot task, and instances that cannot have a port', async () => {
    const zero = await rejection(start(defineConfig({ services: { api: app({ instances: 0 }) } })))
    expect(zero.message).toMatch(/instances.*a whole number from 1 to 16/)
    const oneShot = await rejection(start(defineConfig({ services: { api: app({ instances: 2, oneShot: true }) } })))
    expect(oneShot.message).toMatch(/a oneShot task has no instances/)
    const noPort = await rejection(start(defineConfig({ services: { api: command({ run: 'sleep 30', instances: 2 }) } })))
    expect(noPort.message).toMatch(/each of its instances must listen on a port of its own: use \{port\}/)
  })
})

describe('rig restart NAME --run/--env', () => {
  it('rolls a new version out against rig up, and keeps the old one when the new one fails', async () => {
    const project = makeProject(`import { defineConfig, command } from 'testrig'
export default defineConfig({ services: { api: command({ run: ['node', ${JSON.stringify(SERVER)}], env: { PORT: '{port}', VERSION: '1' }, instances: 2, readyTimeout: 3000 }) } })
`)
    try {
      const up = await project.rig(['up', '--detach', '--json'])
      expect(up.code, up.stderr).toBe(0)
      const port = Number((JSON.parse(up.stdout) as { services: { api: { port: number } } }).services.api.port)
      expect(await get(port)).toBe('1')
      const r = await project.rig(['restart', 'api', '--env', 'VERSION=2'])
      expect(r.code, r.stderr).toBe(0)
      expect(new Set(await Promise.all([get(port), get(port), get(port)]))).toEqual(new Set(['2']))
      const bad = await project.rig(['restart', 'api', '--run', 'sleep 30'])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toMatch(/the new instance1 of service "api" \(run: sleep 30\) did not get ready/)
      expect(await get(port)).toBe('2')
      const usage = await project.rig(['restart', 'api', '--env', 'NOVALUE'])
      expect(usage.code).toBe(2)
      expect(usage.stderr).toMatch(/--env takes KEY=VALUE, got "NOVALUE"/)
      const help = await project.rig(['restart', '--help'])
      expect(help.stdout).toMatch(/one instance at a time/)
    } finally {
      await project.dispose()
      expect(await waitUntil(() => leftovers(project.dir).length === 0)).toBe(true)
    }
  })
})
