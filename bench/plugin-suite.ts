// Generates the project the plugin benchmark runs: a 20-table schema created by a one-shot
// `command()` migration, 200 small database tests over 10 files (or another shape: setShape), and two Vitest configs over
// the same tests: `rig` (the plugin, guard mode 'clean') and `baseline` (plain Vitest, the
// same PostgreSQL started by `startEnvironment` in a globalSetup, and a hand-written afterEach
// that TRUNCATEs every table). A third, `plain`, is plain Vitest with no reset at all: the same
// tests in `plain-tests/` (see plainTestFile), the same globalSetup, no setup file. The same tests
// are written for Jest (`jest-tests/`, configs `jest.rig.config.js` / `jest.baseline.config.js`)
// and node:test (`node-tests/`, global setups `node-test-rig-setup.js` /
// `node-test-baseline-setup.js`), with rig and the TRUNCATE baseline each.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const TABLES = 20
export let FILES = 10
export let TESTS_PER_FILE = 20
/** Number of tests the suite holds. */
export let TESTS = FILES * TESTS_PER_FILE

/** Seeded tables no test touches (`seed_01`…, 20 rows each): what the guard's baseline copies. */
export let SEEDED = 0

/** Another shape of suite (e.g. 100 files × 2 tests: where per-file costs show), with `seeded` untouched seeded tables. */
export function setShape(files: number, testsPerFile: number, seeded = 0): void {
  FILES = files
  TESTS_PER_FILE = testsPerFile
  TESTS = files * testsPerFile
  SEEDED = seeded
}

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
export const tableName = (i: number): string => `t${String(i).padStart(2, '0')}`
/** Even tables reference the previous (odd) one, so TRUNCATE … CASCADE and the guard's restore both meet foreign keys. */
const parentOf = (i: number): number | undefined => (i % 2 === 0 ? i - 1 : undefined)

/** A deterministic PRNG (mulberry32): the same suite on every run and machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function schemaSql(): string {
  const out: string[] = []
  for (let i = 1; i <= TABLES; i++) {
    const p = parentOf(i)
    const ref = p ? `, parent_id int references ${tableName(p)}(id)` : ''
    out.push(`create table ${tableName(i)} (id serial primary key, name text not null, n int not null default 0, created_at timestamptz not null default now()${ref})`)
  }
  for (let i = 1; i <= SEEDED; i++) {
    const t = `seed_${String(i).padStart(2, '0')}`
    out.push(`create table ${t} (id serial primary key, name text not null)`, `insert into ${t} (name) select 'row ' || g from generate_series(1, 20) g`)
  }
  return out.join(';\n')
}

/**
 * One test: 1–3 rows into 1–2 tables, read back. Every table starts empty and its sequence at 1,
 * so the test also asserts the exact ids and row count: a cleanup that misses a row or a
 * sequence fails the next test on that table.
 */
/** How a runner's test file imports its API and asserts equality. */
export type Dialect = 'vitest' | 'jest' | 'node-test'
const EQUAL: Record<Dialect, (a: string, b: string) => string> = {
  vitest: (a, b) => `expect(${a}).toEqual(${b})`,
  jest: (a, b) => `expect(${a}).toEqual(${b})`,
  'node-test': (a, b) => `assert.deepStrictEqual(${a}, ${b})`,
}

