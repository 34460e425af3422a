// Per-test overhead of the plugin on a suite shaped like real third-party ones (issue 17):
// 220 small tests over 10 files, a setup file that gives each test its own schema and client
// (created in beforeEach, dropped and closed in afterEach), one job table per schema. Five
// Vitest configs over the same tests, run in alternating rounds in the same run:
//   baseline  plain Vitest (the same PostgreSQL started by startEnvironment in a globalSetup)
//   rig       the plugin as users get it (guard + log scan)
//   guard     the plugin, guard only (logs.ignore every service)
//   logs      the plugin, log scan only (guard.mode 'off')
//   bare      the plugin with both off (start, order, report)
// Figure: (tests phase of a variant − the baseline's) / tests, medians over rounds.
//
//   node_modules/.bin/node bench/adopting.bench.ts [--rounds 3] [--no-write]
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, round } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')
const VITEST = path.join(REPO, 'node_modules', 'vitest', 'vitest.mjs')
const FILES = 10
const PER_FILE = 22
const TESTS = FILES * PER_FILE

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } })
const VARIANTS = { baseline: undefined, rig: '{}', guard: "{ logs: { ignore: ['db'] } }", logs: "{ guard: { mode: 'off' } }", bare: "{ guard: { mode: 'off' }, logs: { ignore: ['db'] } }" } as const
type Variant = keyof typeof VARIANTS

const SETUP = `import { afterEach, beforeEach, inject } from 'vitest'
import pg from 'pg'
if (!process.env.RIG_DB_URL) process.env.RIG_DB_URL = inject('dbUrl')
export const ctx = globalThis.__suite ??= {}
beforeEach(async () => {
  ctx.schema = 'test_' + Math.random().toString(36).slice(2, 10)
  ctx.client = new pg.Client({ connectionString: process.env.RIG_DB_URL })
  await ctx.client.connect()
  await ctx.client.query('create schema ' + ctx.schema + '; set search_path to ' + ctx.schema + '; create table job (id serial primary key, name text not null, state text not null default \\'created\\', data jsonb)')
})
afterEach(async () => {
  await ctx.client.query('drop schema ' + ctx.schema + ' cascade')
  await ctx.client.end()
})
`

const testFile = (f: number): string => `import { expect, test } from 'vitest'
const ctx = globalThis.__suite
${Array.from({ length: PER_FILE }, (_, i) => `test('f${f} job ${i}', async () => {
  await ctx.client.query("insert into job (name, data) values ('a', '{}'), ('b', '{\\"n\\": ${i}}')")
  await ctx.client.query("update job set state = 'active' where name = 'a'")
  expect((await ctx.client.query("select count(*)::int as n from job where state = 'active'")).rows[0].n).toBe(1)
})`).join('\n')}
`

const GLOBAL_SETUP = `import { loadConfig, startEnvironment } from 'testrig'
export default async function setup(project) {
  const { config, root } = await loadConfig()
  const env = await startEnvironment(config, { root })
  project.provide('dbUrl', env.get('db').url)
  return () => env.stop()
}
`

const TIMING = `import fs from 'node:fs'
const now = () => performance.timeOrigin + performance.now()
const out = { firstModule: 0, runEnd: 0, failed: 0 }
export default class { onTestModuleStart() { if (!out.firstModule) out.firstModule = now() }
  onTestCaseResult(t) { if (t.result().state !== 'passed') out.failed++ }
  onTestRunEnd() { out.runEnd = now(); fs.writeFileSync(process.env.BENCH_TIMING_FILE, JSON.stringify(out)) } }
`

