// The Jest and node:test adapters on real suites: rig's check comes after every hook of the
// user's (no false leak when the suite cleans up in afterEach, in a describe block, or in the
// test's own after hook), the helpers work, a printed replay command replays the failure alone,
// and a setup rig cannot work with is refused with a message that says what to do.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { envDirs, leftovers, NODE, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { hooksSuite, readReport, replays, runIn, runnerProject, runSuite, shopSuite, type RunnerName } from './runner-projects.ts'

const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})
function project(runner: RunnerName, rigOptions?: string): Project {
  const p = runnerProject(runner, rigOptions ? { rigOptions } : {})
  projects.push(p)
  return p
}
const nothingLeft = async (p: Project): Promise<void> => {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(envDirs(p.dir)).toEqual([])
}

/** Shell and PATH for a printed replay command: `node`/`npx` are this repository's Node 24 and its binaries. */
const replayEnv = { PATH: `${path.dirname(NODE)}:${process.env.PATH ?? ''}` }

describe.each(['jest', 'node-test'] as const)('%s adapter', (runner) => {
  test("rig's check runs after every user hook; allowLeak and expectLog are honoured", async () => {
    const p = project(runner)
    p.write('test/hooks.test.js', hooksSuite(runner))
    const r = await runSuite(p, runner)
    expect(r.code, r.output).toBe(0)
    const report = readReport(p)
    const expected = runner === 'node-test' ? 5 : 4
    expect(report.summary).toEqual({ passed: expected, failed: 0, skipped: 0, leaks: 1, logErrors: 0 })
    const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
    expect(byName['orders > cleaned by the describe block afterEach']).toMatchObject({ status: 'passed', leaks: [] })
    expect(byName['allowed to leave a row']).toMatchObject({ status: 'passed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
    expect(byName['expects the error it causes']?.logErrors).toEqual([{ service: 'app', line: 'ERROR payment provider refused the card', expected: true }])
    await nothingLeft(p)
  }, 180_000)

  test('a printed replay command runs the failing test alone, in the same order, and fails it the same way', async () => {
    const p = project(runner)
    p.write('test/shop.test.js', shopSuite(runner))
    p.write('test/other.test.js', runner === 'jest' ? "import { test } from '@jest/globals'\ntest('other', () => {})\n" : "import { test } from 'node:test'\nimport 'testrig/node-test'\ntest('other', () => {})\n")
    const first = await runSuite(p, runner, runner === 'node-test' ? ['--test-randomize'] : [])
    expect(first.code, first.output).toBe(1)
    const leak = readReport(p).tests.find((t) => t.name === 'leaks a row')!
    expect(replays(first.output)).toContain(leak.repro)
    expect(leak.repro).not.toContain('RIG_SEED=')
    expect(leak.repro).toContain(runner === 'jest' ? `--seed=${readReport(p).seed}` : `--test-random-seed=${readReport(p).seed}`)
    const again = await runIn(p, ['sh', '-c', leak.repro!], replayEnv)
    expect(again.code, again.output).toBe(1)
    const replayed = readReport(p)
    expect(replayed.tests.filter((t) => t.status !== 'skipped').map((t) => t.name)).toEqual(['leaks a row'])
    expect(replayed.tests.find((t) => t.name === 'leaks a row')).toMatchObject({ status: 'failed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
    await nothingLeft(p)
  }, 240_000)
})

/** Test API imports and a `beforeAll` per runner. */
const DIALECT_OF = {
  jest: { imports: "import { beforeAll, expect, test } from '@jest/globals'\nimport { rig } from 'testrig/jest'\n", beforeAll: 'beforeAll', eq: (a: string, b: string) => `expect(${a}).toBe(${b})` },
  'node-test': { imports: "import { before, test } from 'node:test'\nimport assert from 'node:assert/strict'\nimport { rig } from 'testrig/node-test'\n", beforeAll: 'before', eq: (a: string, b: string) => `assert.equal(${a}, ${b})` },
}

/** A PostgreSQL whose table a one-shot task creates. */
const MIGRATED_DB = `import { defineConfig, postgres, command } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    migrate: command({ run: 'node migrate.mjs', oneShot: true, dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url }) }),
  },
})
`

describe.each(['jest', 'node-test'] as const)('%s adapter, isolation: database', (runner) => {
  test('files run in parallel workers, each on its own copy of the database; a leak is still blamed on its test', async () => {
    // No app: copying the database ends the other sessions on it (the shop's app would die).
    const p = runnerProject(runner, { rigOptions: "{ isolation: 'database' }", config: MIGRATED_DB })
    projects.push(p)
    p.write('migrate.mjs', "import pg from 'pg'\nconst c = new pg.Client(process.env.DATABASE_URL)\nawait c.connect()\nawait c.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)')\nawait c.end()\n")
    // node:test: rig's hooks from --import, for every file, none of which imports rig.
    const d = runner === 'jest' ? "import { test } from '@jest/globals'\n" : "import { test } from 'node:test'\n"
    for (const f of ['a', 'b', 'c']) {
      p.write(
        `test/${f}.test.js`,
        `${d}import fs from 'node:fs'\nimport pg from 'pg'\n\ntest('leaks in ${f}', async () => {\n  const c = new pg.Client(process.env.RIG_DB_URL)\n  await c.connect()\n  const { rows } = await c.query("INSERT INTO items (name) VALUES ('${f}') RETURNING current_database() AS db")\n  await c.end()\n  fs.writeFileSync('db-${f}.txt', rows[0].db)\n  await new Promise((r) => setTimeout(r, 1000))\n})\n`,
      )
    }
    const r = await runSuite(p, runner, runner === 'jest' ? ['--maxWorkers=2'] : ['--test-concurrency=2', '--import=testrig/node-test'])
    expect(r.code, r.output).toBe(1)
    const report = readReport(p)
    expect(report.tests.map((t) => [t.name, t.status, t.leaks])).toEqual(
      expect.arrayContaining(['a', 'b', 'c'].map((f) => [`leaks in ${f}`, 'failed', [{ store: 'postgres db', items: ['public.items +1 row'] }]])),
    )
    const used = new Set(['a', 'b', 'c'].map((f) => fs.readFileSync(path.join(p.dir, `db-${f}.txt`), 'utf8')))
    expect(used.size, [...used].join(', ')).toBe(2)
    await nothingLeft(p)
  }, 240_000)
})

describe.each(['jest', 'node-test'] as const)('%s adapter, fixtures', (runner) => {
  test("the run's fixture is every file's data; rig.useFixture() adds one for a file, which the next file does not see", async () => {
    const config = MIGRATED_DB.replace('  },\n})', "  },\n  fixtures: { fleet: { db: 'fleet.sql' }, more: { db: 'more.sql' } },\n})")
    const p = runnerProject(runner, { rigOptions: "{ fixture: 'fleet', order: { shuffle: false } }", config })
    projects.push(p)
    p.write('migrate.mjs', "import pg from 'pg'\nconst c = new pg.Client(process.env.DATABASE_URL)\nawait c.connect()\nawait c.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)')\nawait c.end()\n")
    p.write('fleet.sql', "INSERT INTO items (name) VALUES ('van'), ('truck');\n")
    p.write('more.sql', "INSERT INTO items (name) VALUES ('bus');\n")
    const d = DIALECT_OF[runner]
    const count = "const n = async () => { const c = new pg.Client(process.env.RIG_DB_URL); await c.connect(); const { rows } = await c.query('SELECT count(*)::int AS n FROM items'); await c.end(); return rows[0].n }\n"
    p.write('test/a.test.js', `${d.imports}import pg from 'pg'\n${count}${d.beforeAll}(() => rig.useFixture('more'))\ntest('sees fleet and more', async () => {\n  ${d.eq('await n()', '3')}\n})\n`)
    p.write('test/b.test.js', `${d.imports}import pg from 'pg'\n${count}test('sees fleet only', async () => {\n  ${d.eq('await n()', '2')}\n})\n`)
    const r = await runSuite(p, runner)
    expect(r.code, r.output).toBe(0)
    expect(readReport(p).summary).toMatchObject({ passed: 2, failed: 0 })
    await nothingLeft(p)
  }, 180_000)
})

describe('bad setups', () => {
  test('node:test without rig\'s global setup: each test says what to add', async () => {
    const p = project('node-test')
    p.write('test/shop.test.js', shopSuite('node-test'))
    const r = await runIn(p, [NODE, '--test', '--test-concurrency=1', 'test/shop.test.js'])
    expect(r.code).toBe(1)
    expect(r.output).toContain('testrig services are not available in this test: run node --test with --test-global-setup=')
    await nothingLeft(p)
  }, 60_000)

  test('node:test running files in parallel against one shared environment is refused before anything starts', async () => {
    const p = project('node-test')
    p.write('test/shop.test.js', shopSuite('node-test'))
    const r = await runIn(p, [NODE, '--test', '--test-global-setup=rig-setup.js', '--test-concurrency=2', 'test/shop.test.js'])
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('node:test would run 2 test files at once against one shared environment')
    expect(r.output).toContain('add --test-concurrency=1')
    await nothingLeft(p)
  }, 60_000)

  test('Jest with more than one worker against one shared environment is refused before anything starts', async () => {
    const p = project('jest')
    p.write('test/shop.test.js', shopSuite('jest'))
    const r = await runSuite(p, 'jest', ['--maxWorkers=2'])
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('Jest would run 2 test files at once against one shared environment')
    await nothingLeft(p)
  }, 60_000)

  test('Jest without rig\'s preset: a test using the helpers says what to add', async () => {
    const p = project('jest')
    p.write('jest.config.js', `export default { transform: {} }\n`)
    p.write('test/shop.test.js', shopSuite('jest'))
    const r = await runSuite(p, 'jest')
    expect(r.code).toBe(1)
    expect(r.output).toContain('testrig services are not available in this test: spread rig.preset() (from testrig/jest) into jest.config')
  }, 60_000)
})

test('replay commands keep what the runner needs, drop what selects other tests, and match names as the runner does', async () => {
  const { replayCommand: nodeReplay } = await import('../../src/node-test/reporter.ts')
  const { replayCommand: jestReplay } = await import('../../src/jest/reporter.ts')
  const { reproCommand } = await import('../../src/runner/order.ts')
  const node = nodeReplay(['--test', '--test-global-setup=rig-setup.js', '--test-name-pattern', 'x', '--test-random-seed=5', '--test-only', '--test-concurrency=1'], 9)
  expect(reproCommand(9, ['/p/test/a.test.js'], '/p', node, { test: 'orders > it works' })).toBe("node --test --test-global-setup=rig-setup.js --test-concurrency=1 --test-random-seed=9 --test-name-pattern '^orders it works$' test/a.test.js")
  const jest = jestReplay(['--config', 'jest.rig.config.js', 'test/a', '-t', 'x'], '--experimental-vm-modules', 7)
  expect(reproCommand(7, ['/p/test/a.test.js'], '/p', jest, { test: 'a.b > c' })).toBe("NODE_OPTIONS=--experimental-vm-modules npx jest --config jest.rig.config.js --seed=7 --runTestsByPath test/a.test.js -t '^a\\.b c$'")
})