function testSource(file: number, index: number, rand: () => number, dialect: Dialect = 'vitest'): string {
  const first = 1 + Math.floor(rand() * TABLES)
  const tables = [first]
  if (rand() < 0.5) {
    // A second table: the child of an odd table (with a reference to the new row), or any other.
    const child = first % 2 === 1 ? first + 1 : undefined
    const other = 1 + ((first + Math.floor(rand() * (TABLES - 1))) % TABLES)
    tables.push(child && rand() < 0.6 ? child : other === first ? (first % TABLES) + 1 : other)
  }
  const lines: string[] = []
  tables.forEach((t, k) => {
    const rows = 1 + Math.floor(rand() * 3)
    const name = tableName(t)
    const refParent = k === 1 && parentOf(t) === tables[0]
    const cols = refParent ? '(name, n, parent_id)' : '(name, n)'
    const values = Array.from({ length: rows }, (_, r) => (refParent ? `($${3 * r + 1}, $${3 * r + 2}, $${3 * r + 3})` : `($${2 * r + 1}, $${2 * r + 2})`)).join(', ')
    const params = Array.from({ length: rows }, (_, r) => (refParent ? `'f${file}-${index}-${r}', ${r + 1}, 1` : `'f${file}-${index}-${r}', ${r + 1}`)).join(', ')
    const expected = Array.from({ length: rows }, (_, r) => `{ id: ${r + 1}, name: 'f${file}-${index}-${r}', n: ${r + 1} }`).join(', ')
    lines.push(
      `  await db.query('insert into ${name} ${cols} values ${values}', [${params}])`,
      `  ${EQUAL[dialect](`(await db.query('select id, name, n from ${name} order by id')).rows`, `[${expected}]`)}`,
    )
  })
  return `test('f${file} #${index}: ${tables.map(tableName).join(' + ')}', async () => {\n${lines.join('\n')}\n})\n`
}

function testFile(file: number, dialect: Dialect = 'vitest'): string {
  const rand = prng(1000 + file)
  const tests = Array.from({ length: TESTS_PER_FILE }, (_, i) => testSource(file, i + 1, rand, dialect))
  const head =
    dialect === 'vitest'
      ? "import { afterAll, beforeAll, expect, test } from 'vitest'\nimport pg from 'pg'\n\nlet db: pg.Client\n"
      : dialect === 'jest'
        ? "import { afterAll, beforeAll, expect, test } from '@jest/globals'\nimport pg from 'pg'\n\nlet db\n"
        : "import { after as afterAll, before as beforeAll, test } from 'node:test'\nimport assert from 'node:assert/strict'\nimport pg from 'pg'\n\nlet db\n"
  return `${head}beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await db.connect()
})
afterAll(async () => {
  await db.end()
})

${tests.join('\n')}`
}

const RIG_CONFIG = `import { command, defineConfig, postgres } from 'testrig'

export default defineConfig({
  services: {
    db: postgres({ database: 'app' }),
    migrate: command({ run: [process.execPath, 'migrate.ts'], dependsOn: ['db'], env: { DATABASE_URL: '{db.url}' } }),
    // startEnvironment counts a port-less one-shot command as ready once spawned, and waits for
    // its completion only when a dependent asks for it: without this no-op dependent, the first
    // test file can start before the tables exist.
    schema: command({ run: ['true'], dependsOn: { migrate: 'completed' } }),
  },
})
`

const MIGRATE = (sql: string): string => `import pg from 'pg'

const db = new pg.Client({ connectionString: process.env.DATABASE_URL })
await db.connect()
await db.query(${JSON.stringify(sql)})
await db.end()
console.log('migrated')
`

// Both configs: same include, same timeouts, one file at a time (the plugin's default
// isolation 'shared' sets fileParallelism: false; the baseline sets it by hand).
const TEST_OPTIONS = `include: ['tests/**/*.test.ts'], fileParallelism: false, testTimeout: 20_000, hookTimeout: 60_000`

const RIG_VITEST = `import { defineConfig } from 'vitest/config'
import { rig } from 'testrig/vitest'

export default defineConfig({
  plugins: [rig({ guard: { mode: 'clean' } })],
  test: { ${TEST_OPTIONS} },
})
`

const BASELINE_VITEST = `import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { ${TEST_OPTIONS}, globalSetup: ['baseline/global-setup.ts'], setupFiles: ['baseline/truncate.ts'] },
})
`

