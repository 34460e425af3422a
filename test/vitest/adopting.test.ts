// The plugin on a suite shaped like real third-party ones, in throw-away projects run by a
// real `vitest run`: a setup file whose hooks give each test its own schema and client and drop
// them after it, many small tests, connections built from host/port/database.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, NODE, REPO, type Project } from '../support/project.ts'
import { pluginProject, VITEST, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = `import { defineConfig, postgres } from 'testrig'
export default defineConfig({ services: { db: postgres() } })
`

/** The suite's own setup file: a schema and a client per test, dropped and closed in afterEach (as job-queue suites do). */
const setupFile = `import { afterEach, beforeEach } from 'vitest'
import pg from 'pg'
export const ctx = globalThis.__suite ??= {}
ctx.connect = async () => {
  const c = new pg.Client({ host: process.env.RIG_DB_HOST, port: Number(process.env.RIG_DB_PORT), database: process.env.RIG_DB_DATABASE, user: process.env.RIG_DB_USER, password: process.env.RIG_DB_PASSWORD })
  await c.connect()
  return c
}
/** One statement on a connection of its own. */
ctx.sql = async (q) => {
  const c = await ctx.connect()
  try { return await c.query(q) } finally { await c.end() }
}
beforeEach(async () => {
  ctx.schema = 'test_' + Math.random().toString(36).slice(2, 10)
  ctx.client = await ctx.connect()
  await ctx.client.query('create schema ' + ctx.schema + '; set search_path to ' + ctx.schema)
  await ctx.client.query('create table job (id serial primary key, name text not null, state text not null default \\'created\\')')
})
afterEach(async () => {
  await ctx.client.query('drop schema ' + ctx.schema + ' cascade')
  await ctx.client.end()
})
`

/** `n` small tests that write jobs into the test's schema. */
const jobTests = (n: number, extra = ''): string => `import { expect, onTestFinished, test } from 'vitest'
const ctx = globalThis.__suite
${Array.from({ length: n }, (_, i) => `test('job ${i}', async () => {
  await ctx.client.query("insert into job (name) values ('a'), ('b')")
  expect((await ctx.client.query('select count(*)::int as n from job')).rows[0].n).toBe(2)
})`).join('\n')}
${extra}
`

/** A project whose vitest config has the suite's setup file; `test` adds to Vitest's test options. */
function suiteProject(options: { plugin?: string; test?: string; configFile?: string; rigConfig?: string } = {}): Project {
  const p = pluginProject(options.rigConfig ?? config, options.plugin ?? '{ order: { shuffle: false } }')
  fs.rmSync(path.join(p.dir, 'vitest.config.ts'))
  p.write(
    options.configFile ?? 'vitest.config.ts',
    `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig(${options.plugin ?? '{ order: { shuffle: false } }'})], test: { include: ['test/**/*.test.ts'], setupFiles: ['test/setup.ts'], ${options.test ?? ''} } })\n`,
  )
  p.write('test/setup.ts', setupFile)
  return p
}

interface ReportTest {
  name: string
  file: string
  status: string
  errors: string[]
  leaks: unknown[]
  logErrors: { service: string; line: string; expected: boolean }[]
  repro?: string
}
const report = (p: Project): { tests: ReportTest[]; repro: string } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))
const failures = (tests: ReportTest[]): string[] => tests.filter((t) => t.status !== 'passed').map((t) => `${t.name}: ${t.errors.join('\n')}`)

describe('vitest plugin on a suite that cleans up in its own hooks', () => {
  // 'stack' is Vitest's default: afterEach hooks run in reverse order of registration.
  for (const hooks of ['stack', 'list', 'parallel'] as const) {
    test(`rig's check runs after the suite's afterEach, onTestFinished and aroundEach cleanup (sequence.hooks '${hooks}'): only the real leak is blamed`, async () => {
      project = suiteProject({ test: hooks === 'stack' ? '' : `sequence: { hooks: '${hooks}' }` })
      project.write('test/a.test.ts', jobTests(6))
      // A file-level afterEach, an onTestFinished cleanup in the test body and an aroundEach, as suites also do.
      project.write(
        'test/b.test.ts',
        jobTests(
          3,
          `import { afterEach, aroundEach } from 'vitest'
const extra = []
afterEach(async () => { for (const t of extra.splice(0)) await ctx.sql('drop table public.' + t) })
aroundEach(async (runTest) => {
  await ctx.sql('create table public.around (x int)')
  await runTest()
  await ctx.sql('drop table public.around')
})
test('file-level afterEach cleanup', async () => { extra.push('tmp_' + ctx.schema); await ctx.client.query('create table public.tmp_' + ctx.schema + ' (x int)') })
test('onTestFinished cleanup', async () => {
  const table = 'public.fin_' + ctx.schema
  await ctx.client.query('create table ' + table + ' (x int)')
  onTestFinished(async () => { await ctx.sql('drop table ' + table) })
})
test('leaks a row', async () => { await ctx.client.query('create table if not exists public.leftover (x int); insert into public.leftover values (1)') })`,
        ),
      )
      const r = await vitest(project)
      const tests = report(project).tests
      expect(tests).toHaveLength(12)
      expect(failures(tests)).toEqual([expect.stringMatching(/^leaks a row: Data left behind by /)])
      expect(tests.filter((t) => t.leaks.length > 0).map((t) => `${t.name}: ${JSON.stringify(t.leaks)}`)).toEqual([expect.stringMatching(/^leaks a row: .*public\.leftover/)])
      expect(r.code).toBe(1)
      expect(leftovers(project.dir)).toEqual([])
      expect(envDirs(project.dir)).toEqual([])
    })
  }
})

