// `rig check` and `rig serve` as real subprocesses over temp projects.
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { writeState, selfIdentity, removeState } from '../../src/env/state.ts'
import { defineConfig, redis, startEnvironment, type Environment } from '../../src/index.ts'
import { cleanProjects, rig, serveProcess, startHttp, tempProject } from './_support.ts'

let api: Awaited<ReturnType<typeof startHttp>>
beforeAll(async () => {
  api = await startHttp((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('ok'))
})
afterAll(async () => {
  await api.close()
  cleanProjects()
})

const GOOD = `import { check, env, expectHttp } from '$CHECKS'
check('api', { tags: ['smoke'] }, () => expectHttp(env.API_URL + '/health', { status: 200 }))
check('math', { tags: ['diagnostic'] }, () => 1 + 1 === 2)
`

describe('rig check', () => {
  test('passing checks exit 0, in every format', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD })
    const env = { API_URL: api.url }
    const pretty = await rig(['check'], dir, env)
    expect(pretty.code).toBe(0)
    expect(pretty.stdout).toContain('2 checks: 2 passed')
    const json = await rig(['check', '--format', 'json'], dir, env)
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'pass', counts: { pass: 2 } })
    expect((await rig(['check', '-f', 'junit'], dir, env)).stdout).toContain('<testsuites name="rig check" tests="2" failures="0"')
    expect((await rig(['check', '--format', 'tap', '--tag', 'smoke'], dir, env)).stdout).toBe('TAP version 14\n1..1\nok 1 - api\n')
  })

  test('a failing check exits 1 with its reason', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD })
    const res = await rig(['check', '--json'], dir, { API_URL: `http://127.0.0.1:${await closedPort()}` })
    expect(res.code).toBe(1)
    expect(JSON.parse(res.stdout).results[0]).toMatchObject({ name: 'api', status: 'fail', reason: 'connect' })
  })

  test('a file that throws at import is a failing check; the other files still run', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD, 'checks/broken.check.ts': `import '$CHECKS'\nthrow new Error('DATABASE_URL missing at import')\n` })
    const res = await rig(['check', '--json'], dir, { API_URL: api.url })
    expect(res.code).toBe(1)
    const results = JSON.parse(res.stdout).results
    expect(results.map((r: { name: string; status: string }) => [r.name, r.status])).toEqual([
      ['api', 'pass'],
      ['math', 'pass'],
      ['import checks/broken.check.ts', 'fail'],
    ])
    expect(results[2].detail).toContain('DATABASE_URL missing at import')
  })

  test('a check that never resolves is timed out, and the process still exits', async () => {
    const dir = tempProject({ 'checks/a.check.ts': `import { check } from '$CHECKS'\ncheck('stuck', { timeout: 200 }, () => new Promise(() => {}))\ncheck('fine', () => {})\n` })
    const res = await rig(['check', '--json'], dir)
    expect(res.code).toBe(1)
    expect(JSON.parse(res.stdout).results[0]).toMatchObject({ name: 'stuck', status: 'fail', reason: 'timeout' })
  })

  test('duplicate check names exit 2 and name both files', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD, 'checks/b.check.ts': `import { check } from '$CHECKS'\ncheck('api', () => {})\n` })
    const res = await rig(['check'], dir)
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('two checks are named "api" in checks/a.check.ts and in checks/b.check.ts')
  })

  test('unknown tag, unknown target, bad format or concurrency exit 2', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD, 'rig.checks.ts': `import { defineChecks } from '$CHECKS'\nexport default defineChecks({ targets: { staging: { API_URL: 'http://x' } } })\n` })
    const tag = await rig(['check', '--tag', 'smok'], dir)
    expect([tag.code, tag.stderr]).toEqual([2, expect.stringContaining('no check has the tag "smok" (did you mean "smoke"?)')])
    const target = await rig(['check', '--target', 'prod'], dir)
    expect([target.code, target.stderr]).toEqual([2, expect.stringContaining('unknown target "prod": ')])
    expect(target.stderr).toContain('defines staging')
    expect((await rig(['check', '--format', 'xml'], dir)).code).toBe(2)
    expect((await rig(['check', '--concurrency', '0'], dir)).code).toBe(2)
    expect((await rig(['check', '--nope'], dir)).code).toBe(2)
  })

  test('no check files is a usage error that says what to create', async () => {
    const res = await rig(['check'], tempProject({}))
    expect([res.code, res.stderr]).toEqual([2, expect.stringContaining('no check files match checks/**/*.check.ts')])
  })

  test('--target gives the checks its values; --checks picks other files', async () => {
    const dir = tempProject({
      'health/api.check.ts': GOOD,
      'rig.checks.ts': `import { defineChecks } from '$CHECKS'\nexport default defineChecks({ include: ['health/*.check.ts'], targets: { local: { API_URL: '${api.url}' } } })\n`,
    })
    const res = await rig(['check', '--target', 'local', '--json'], dir)
    expect(res.code).toBe(0)
    expect(JSON.parse(res.stdout)).toMatchObject({ target: 'local', status: 'pass' })
    const other = tempProject({ 'x/y.check.ts': GOOD })
    expect((await rig(['check', '--checks', 'x/*.check.ts', '--tag', 'diagnostic'], other)).code).toBe(0)
  })
})