// Plain Vitest: no setup file, no reset between tests.
const PLAIN_VITEST = `import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { ${TEST_OPTIONS.replace("tests/**", "plain-tests/**")}, globalSetup: ['baseline/global-setup.ts'] },
})
`

/**
 * A test file as plain Vitest runs it, with nothing reset between tests: the rows of earlier
 * tests stay, so each read-back selects the test's own rows (by name) and asserts them without
 * ids; the database URL comes from the globalSetup's `provide`. Same queries, same imports.
 */
export function plainTestFile(source: string): string {
  return source
    .replace("import { afterAll, beforeAll, expect, test } from 'vitest'", "import { afterAll, beforeAll, expect, inject, test } from 'vitest'")
    .replace('connectionString: process.env.RIG_DB_URL', "connectionString: inject('dbUrl' as never) as string")
    .replace(/select id, name, n from (\w+) order by id'\)\)\.rows\)\.toEqual\(\[(.*?)\]\)/g, (_, table: string, expected: string) => {
      const prefix = /name: '([^']*-)\d+'/.exec(expected)?.[1] ?? ''
      return `select name, n from ${table} where name like \\'${prefix}%\\' order by id')).rows).toEqual([${expected.replace(/id: \d+, /g, '')}])`
    })
}

const BASELINE_GLOBAL_SETUP = `// The same environment as the rig variant (PostgreSQL + the migration), started the same way.
import type { TestProject } from 'vitest/node'
import { loadConfig, startEnvironment } from 'testrig'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { config, root } = await loadConfig()
  const env = await startEnvironment(config, { root })
  process.stderr.write('baseline: environment ready in ' + Math.round(env.startMs) + ' ms\\n')
  project.provide('dbUrl', env.get('db').url)
  return async () => {
    await env.stop()
  }
}
`

const BASELINE_TRUNCATE = (tables: string[]): string => `// The hand-written cleanup: one TRUNCATE of every table after each test.
import { afterAll, afterEach, inject } from 'vitest'
import pg from 'pg'

process.env.RIG_DB_URL = inject('dbUrl' as never) as string
let client: pg.Client | undefined
afterEach(async () => {
  if (!client) {
    client = new pg.Client({ connectionString: process.env.RIG_DB_URL })
    await client.connect()
  }
  await client.query('truncate ${tables.join(', ')} restart identity cascade')
})
afterAll(async () => {
  await client?.end()
})
`

// Records, for the benchmark, when the run started and ended (epoch ms) and each module's and
// test's durations. Used by both variants, next to Vitest's default reporter.
const TIMING_REPORTER = `import fs from 'node:fs'

const now = () => performance.timeOrigin + performance.now()
const out = { init: 0, runStart: 0, firstModule: 0, runEnd: 0, modules: [], tests: [] }
export default class TimingReporter {
  onInit() { out.init = now() }
  onTestRunStart() { out.runStart = now() }
  onTestModuleStart() { if (!out.firstModule) out.firstModule = now() }
  onTestModuleEnd(m) {
    const d = m.diagnostic()
    out.modules.push({ file: m.moduleId, duration: d.duration, setup: d.setupDuration, collect: d.collectDuration, prepare: d.prepareDuration, environment: d.environmentSetupDuration })
  }
  onTestCaseResult(t) {
    out.tests.push({ file: t.module.moduleId, name: t.fullName, state: t.result().state, duration: t.diagnostic()?.duration ?? 0 })
  }
  onTestRunEnd() {
    out.runEnd = now()
    if (process.env.BENCH_TIMING_FILE) fs.writeFileSync(process.env.BENCH_TIMING_FILE, JSON.stringify(out))
  }
}
`

