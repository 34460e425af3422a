// Benchmark of the Vitest plugin: a suite of 200 small database tests (20 tables, 10 files)
// run through `rig({ guard: { mode: 'clean' } })`, against the same tests under plain Vitest
// with a hand-written `afterEach` that TRUNCATEs every table, in the same run. Both variants
// start the same PostgreSQL with rig's engine and run files one at a time.
//
//   node_modules/.bin/node bench/plugin.bench.ts [--runs 5] [--breakdown-runs 200] [--no-write] [--keep]
//     [--files 10 --tests-per-file 20]
//
// Writes bench/results/plugin.json and the plugin section of bench/RESULTS.md; another shape
// (e.g. --files 100 --tests-per-file 2, where per-file costs show) writes plugin-100x2.json and
// its own section.
// See bench/README.md for what each figure means.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { defineConfig, postgres, startEnvironment } from '../src/index.ts'
import { isAlive } from '../src/env/proc.ts'
import { openGuardSession } from '../src/runner/guard-session.ts'
import { linesWritten, logOffsets, scanLogs } from '../src/runner/log-scan.ts'
import type { ProvidedService, RigProvided } from '../src/runner/provided.ts'
import { FILES, generateSuite, schemaSql, setShape, TABLES, tableName, TESTS, TESTS_PER_FILE } from './plugin-suite.ts'
import { round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { processesIn, runVitest as runSuite, type RunSample as VitestSample } from './lib/vitest-run.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'breakdown-runs': { type: 'string', default: '200' },
    'no-write': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    files: { type: 'string', default: '10' },
    'tests-per-file': { type: 'string', default: '20' },
  },
})
setShape(Number(args.files), Number(args['tests-per-file']))
const SHAPE = FILES === 10 && TESTS_PER_FILE === 20 ? '' : `-${FILES}x${TESTS_PER_FILE}`

type Variant = 'rig' | 'baseline'
const log = (line: string): void => void process.stderr.write(`${line}\n`)

type RunSample = VitestSample<Variant>
const runVitest = (dir: string, variant: Variant, index: number): Promise<RunSample> => runSuite(dir, variant, variant, index, TESTS)

// ---------------------------------------------------------------------------------------------
// Breakdown: what each variant's per-test hook does, measured alone in this process against a
// PostgreSQL with the same schema, through the plugin's own worker-side functions.

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** A typical test's writes: 2 rows in an odd table, 2 rows in its child referencing the first. */
const TEST_WRITES = `insert into t03 (name, n) values ('a', 1), ('b', 2); insert into t04 (name, n, parent_id) values ('c', 1, 1), ('d', 2, 1)`
const TEST_READS = `select id, name, n from t03 order by id; select id, name, n from t04 order by id`
const TRUNCATE = `truncate ${Array.from({ length: TABLES }, (_, i) => tableName(i + 1)).join(', ')} restart identity cascade`