describe('vitest plugin: per-worker copies seen through every variable', () => {
  test("isolation 'database': a suite that connects with host, port and database (and a Redis db index) gets its worker's copies", async () => {
    project = suiteProject({
      plugin: "{ isolation: 'database', order: { shuffle: false } }",
      rigConfig: `import { defineConfig, postgres, redis, command } from 'testrig'
export default defineConfig({ services: {
  db: postgres(),
  cache: redis(),
  migrate: command({ run: [process.execPath, '-e', "const pg = require('pg'); const c = new pg.Client({ connectionString: process.env.DATABASE_URL }); c.connect().then(() => c.query('create table public.seen (file text)')).then(() => c.end())"], dependsOn: ['db'], oneShot: true, env: { DATABASE_URL: '{db.url}' } }),
} })
`,
    })
    fs.symlinkSync(path.join(REPO, 'node_modules', 'redis'), path.join(project.dir, 'node_modules', 'redis'))
    // Each file writes a row without cleaning up (allowed), then checks the next test starts
    // from the copy's clean state, through connections built from the parts.
    const file = (n: number): string => `import { expect, test } from 'vitest'
import { createClient } from 'redis'
import { rig, services } from 'testrig/vitest'
const ctx = globalThis.__suite
const env = process.env
test('every variable names this worker\\'s copy', async () => {
  const url = new URL(env.RIG_DB_URL)
  expect(env.RIG_DB_DATABASE).toMatch(/^rig_w_/)
  expect(env.RIG_DB_DATABASE).toBe(decodeURIComponent(url.pathname.slice(1)))
  expect([env.RIG_DB_HOST, env.RIG_DB_PORT]).toEqual([url.hostname, url.port])
  expect((await ctx.client.query('select current_database() as d')).rows[0].d).toBe(env.RIG_DB_DATABASE)
  expect(services().db.env.RIG_DB_DATABASE).toBe(env.RIG_DB_DATABASE)
  expect(env.RIG_CACHE_DB).not.toBe('0')
  expect(env.RIG_CACHE_DB).toBe(new URL(env.RIG_CACHE_URL).pathname.slice(1))
})
test('writes through host/port/database', async () => {
  rig.allowLeak()
  await ctx.client.query("insert into public.seen values ('${n}')")
  const r = createClient({ socket: { host: env.RIG_CACHE_HOST, port: Number(env.RIG_CACHE_PORT) }, password: env.RIG_CACHE_PASSWORD, database: Number(env.RIG_CACHE_DB) })
  await r.connect()
  await r.set('seen:${n}', '1')
  await r.quit()
  const byUrl = createClient({ url: env.RIG_CACHE_URL })
  await byUrl.connect()
  expect(await byUrl.get('seen:${n}')).toBe('1')
  await byUrl.quit()
})
test('starts from its copy again', async () => {
  expect((await ctx.client.query('select count(*)::int as n from public.seen')).rows[0].n).toBe(0)
  const byUrl = createClient({ url: env.RIG_CACHE_URL })
  await byUrl.connect()
  expect(await byUrl.keys('seen:*')).toEqual([])
  await byUrl.quit()
})
`
    for (const n of [1, 2, 3, 4]) project.write(`test/f${n}.test.ts`, file(n))
    const r = await vitest(project)
    const tests = report(project).tests
    expect(failures(tests)).toEqual([])
    expect(tests).toHaveLength(12)
    expect(r.code).toBe(0)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })
})

describe('vitest plugin: replay commands', () => {
  test('keep the --config the run was started with, and replay with the plugin', async () => {
    project = suiteProject({ configFile: 'vitest.rig.config.ts' })
    project.write('test/a.test.ts', jobTests(2, "test('fails', () => { expect(1).toBe(2) })"))
    const r = await vitest(project, { args: ['--config', 'vitest.rig.config.ts'] })
    expect(r.code).toBe(1)
    const rep = report(project)
    const failed = rep.tests.find((t) => t.name === 'fails')
    expect(failed?.repro).toMatch(/^RIG_SEED=\d+ npx vitest run --config vitest\.rig\.config\.ts test\/a\.test\.ts -t '\^fails\$'$/)
    expect(rep.repro).toMatch(/ npx vitest run --config vitest\.rig\.config\.ts test\/a\.test\.ts$/)
    expect(r.output).toMatch(/replay this order: RIG_SEED=\d+ npx vitest run --config vitest\.rig\.config\.ts\)/)
    // The printed command, run as printed: the plugin is there (its seed line), one test runs.
    fs.rmSync(path.join(project.dir, 'rig-report'), { recursive: true })
    let out = ''
    try {
      execFileSync('sh', ['-c', (failed?.repro ?? '').replace('npx vitest', `${NODE} ${VITEST}`)], { cwd: project.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(project.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, encoding: 'utf8', stdio: 'pipe' })
    } catch (err) {
      out = String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr)
    }
    expect(out).toMatch(/rig: seed \d+/)
    expect(report(project).tests.map((t) => `${t.name} ${t.status}`).sort()).toEqual(['fails failed', 'job 0 skipped', 'job 1 skipped'])
    expect(leftovers(project.dir)).toEqual([])
  })
})