// Jest: the same two variants, files one at a time (rig's preset sets maxWorkers: 1 under
// isolation 'shared'; the baseline sets it by hand: Jest then runs them in its main process).
// testrig's sources are TypeScript: Jest strips none, so a transform of Node's stripper.
const STRIP_TYPES = `const { stripTypeScriptTypes } = require('node:module')
module.exports = { process: (source) => ({ code: stripTypeScriptTypes(source, { mode: 'strip' }) }) }
`
const JEST_COMMON = `roots: ['<rootDir>/jest-tests'], transform: { '\\\\.ts$': '<rootDir>/strip-types.cjs' }, testTimeout: 20_000`
const JEST_RIG = `import { rig } from 'testrig/jest'
const preset = rig.preset({ guard: { mode: 'clean' } })
export default { ...preset, reporters: [...preset.reporters, '<rootDir>/jest-timing-reporter.cjs'], ${JEST_COMMON} }
`
const JEST_BASELINE = `export default { maxWorkers: 1, globalSetup: '<rootDir>/baseline/jest-global-setup.js', globalTeardown: '<rootDir>/baseline/jest-global-teardown.js', setupFilesAfterEnv: ['<rootDir>/baseline/jest-truncate.js'], reporters: ['default', '<rootDir>/jest-timing-reporter.cjs'], ${JEST_COMMON} }
`
const JEST_BASELINE_SETUP = `// The same environment as the rig variant, started the same way, in Jest's main process.
import { loadConfig, startEnvironment } from 'testrig'
import { state } from './jest-state.js'

export default async function setup() {
  const { config, root } = await loadConfig()
  state.env = await startEnvironment(config, { root })
  process.stderr.write('baseline: environment ready in ' + Math.round(state.env.startMs) + ' ms\\n')
  process.env.RIG_DB_URL = state.env.get('db').url
}
`
const JEST_BASELINE_TEARDOWN = `import { state } from './jest-state.js'
export default async function teardown() {
  await state.env?.stop()
}
`
const TRUNCATE_HOOKS = (tables: string[], runner: 'jest' | 'node-test'): string => `// The hand-written cleanup: one TRUNCATE of every table after each test.
import { ${runner === 'jest' ? "afterAll, afterEach } from '@jest/globals'" : "after as afterAll, afterEach } from 'node:test'"}
import pg from 'pg'

let client
afterEach(async () => {
  if (!client) {
    client = new pg.Client({ connectionString: process.env.RIG_DB_URL })
    await client.connect()
  }
  await client.query('truncate ${tables.join(', ')} restart identity cascade')
})
afterAll(async () => {
  await client?.end()
})
`
// Jest's run: from the first file's start (after the global setup) to the last file's end (before the global teardown).
const JEST_TIMING_REPORTER = `const fs = require('node:fs')
const now = () => performance.timeOrigin + performance.now()
module.exports = class TimingReporter {
  constructor() { this.out = { runStart: 0, runEnd: 0, passed: 0, failed: 0, tests: [] } }
  onRunStart() { this.out.runStart = now() }
  onTestResult(_test, r) { for (const t of r.testResults) this.out.tests.push({ name: t.fullName, state: t.status, duration: t.duration ?? 0 }) }
  onRunComplete(_ctx, results) {
    this.out.runEnd = now()
    this.out.passed = results.numPassedTests
    this.out.failed = results.numFailedTests
    if (process.env.BENCH_TIMING_FILE) fs.writeFileSync(process.env.BENCH_TIMING_FILE, JSON.stringify(this.out))
  }
}
`
// node:test: the run is the global setup's end to the global teardown's start, in the runner process.
const NODE_TEST_MARK = `import fs from 'node:fs'
const now = () => performance.timeOrigin + performance.now()
const out = { runStart: 0, runEnd: 0 }
export const mark = (k) => {
  out[k] = now()
  if (k === 'runEnd' && process.env.BENCH_TIMING_FILE) fs.writeFileSync(process.env.BENCH_TIMING_FILE, JSON.stringify(out))
}
`
const NODE_TEST_RIG_SETUP = `import { rigGlobalSetup } from 'testrig/node-test/global-setup'
import { mark } from './node-test-mark.js'
const rig = rigGlobalSetup({ guard: { mode: 'clean' } })
export async function globalSetup() {
  await rig.globalSetup()
  mark('runStart')
}
export async function globalTeardown() {
  mark('runEnd')
  await rig.globalTeardown()
}
`
const NODE_TEST_BASELINE_SETUP = `// The same environment as the rig variant, started the same way, in node:test's runner process.
import { loadConfig, startEnvironment } from 'testrig'
import { mark } from './node-test-mark.js'
let env
export async function globalSetup() {
  const { config, root } = await loadConfig()
  env = await startEnvironment(config, { root })
  process.stderr.write('baseline: environment ready in ' + Math.round(env.startMs) + ' ms\\n')
  process.env.RIG_DB_URL = env.get('db').url
  mark('runStart')
}
export async function globalTeardown() {
  mark('runEnd')
  await env?.stop()
}
`