async function breakdown(runs: number): Promise<Record<string, Summary>> {
  const def = postgres({ database: 'app' })
  const env = await startEnvironment(defineConfig({ services: { db: def } }))
  try {
    const db = env.get('db')
    const app = new pg.Client({ connectionString: db.url })
    await app.connect()
    await app.query(schemaSql())
    const service: ProvidedService = {
      name: 'db', kind: 'postgres', url: db.url, host: db.host, port: db.port, pid: db.pid ?? null, env: db.env, logFile: db.logs.file,
      errorPatterns: (def.kind.errorPatterns ?? []).map((r) => ({ source: r.source, flags: r.flags.replace('g', '') })),
      guarded: true, startedByRig: true,
    }
    const provided: RigProvided = {
      services: { db: service }, vars: {}, controlSocket: undefined, seed: 1, configFile: '', fixture: undefined,
      guard: { mode: 'clean', strategy: 'auto', exclude: [], allowCleaning: [] }, logs: { failOnError: true },
    }
    const list = [service]
    const s: Record<string, number[]> = { testBody: [], rigAfterEach: [], rigBeforeEach: [], aliveCheck: [], logScan: [], guardCheckAfterWrites: [], guardCheckNothingWritten: [], truncateAll: [], openGuardSession: [], closeGuardSession: [] }
    // Per file: the guard session a worker opens in beforeAll (catalog, baseline) and closes in afterAll.
    for (let i = 0; i < Math.max(5, Math.round(runs / 20)); i++) {
      let g: Awaited<ReturnType<typeof openGuardSession>>
      s.openGuardSession!.push(await timed(async () => void (g = await openGuardSession(provided))))
      s.closeGuardSession!.push(await timed(() => g?.close()))
    }
    const guard = await openGuardSession(provided)
    if (!guard) throw new Error('the guard session did not open')
    try {
      for (let i = 0; i < runs + 10; i++) {
        const warm = i >= 10
        // rig: beforeEach (log offsets) → test → afterEach (alive check, log scan, guard check + restore).
        let offsets = logOffsets(list)
        const tBefore = await timed(() => void (offsets = logOffsets(list)))
        const tBody = await timed(async () => {
          await app.query(TEST_WRITES)
          await app.query(TEST_READS)
        })
        const t0 = performance.now()
        const tAlive = await timed(() => list.filter((x) => x.pid != null && !isAlive(x.pid)))
        const tScan = await timed(() => scanLogs(list, linesWritten(list, offsets), []))
        const tCheck = await timed(async () => {
          const o = await guard.check({ name: 'bench', file: 'bench', failed: false }, new Set())
          if (o.leaks.length === 0) throw new Error('the benchmark test should have leaked')
        })
        const tAfter = performance.now() - t0
        const tNothing = await timed(async () => {
          const o = await guard.check({ name: 'bench', file: 'bench', failed: false }, new Set())
          if (o.leaks.length > 0) throw new Error('the restore left something behind')
        })
        // baseline: the same writes, then one TRUNCATE of every table (on its own connection, like the setup file).
        await app.query(TEST_WRITES)
        const tTruncate = await timed(() => app.query(TRUNCATE))
        // TRUNCATE moved the sequences and tables under the guard's feet only in the way a test would: check it is clean again.
        await guard.check({ name: 'bench', file: 'bench', failed: false }, true)
        if (warm) {
          s.testBody!.push(tBody)
          s.rigBeforeEach!.push(tBefore)
          s.aliveCheck!.push(tAlive)
          s.logScan!.push(tScan)
          s.guardCheckAfterWrites!.push(tCheck)
          s.rigAfterEach!.push(tAfter)
          s.guardCheckNothingWritten!.push(tNothing)
          s.truncateAll!.push(tTruncate)
        }
      }
    } finally {
      await guard.close()
      await app.end()
    }
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, summarize(v)]))
  } finally {
    await env.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function writeResultsMd(section: string): void {
  writeResultsSection(`plugin${SHAPE}`, section)
}

const ms = (x: number): string => `${Math.round(x)} ms`
const ms1 = (x: number): string => `${x.toFixed(1)} ms`
const row = (label: string, s: Summary, f = ms): string => `| ${label} | ${f(s.median)} | ${f(s.p90)} | ${f(s.min)} | ${f(s.max)} | ${s.n} |`
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

async function main(): Promise<void> {
  const runs = Number(args.runs)
  const breakdownRuns = Number(args['breakdown-runs'])
  const loadBefore = os.loadavg()
  const started = performance.now()
  const dir = generateSuite()
  log(`suite: ${dir} (${TESTS} tests, ${TABLES} tables)`)
  const samples: RunSample[] = []
  let leftovers: number[] = []
  try {
    // One warm-up run of each (init cache, Vite's transform cache, page cache), not counted.
    for (const v of ['rig', 'baseline'] as const) {
      const r = await runVitest(dir, v, 0)
      log(`warm-up ${v}: ${ms(r.wallMs)}`)
    }
    // Alternating, and the first of each pair alternating too (ABBA), so load from other work hits both alike.
    for (let i = 1; i <= runs; i++) {
      const order: Variant[] = i % 2 === 1 ? ['rig', 'baseline'] : ['baseline', 'rig']
      for (const v of order) {
        const r = await runVitest(dir, v, i)
        samples.push(r)
        log(`run ${i} ${v}: wall ${ms(r.wallMs)} (environment ${ms(r.envReadyMs)}, before tests ${ms(r.beforeTestsMs)}, tests ${ms(r.testsMs)}, after ${ms(r.afterTestsMs)}; Σ test durations ${ms(sum(r.testDurations))})`)
      }
    }
  } finally {
    leftovers = processesIn(dir)
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    if (!args.keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  log(`breakdown: ${breakdownRuns} iterations…`)
  const parts = await breakdown(breakdownRuns)

  const of = (v: Variant): RunSample[] => samples.filter((r) => r.variant === v)
  const series = (v: Variant) => {
    const rs = of(v)
    return {
      wall: summarize(rs.map((r) => r.wallMs)),
      environmentReady: summarize(rs.map((r) => r.envReadyMs)),
      beforeTests: summarize(rs.map((r) => r.beforeTestsMs)),
      tests: summarize(rs.map((r) => r.testsMs)),
      afterTests: summarize(rs.map((r) => r.afterTestsMs)),
      sumTestDurations: summarize(rs.map((r) => sum(r.testDurations))),
      perTest: summarize(rs.flatMap((r) => r.testDurations)),
      perFileHooks: summarize(rs.flatMap((r) => r.fileHooksMs)),
      perFileSetupImport: summarize(rs.flatMap((r) => r.setupImportMs)),
      perFileCollect: summarize(rs.flatMap((r) => r.collectMs)),
    }
  }
  const rig = series('rig')
  const base = series('baseline')
  const ratio = round(rig.wall.median / base.wall.median, 2)
  // Ratio within each round (the rig and baseline runs next to each other): less sensitive to
  // load that comes and goes than the ratio of medians.
  const paired = Array.from({ length: runs }, (_, i) => (of('rig')[i]?.wallMs ?? Number.NaN) / (of('baseline')[i]?.wallMs ?? Number.NaN))
  const pairedRatio = summarize(paired.map((x) => x * 100))
  // Per-test overhead, three ways: the wall-time difference spread over the tests (an upper
  // bound: it includes per-file and per-run costs), the difference of the summed per-test
  // durations (each includes its beforeEach/afterEach hooks) divided by the test count, and
  // the difference of the per-test medians.
  const overhead = {
    wallDiffMs: round(rig.wall.median - base.wall.median),
    wallDiffPerTestMs: round((rig.wall.median - base.wall.median) / TESTS, 2),
    hookDiffPerTestMs: round((rig.sumTestDurations.median - base.sumTestDurations.median) / TESTS, 2),
    medianTestDiffMs: round(rig.perTest.median - base.perTest.median, 2),
    perFileHooksDiffMs: round(rig.perFileHooks.median - base.perFileHooks.median, 1),
    perFileSetupImportDiffMs: round(rig.perFileSetupImport.median - base.perFileSetupImport.median, 1),
    beforeTestsDiffMs: round(rig.beforeTests.median - base.beforeTests.median),
    afterTestsDiffMs: round(rig.afterTests.median - base.afterTests.median),
  }
  const restoredWith: Record<string, number> = {}
  for (const r of of('rig')) for (const [k, n] of Object.entries(r.restoredWith)) restoredWith[k] = (restoredWith[k] ?? 0) + n

  let gitCommit = ''
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()
  } catch {}
  let pgVersion = ''
  try {
    pgVersion = execFileSync('postgres', ['--version'], { encoding: 'utf8' }).trim().replace(/^.*\) /, '')
  } catch {}
  const result = {
    benchmark: 'plugin',
    date: new Date().toISOString(),
    commit: gitCommit,
    durationS: round((performance.now() - started) / 1000, 1),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? '',
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      postgres: pgVersion,
      loadAvgBefore: loadBefore.map((x) => round(x, 2)),
      loadAvgAfter: os.loadavg().map((x) => round(x, 2)),
    },
    suite: { tests: TESTS, files: FILES, testsPerFile: TESTS_PER_FILE, tables: TABLES, fileParallelism: false, guardMode: 'clean', runsPerVariant: runs, warmupRunsPerVariant: 1 },
    rig,
    baseline: base,
    ratio,
    pairedRatioPercent: pairedRatio,
    overhead,
    restoredWith,
    breakdown: parts,
    leftovers: leftovers.length,
    samples: samples.map((r) => ({ variant: r.variant, wallMs: round(r.wallMs), envReadyMs: r.envReadyMs, beforeTestsMs: round(r.beforeTestsMs), testsMs: round(r.testsMs), afterTestsMs: round(r.afterTestsMs), sumTestDurationsMs: round(sum(r.testDurations)) })),
  }
  const b = parts
  const section = `
## Vitest plugin (\`bench/plugin.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${gitCommit}\`; ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, PostgreSQL ${pgVersion}; load average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after (other work shares this machine). ${runs} runs per variant, alternating, after one warm-up run each; total ${result.durationS} s.

Suite: ${TESTS} tests in ${FILES} files over a ${TABLES}-table schema (half the tables reference another), created by a one-shot \`command()\` migration; each test inserts 1–3 rows into 1–2 tables and reads them back, cleans nothing, and asserts exact ids (so a cleanup that misses a row or a sequence fails the next test). **rig**: \`plugins: [rig({ guard: { mode: 'clean' } })]\`. **baseline**: plain Vitest, a globalSetup starting the same environment with \`startEnvironment\`, and an \`afterEach\` running one \`TRUNCATE <20 tables> RESTART IDENTITY CASCADE\`. Both with \`fileParallelism: false\` (what the plugin's default \`isolation: 'shared'\` sets), Vitest's default pool and isolation, the default reporter. Wall time is \`vitest run\` from spawn to exit.

| \`vitest run\`, ${TESTS} tests | median | p90 | min | max | n |
|---|---|---|---|---|---|
${row('**rig** wall time', rig.wall)}
${row('**baseline** (TRUNCATE-all afterEach) wall time', base.wall)}
${row('rig: spawn → first test file starts', rig.beforeTests)}
${row('baseline: spawn → first test file starts', base.beforeTests)}
${row('rig: first file starts → run ends', rig.tests)}
${row('baseline: first file starts → run ends', base.tests)}
${row('rig: run ends → exit', rig.afterTests)}
${row('baseline: run ends → exit', base.afterTests)}
${row('rig: environment ready', rig.environmentReady)}
${row('baseline: environment ready', base.environmentReady)}

**Ratio rig / baseline (median wall times): ${ratio}×** (${overhead.wallDiffMs >= 0 ? '+' : ''}${ms(overhead.wallDiffMs)}, i.e. ${overhead.wallDiffPerTestMs} ms per test if all of it is charged to the tests). Ratio within each round (rig and baseline run back to back): median ${round(pairedRatio.median / 100, 2)}×, min ${round(pairedRatio.min / 100, 2)}×, max ${round(pairedRatio.max / 100, 2)}×.

Per test and per file (pooled over all runs; a test's duration includes its beforeEach/afterEach hooks):

| | rig median | baseline median | difference |
|---|---|---|---|
| one test (hooks included) | ${ms1(rig.perTest.median)} | ${ms1(base.perTest.median)} | ${ms1(overhead.medianTestDiffMs)} |
| Σ of the ${TESTS} tests, per run | ${ms(rig.sumTestDurations.median)} | ${ms(base.sumTestDurations.median)} | ${ms1(overhead.hookDiffPerTestMs)} per test |
| per file: beforeAll/afterAll hooks | ${ms1(rig.perFileHooks.median)} | ${ms1(base.perFileHooks.median)} | ${ms1(overhead.perFileHooksDiffMs)} |
| per file: importing the setup files | ${ms1(rig.perFileSetupImport.median)} | ${ms1(base.perFileSetupImport.median)} | ${ms1(overhead.perFileSetupImportDiffMs)} |
| per file: importing the test file | ${ms1(rig.perFileCollect.median)} | ${ms1(base.perFileCollect.median)} | ${ms1(rig.perFileCollect.median - base.perFileCollect.median)} |

The guard restored with: ${Object.entries(restoredWith).map(([k, n]) => `\`${k}\` ${n}×`).join(', ')} (over ${of('rig').length} runs).

