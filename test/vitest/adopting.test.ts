// The plugin on a suite shaped like real third-party ones, in throw-away projects run by a
// real `vitest run`: a setup file whose hooks give each test its own schema and client and drop
// them after it, many small tests, connections built from host/port/database.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

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
function suiteProject(options: { plugin?: string; test?: string; configFile?: string } = {}): Project {
  const p = pluginProject(config, options.plugin ?? '{ order: { shuffle: false } }')
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
      expect(failures(tests)).toEqual([expect.stringMatching(/^leaks a row: Data left behind by "leaks a row".*\n[\s\S]*public\.leftover/)])
      expect(tests.filter((t) => t.leaks.length > 0).map((t) => t.name)).toEqual(['leaks a row'])
      expect(r.code).toBe(1)
      expect(leftovers(project.dir)).toEqual([])
      expect(envDirs(project.dir)).toEqual([])
    })
  }
})