/**
 * Writes the project into a new temp dir and returns its path; `testrig` there is the checkout
 * at `repo`, or a copy of `installed` (an unpacked tarball, bench/lib/packed.ts) as npm installs it.
 */
export function generateSuite(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-plugin-bench-')), repo = REPO, installed?: string): string {
  const tables = Array.from({ length: TABLES }, (_, i) => tableName(i + 1))
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'plugin-bench-suite', private: true, type: 'module' }, null, 2),
    'rig.config.ts': RIG_CONFIG,
    'migrate.ts': MIGRATE(schemaSql()),
    'vitest.rig.config.ts': RIG_VITEST,
    'vitest.baseline.config.ts': BASELINE_VITEST,
    'vitest.plain.config.ts': PLAIN_VITEST,
    'baseline/global-setup.ts': BASELINE_GLOBAL_SETUP,
    'baseline/truncate.ts': BASELINE_TRUNCATE(tables),
    'timing-reporter.js': TIMING_REPORTER,
    'strip-types.cjs': STRIP_TYPES,
    'jest.rig.config.js': JEST_RIG,
    'jest.baseline.config.js': JEST_BASELINE,
    'jest-timing-reporter.cjs': JEST_TIMING_REPORTER,
    'baseline/jest-state.js': 'export const state = {}\n',
    'baseline/jest-global-setup.js': JEST_BASELINE_SETUP,
    'baseline/jest-global-teardown.js': JEST_BASELINE_TEARDOWN,
    'baseline/jest-truncate.js': TRUNCATE_HOOKS(tables, 'jest'),
    'node-test-mark.js': NODE_TEST_MARK,
    'node-test-rig-setup.js': NODE_TEST_RIG_SETUP,
    'node-test-baseline-setup.js': NODE_TEST_BASELINE_SETUP,
    'baseline/node-test-truncate.js': TRUNCATE_HOOKS(tables, 'node-test'),
  }
  for (let f = 1; f <= FILES; f++) {
    const n = String(f).padStart(3, '0')
    files[`tests/f${n}.test.ts`] = testFile(f)
    files[`jest-tests/f${n}.test.js`] = testFile(f, 'jest')
    files[`node-tests/f${n}.test.js`] = testFile(f, 'node-test')
    files[`plain-tests/f${n}.test.ts`] = plainTestFile(testFile(f))
  }
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text)
  }
  // `testrig` resolves to this repository (or to the installed copy); `vitest` and `pg` to its
  // copies (Node follows the links to real paths, so the TypeScript sources load with type stripping).
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  if (installed) fs.cpSync(installed, path.join(dir, 'node_modules', 'testrig'), { recursive: true })
  else fs.symlinkSync(repo, path.join(dir, 'node_modules', 'testrig'))
  for (const m of ['vitest', 'pg']) fs.symlinkSync(path.join(REPO, 'node_modules', m), path.join(dir, 'node_modules', m))
  return dir
}
