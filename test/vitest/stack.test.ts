// `isolation: 'stack'`: a throw-away project whose app (a small HTTP command service over
// PostgreSQL) is copied per Vitest worker, run by a real `vitest run` with two workers. The two
// files meet at a barrier, so they provably run at the same time; one leaks a row and logs an
// error through its worker's copy of the app while the other file's test is checked: the leak
// and the line belong to the test that caused them alone.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { expectPidsGone } from '../support/procs.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = (appOptions = '') => `import { defineConfig, postgres, command, http } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    migrate: command({ run: [process.execPath, 'migrate.mjs'], dependsOn: ['db'], oneShot: true, env: { DATABASE_URL: '{db.url}' } }),
    app: command({
      run: [process.execPath, 'app.mjs'],
      dependsOn: { db: 'ready', migrate: 'completed' },
      env: ({ db }) => ({ DATABASE_URL: db.url, PORT: '{port}' }),
      ready: http('/health'),${appOptions}
    }),
  },
})
`

const migrate = `import pg from 'pg'
const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
await c.connect()
await c.query('create table if not exists items (id serial primary key, name text not null)')
await c.end()
`

// GET /whoami: the process and the database it talks to; POST /items?name=: a row, and an
// ERROR line on stderr for a name starting with "bad".
const app = `import http from 'node:http'
import pg from 'pg'
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x')
  try {
    if (url.pathname === '/health') return res.end('ok')
    if (url.pathname === '/whoami') {
      const { rows } = await pool.query('select current_database() as db')
      return res.end(JSON.stringify({ pid: process.pid, db: rows[0].db }))
    }
    if (url.pathname === '/items' && req.method === 'POST') {
      const name = url.searchParams.get('name')
      if (name.startsWith('bad')) console.error('ERROR item with a bad name: ' + name)
      await pool.query('insert into items (name) values ($1)', [name])
      return res.end('{}')
    }
    res.statusCode = 404
    res.end()
  } catch (err) {
    res.statusCode = 500
    res.end(String(err))
  }
}).listen(Number(process.env.PORT), '127.0.0.1')
`

// Each file waits for the other at a barrier (a file per side in a directory both see).
const helpers = `import fs from 'node:fs'
import path from 'node:path'
import { services } from 'testrig/vitest'
const dir = process.env.STACK_TEST_DIR
export function mark(name, data = {}) { fs.writeFileSync(path.join(dir, name), JSON.stringify(data)) }
export async function waitFor(name) {
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (fs.existsSync(path.join(dir, name))) return
  }
  throw new Error('the other file never reached ' + name + ': the files did not run in parallel')
}
export async function call(method, p) {
  const res = await fetch(new URL(p, services().app.url), { method })
  if (!res.ok) throw new Error(method + ' ' + p + ' answered ' + res.status + ': ' + (await res.text()))
  return res.json()
}
export async function whoami(file) {
  const me = await call('GET', '/whoami')
  mark('whoami-' + file, { ...me, worker: Number(process.env.VITEST_POOL_ID), url: services().app.url, envUrl: process.env.RIG_APP_URL, clone: new URL(services().db.url).pathname.slice(1) })
}
`

// a: leaks a row and an error line through its copy of the app, and ends only after b's test
// that ran meanwhile was checked (b's next test began).
const fileA = `import { test } from 'vitest'
import { call, mark, waitFor, whoami } from './helpers.ts'
test('a: knows its copy', async () => { await whoami('a') })
test('a: leaks through the app', async () => {
  await call('POST', '/items?name=bad-a')
  mark('a-wrote')
  await waitFor('b-checked')
})
`

const fileB = `import { test } from 'vitest'
import { call, mark, waitFor, whoami } from './helpers.ts'
test('b: knows its copy', async () => { await whoami('b') })
test('b: runs while a has leaked', async () => { await waitFor('a-wrote') })
test('b: cleans up after itself', async () => {
  mark('b-checked')
  await call('POST', '/items?name=fine-b')
  const { default: pg } = await import('pg')
  const { services } = await import('testrig/vitest')
  const c = new pg.Client({ connectionString: services().db.url })
  await c.connect()
  await c.query("delete from items where name = 'fine-b'")
  await c.end()
})
`

interface ReportTest {
  name: string
  status: string
  errors: string[]
  worker?: number
  leaks: { store: string; items: { table?: string; diff?: string }[] }[]
  logErrors: { service: string; line: string; expected: boolean }[]
}
interface Report {
  tests: ReportTest[]
  environment: { services: { service: string; worker?: number; url: string; logFile?: string }[] }
}

describe("vitest plugin: isolation 'stack'", () => {
  // A loaded machine: an inner run with an environment, two clones and two copies of the app.
  test('each worker calls its own copy of the app, wired to its own database clone; leaks and log lines go to the test that caused them; nothing is left running', { timeout: 240_000 }, async () => {
    project = pluginProject(config(), `{ order: { shuffle: false }, isolation: 'stack' }`)
    project.write('migrate.mjs', migrate)
    project.write('app.mjs', app)
    project.write('test/helpers.ts', helpers)
    project.write('test/a.test.ts', fileA)
    project.write('test/b.test.ts', fileB)
    const shared = path.join(project.dir, 'shared')
    fs.mkdirSync(shared)
    const r = await vitest(project, { args: ['--maxWorkers=2'], env: { STACK_TEST_DIR: shared } })
    expect(r.output).toMatch(/rig: 2 worker copies of app ready in \d+ ms/)
    const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as Report
    const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
    expect(Object.fromEntries(report.tests.map((t) => [t.name, t.status])), r.output).toEqual({
      'a: knows its copy': 'passed',
      'a: leaks through the app': 'failed',
      'b: knows its copy': 'passed',
      'b: runs while a has leaked': 'passed',
      'b: cleans up after itself': 'passed',
    })

    // Two workers, two copies of the app (pids, ports), each on its worker's clone.
    const seen = ['a', 'b'].map((f) => JSON.parse(fs.readFileSync(path.join(shared, `whoami-${f}`), 'utf8')) as { pid: number; db: string; worker: number; url: string; envUrl: string; clone: string })
    expect(new Set(seen.map((s) => s.worker)).size).toBe(2)
    expect(new Set(seen.map((s) => s.pid)).size).toBe(2)
    expect(new Set(seen.map((s) => s.url)).size).toBe(2)
    for (const s of seen) {
      expect(s.db).toBe(s.clone)
      expect(s.db).not.toBe('postgres')
      expect(s.envUrl).toBe(s.url)
    }

    // The leak and the line are a's alone, though b's test was checked while they were there.
    const leaked = byName['a: leaks through the app']!
    expect(leaked.leaks.map((l) => l.store)).toEqual(['postgres db'])
    expect(JSON.stringify(leaked.leaks)).toContain('items')
    expect(leaked.logErrors).toEqual([{ service: 'app', line: expect.stringContaining('ERROR item with a bad name: bad-a'), expected: false }])
    for (const name of ['b: knows its copy', 'b: runs while a has leaked', 'b: cleans up after itself']) {
      expect(byName[name]!.leaks, name).toEqual([])
      expect(byName[name]!.logErrors, name).toEqual([])
    }

    // The report shows each copy with its own log.
    const copies = report.environment.services.filter((s) => s.worker !== undefined)
    expect(copies.map((c) => [c.service, c.worker]).sort()).toEqual([
      ['app', 1],
      ['app', 2],
    ])
    for (const c of copies) expect(c.logFile).toBe(`.rig/logs/worker-${c.worker}/app.log`)
    expect(fs.readFileSync(path.join(project.dir, `.rig/logs/worker-${leaked.worker}/app.log`), 'utf8')).toContain('bad-a')

    // Nothing left: the copies' processes, their environments' dirs.
    await expectPidsGone(seen.map((s) => s.pid))
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })

  test('a command on a fixed port cannot be copied per worker: the run says so before anything starts, and what to do', async () => {
    project = pluginProject(config(`\n      port: 4999,`), `{ isolation: 'stack' }`)
    project.write('test/a.test.ts', `import { test } from 'vitest'\ntest('x', () => {})\n`)
    const r = await vitest(project)
    expect(r.code).not.toBe(0)
    expect(r.output).toContain(`service "app" listens on a fixed port (4999): under isolation 'stack' every worker runs its own copy of it`)
    expect(r.output).toContain('Remove `port` and pass {port} to the command')
    expect(leftovers(project.dir)).toEqual([])
  })
})