Each hook's work measured alone (${breakdownRuns} iterations in one process, same schema, the plugin's own worker-side functions; medians, p90 in brackets):

| step | median | p90 |
|---|---|---|
| the test body (2 inserts + 2 selects) | ${ms1(b.testBody!.median)} | ${ms1(b.testBody!.p90)} |
| rig \`beforeEach\`: note log offsets | ${ms1(b.rigBeforeEach!.median)} | ${ms1(b.rigBeforeEach!.p90)} |
| rig \`afterEach\`, total | ${ms1(b.rigAfterEach!.median)} | ${ms1(b.rigAfterEach!.p90)} |
| · services alive (pid check) | ${ms1(b.aliveCheck!.median)} | ${ms1(b.aliveCheck!.p90)} |
| · log scan | ${ms1(b.logScan!.median)} | ${ms1(b.logScan!.p90)} |
| · guard check + restore (4 rows in 2 tables) | ${ms1(b.guardCheckAfterWrites!.median)} | ${ms1(b.guardCheckAfterWrites!.p90)} |
| guard check when nothing was written | ${ms1(b.guardCheckNothingWritten!.median)} | ${ms1(b.guardCheckNothingWritten!.p90)} |
| baseline \`afterEach\`: TRUNCATE 20 tables | ${ms1(b.truncateAll!.median)} | ${ms1(b.truncateAll!.p90)} |
| rig per file: open the guard session (catalog, baseline) | ${ms1(b.openGuardSession!.median)} | ${ms1(b.openGuardSession!.p90)} |
| rig per file: close it | ${ms1(b.closeGuardSession!.median)} | ${ms1(b.closeGuardSession!.p90)} |
`
  if (!args['no-write']) {
    const RESULTS_JSON = path.join(BENCH_DIR, 'results', `plugin${SHAPE}.json`)
    fs.mkdirSync(path.dirname(RESULTS_JSON), { recursive: true })
    fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
    writeResultsMd(section)
  }
  process.stdout.write(section)
  log(`leftover processes: ${leftovers.length}`)
  if (leftovers.length > 0) process.exitCode = 3
}

await main()