describe('rig check against the environment rig up runs', () => {
  let env: Environment
  beforeAll(async () => {
    env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
  }, 120_000)
  afterAll(() => env?.stop())

  test('without --target the checks get the RIG_* variables of the running environment', async () => {
    const dir = tempProject({
      'rig.config.ts': 'export default {}\n',
      'checks/cache.check.ts': `import { check, env, expectRedis } from '$CHECKS'\ncheck('cache', () => expectRedis(env.RIG_CACHE_URL))\n`,
    })
    // What `rig up` publishes, pointing at real servers; the owner is this (live) test process.
    const cache = env.services.cache
    if (!cache) throw new Error('no cache')
    writeState(dir, { version: 1, ...selfIdentity(), detached: true, configFile: path.join(dir, 'rig.config.ts'), envId: env.id, envDir: env.dir, controlSocket: path.join(env.dir, 'none.sock'), startedAt: new Date().toISOString(), startMs: 0, timeline: {}, services: { cache: { kind: 'redis', provider: 'process', status: 'ready', url: cache.url, host: cache.host, port: cache.port, pid: null, readyMs: 1, env: cache.env, logFile: '' } } })
    try {
      const res = await rig(['check'], dir)
      expect(res.stderr).toContain('using the environment `rig up` runs here')
      expect([res.code, res.stdout]).toEqual([0, expect.stringContaining('✓ cache')])
    } finally {
      removeState(dir)
    }
  })
})

describe('rig serve', () => {
  test('serves /health until SIGTERM, then exits 0', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD })
    const serve = await serveProcess(['--port', '0'], dir, { API_URL: api.url, RIG_CHECK_TOKEN: 'tok' })
    try {
      const bare = await fetch(`${serve.url}/health`)
      expect([bare.status, await bare.json()]).toEqual([200, { status: 'pass' }])
      const detailed = (await (await fetch(`${serve.url}/health`, { headers: { authorization: 'Bearer tok' } })).json()) as any
      expect(Object.keys(detailed.checks)).toEqual(['api', 'math'])
    } finally {
      expect(await serve.stop('SIGTERM')).toBe(0)
    }
  })

  test('a port already in use exits 2 with a clear message', async () => {
    const blocker = net.createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const res = await rig(['serve', '--port', String(port)], tempProject({ 'checks/a.check.ts': GOOD }))
      expect(res.code).toBe(2)
      expect(res.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    } finally {
      blocker.close()
    }
  })

  test('bad flags exit 2', async () => {
    const dir = tempProject({ 'checks/a.check.ts': GOOD })
    expect((await rig(['serve', '--port', 'http'], dir)).code).toBe(2)
    expect((await rig(['serve', '--deadline', '-5'], dir)).code).toBe(2)
  })
})

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}