function generate(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-adopting-bench-'))
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'adopting-bench', private: true, type: 'module' }),
    'rig.config.ts': "import { defineConfig, postgres } from 'testrig'\nexport default defineConfig({ services: { db: postgres() } })\n",
    'tests/setup.js': SETUP,
    'global-setup.js': GLOBAL_SETUP,
    'timing-reporter.js': TIMING,
  }
  const common = "include: ['tests/**/*.test.js'], setupFiles: ['tests/setup.js'], fileParallelism: false, testTimeout: 30_000, hookTimeout: 60_000, sequence: { shuffle: false }"
  for (const [v, opts] of Object.entries(VARIANTS)) {
    files[`vitest.${v}.config.js`] = opts
      ? `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false }, report: { dir: 'report-${v}' }, ...${opts} })], test: { ${common} } })\n`
      : `import { defineConfig } from 'vitest/config'\nexport default defineConfig({ test: { ${common}, globalSetup: ['global-setup.js'] } })\n`
  }
  for (let f = 1; f <= FILES; f++) files[`tests/f${String(f).padStart(2, '0')}.test.js`] = testFile(f)
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text)
  }
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(REPO, path.join(dir, 'node_modules', 'testrig'))
  for (const m of ['vitest', 'pg']) fs.symlinkSync(path.join(REPO, 'node_modules', m), path.join(dir, 'node_modules', m))
  return dir
}

/** One run: the tests phase (first file starts → run ends), in ms. */
function run(dir: string, v: Variant, i: number): number {
  const timing = path.join(dir, `timing-${v}-${i}.json`)
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', `vitest.${v}.config.js`, '--reporter=dot', '--reporter=./timing-reporter.js'], { cwd: dir, env: { ...process.env, BENCH_TIMING_FILE: timing, NO_COLOR: '1', VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, encoding: 'utf8', timeout: 600_000 })
  const t = fs.existsSync(timing) ? (JSON.parse(fs.readFileSync(timing, 'utf8')) as { firstModule: number; runEnd: number; failed: number }) : undefined
  if (r.status !== 0 || !t || t.failed > 0) throw new Error(`${v} run ${i} failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`)
  return t.runEnd - t.firstModule
}

const dir = generate()
const loadBefore = os.loadavg().map((x) => round(x, 2))
const samples: Record<Variant, number[]> = { baseline: [], rig: [], guard: [], logs: [], bare: [] }
try {
  for (let i = 0; i < Number(args.rounds); i++) {
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      samples[v].push(run(dir, v, i))
      process.stderr.write(`round ${i + 1} ${v}: ${Math.round(samples[v].at(-1) as number)} ms\n`)
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
const loadAfter = os.loadavg().map((x) => round(x, 2))
const base = median(samples.baseline)
const rows = (Object.keys(VARIANTS) as Variant[]).map((v) => {
  const m = median(samples[v])
  return { variant: v, testsMs: round(m, 0), perTestMs: round(m / TESTS, 2), overheadPerTestMs: round((m - base) / TESTS, 2), ratio: round(m / base, 2), samples: samples[v].map((x) => round(x, 0)) }
})
const result = { date: new Date().toISOString(), tests: TESTS, files: FILES, rounds: Number(args.rounds), cpus: os.cpus().length, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter, rows }
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
if (!args['no-write']) {
  fs.writeFileSync(path.join(BENCH_DIR, 'results', 'adopting.json'), JSON.stringify(result, null, 2) + '\n')
  const table = rows.map((r) => `| ${r.variant} | ${r.testsMs} | ${r.perTestMs} | ${r.variant === 'baseline' ? '—' : r.overheadPerTestMs} | ${r.ratio}× |`).join('\n')
  writeResultsSection(
    'adopting',
    `## Plugin overhead on a schema-per-test suite (bench/adopting.bench.ts)

${TESTS} tests in ${FILES} files; a setup file creates a schema, a table and a client per test and drops them in afterEach; files one at a time. Medians of the tests phase over ${result.rounds} alternating rounds, ${result.date.slice(0, 16)} UTC, ${result.cpus} cores, load average ${loadBefore.join(' / ')} before, ${loadAfter.join(' / ')} after.

| variant | tests phase (ms) | per test (ms) | overhead per test vs baseline (ms) | vs baseline |
|---|---|---|---|---|
${table}

baseline: plain Vitest on the same PostgreSQL; rig: the plugin (guard + log scan); guard: log scan off; logs: guard off; bare: both off.`,
  )
}
