// Log lines a suite triggers on purpose, allowed by pattern per service and per test file in the
// plugin's options, and the end-of-run summary of the lines that were not, in a throw-away
// project run by a real `vitest run`.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { allowSnippet, groupLines, linePattern } from '../../src/runner/log-patterns.ts'
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

const helpers = `import pg from 'pg'
export async function sql(q) {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await c.connect()
  try { return await c.query(q) } catch (err) { return err } finally { await c.end().catch(() => {}) }
}
/** A connection the server ends (FATAL: terminating connection due to administrator command). */
export async function terminated() {
  const c = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  c.on('error', () => {})
  await c.connect()
  const pid = (await c.query('select pg_backend_pid() as p')).rows[0].p
  await sql('select pg_terminate_backend(' + pid + ')')
  await c.end().catch(() => {})
}
`

interface ReportTest {
  name: string
  file: string
  status: string
  errors: string[]
  logErrors: { service: string; line: string; expected: boolean }[]
}
const report = (p: Project): { tests: ReportTest[] } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))

describe('vitest plugin: allowed log lines', () => {
  test('logs.allow per service and logs.allowIn per file quiet the lines a suite triggers on purpose; the others fail their test and are summed up with the options that would allow them', async () => {
    project = pluginProject(config, `{ order: { shuffle: false }, logs: { allow: { db: [/duplicate key value/, 'already exists'] }, allowIn: { 'test/reconnect.test.ts': { db: [/terminating connection/] } } } }`)
    project.write('test/helpers.ts', helpers)
    project.write(
      'test/races.test.ts',
      `import { test } from 'vitest'
import { sql } from './helpers.ts'
${[1, 2, 3].map((i) => `test('duplicate ${i}', async () => { await sql('create table t${i} (id int primary key); insert into t${i} values (1); insert into t${i} values (1); drop table t${i}') })`).join('\n')}
test('exists', async () => { await sql('create table e (x int)'); await sql('create table e (x int)'); await sql('drop table e') })
${[1, 2, 3].map((i) => `test('divides ${i}', async () => { await sql('select ${i} / 0') })`).join('\n')}
`,
    )
    project.write('test/reconnect.test.ts', `import { test } from 'vitest'\nimport { terminated } from './helpers.ts'\ntest('reconnects', async () => { await terminated() })\n`)
    project.write('test/other.test.ts', `import { test } from 'vitest'\nimport { terminated } from './helpers.ts'\ntest('is cut off', async () => { await terminated() })\n`)
    const r = await vitest(project)
    const tests = report(project).tests
    const status = Object.fromEntries(tests.map((t) => [t.name, t.status]))
    expect(status).toEqual({ 'duplicate 1': 'passed', 'duplicate 2': 'passed', 'duplicate 3': 'passed', exists: 'passed', 'divides 1': 'failed', 'divides 2': 'failed', 'divides 3': 'failed', reconnects: 'passed', 'is cut off': 'failed' })
    // Allowed lines are recorded, as expected ones (a line the server writes late may land on the next test).
    expect(tests.flatMap((t) => t.logErrors).filter((e) => /duplicate key value violates unique constraint "t1_pkey"/.test(e.line))).toEqual([{ service: 'db', line: expect.stringMatching(/ERROR: +duplicate key value/), expected: true }])
    expect(tests.find((t) => t.name === 'reconnects')?.logErrors.map((e) => e.expected)).toEqual([true])
    // The summary: most frequent first, variants (numbers) in one group, and the options.
    expect(r.output).toMatch(/rig: 4 unexpected log lines in 4 tests, most frequent first:\n {2}3× in 3 tests, 1 file {2}db: .*ERROR: +division by zero\n {2}1× in 1 test, 1 file {2}db: .*FATAL: +terminating connection due to administrator command/)
    expect(r.output).toContain(`  logs: {
    allowIn: {
      'test/races.test.ts': { db: [/ERROR:  division by zero/] },
      'test/other.test.ts': { db: [/FATAL:  terminating connection due to administrator command/] },
    },
  },`)
    expect(r.code).toBe(1)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })

  test('a service or a file the options name that does not exist stops the run before any test, saying what exists', async () => {
    project = pluginProject(config, `{ logs: { allow: { dbb: [/x/] } } }`)
    project.write('test/a.test.ts', "import { test } from 'vitest'\ntest('x', () => {})\n")
    const r = await vitest(project)
    expect(r.code).not.toBe(0)
    expect(r.output).toMatch(/logs\.allow names service "dbb", which rig\.config\.ts does not define \(services: db\)/)
    expect(leftovers(project.dir)).toEqual([])
    project.write('vitest.config.ts', fs.readFileSync(path.join(project.dir, 'vitest.config.ts'), 'utf8').replace("{ logs: { allow: { dbb: [/x/] } } }", "{ logs: { allowIn: { 'test/reconect.test.ts': { db: [/x/] } } } }"))
    const r2 = await vitest(project)
    expect(r2.code).not.toBe(0)
    expect(r2.output).toMatch(/logs\.allowIn: no file or directory "test\/reconect\.test\.ts"/)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })
})

describe('log line patterns', () => {
  const pg = [{ source: '\\b(ERROR|FATAL|PANIC):', flags: '' }]
  test('start at the error, and match the variants of a line', () => {
    const a = '2026-11-28 22:00:00.123 UTC [4242] testrig@rig_w_1 ERROR:  duplicate key value violates unique constraint "job_pkey"'
    const p = linePattern(a, pg)
    expect(p).toBe('ERROR:  duplicate key value violates unique constraint "job_pkey"')
    const b = linePattern('2026-11-28 22:00:01.000 UTC [17] u@d ERROR:  relation "test_k3j4h5.job" already exists at character 14', pg)
    expect(b).toBe('ERROR:  relation "[^"]*" already exists at character \\d+')
    expect(new RegExp(b).test('x ERROR:  relation "test_zz9.job" already exists at character 2')).toBe(true)
    expect(linePattern('job 0f8a7c2e1b3d failed (id 3f2504e0-4f89-11d3-9a0c-0305e82c3301): a/b', [])).toBe('job [0-9a-f]+ failed \\(id [0-9a-f-]+\\): a\\/b')
  })

  test('groups by service and pattern, most frequent first; the snippet puts one-file groups in allowIn', () => {
    const lines = [
      { service: 'db', line: 'ERROR:  division by zero', test: 'a > 1', file: 'test/a.test.ts' },
      { service: 'db', line: 'ERROR:  division by zero', test: 'b > 1', file: 'test/b.test.ts' },
      { service: 'db', line: 'FATAL:  terminating connection due to administrator command', test: 'c > 1', file: 'test/c.test.ts' },
    ]
    const groups = groupLines(lines, () => pg)
    expect(groups.map((g) => [g.count, g.files.size])).toEqual([[2, 2], [1, 1]])
    expect(allowSnippet(groups)).toBe(`  logs: {
    allow: { db: [/ERROR:  division by zero/] },
    allowIn: {
      'test/c.test.ts': { db: [/FATAL:  terminating connection due to administrator command/] },
    },
  },`)
  })
})
