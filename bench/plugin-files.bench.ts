// Per-file cost of the Vitest plugin: a suite of many small files (100 × 2 tests by default,
// where per-file costs show) run through the plugin and under plain Vitest with a hand-written
// TRUNCATE-all afterEach, on bench/plugin-suite.ts's 20-table schema and again with 50 more
// seeded tables no test touches (what the guard's baseline copies), all in the same run; with
// `--before DIR`, the plugin of another checkout (e.g. a worktree of an older commit, with its
// node_modules) runs next to them on the same suite; `plain` (plain Vitest, no reset at all:
// bench/plugin-suite.ts's plainTestFile) is the floor both are measured against. With
// `--runner jest,node-test`, the same suite through rig's Jest and node:test adapters instead,
// against the same runner with a TRUNCATE-all afterEach (and `--before`'s adapters). With
// `--packed`, every suite installs testrig as users do (each checkout built and packed by its
// scripts/build.ts, the tarball unpacked into the suite's node_modules: compiled JavaScript)
// instead of linking the checkout's TypeScript sources.
//
//   node_modules/.bin/node bench/plugin-files.bench.ts [--runs 3] [--files 100 --tests-per-file 2]
//     [--seeded 0,50] [--before DIR] [--packed] [--warmup 1] [--no-plain] [--no-write] [--keep] [--runner vitest|jest,node-test]
//
// Writes bench/results/plugin-files.json and the plugin-files section of bench/RESULTS.md
// (Vitest), or bench/results/adapter-files.json and the adapter-files section (Jest, node:test).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FILES, generateSuite, setShape, TABLES, TESTS, TESTS_PER_FILE } from './plugin-suite.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'
import { processesIn, runVitest, type RunSample } from './lib/vitest-run.ts'
import { runAdapter, type AdapterRunner, type AdapterSample } from './lib/adapter-run.ts'
import { packedPackage } from './lib/packed.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    files: { type: 'string', default: '100' },
    'tests-per-file': { type: 'string', default: '2' },
    seeded: { type: 'string', default: '0,50' },
    before: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'no-plain': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    runner: { type: 'string', default: 'vitest' },
    packed: { type: 'boolean', default: false },
    /** The commit `--before`'s tree is, when it is not a git checkout (e.g. a git archive export). */
    'before-commit': { type: 'string' },
  },
})

/** With `--packed`: this checkout's and `--before`'s package, built and unpacked once for every suite. */
const installed: { rig?: string; before?: string } = {}
if (args.packed) {
  installed.rig = packedPackage(REPO)
  if (args.before) installed.before = packedPackage(path.resolve(args.before))
  process.on('exit', () => {
    for (const d of Object.values(installed)) fs.rmSync(path.dirname(d), { recursive: true, force: true })
  })
}
/** A suite of the current shape for this checkout (`before`: `--before`'s), linked to its sources or with its package installed. */
/** How the suites get testrig, for the results. */
const HOW_INSTALLED = args.packed ? 'testrig installed from its packed tarball, each checkout built by its scripts/build.ts: compiled JavaScript' : "testrig linked to the checkout's TypeScript sources"
const suiteFor = (before = false): string => (before ? generateSuite(undefined, path.resolve(args.before ?? ''), installed.before) : generateSuite(undefined, REPO, installed.rig))

type Variant = 'rig' | 'before' | 'baseline' | 'plain'
/** The Vitest config each variant runs (vitest.<config>.config.ts). */
const configOf = (v: Variant): string => (v === 'before' ? 'rig' : v)
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
const ms = (x: number): string => `${Math.round(x)} ms`
const ms1 = (x: number): string => `${x.toFixed(1)} ms`

const gitCommit = (dir: string): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}

/** Figures of one variant in one scenario. */
interface Series {
  wall: Summary
  /** The tests phase (first file starts → run ends) over the number of files: a file's whole cost, worker start included. */
  perFileTestsPhase: Summary
  perFileHooks: Summary
  perFileSetupImport: Summary
  perFileCollect: Summary
  /** Per file: hooks + setup import + collection, summed per file, then the median. */
  perFile: Summary
  perTest: Summary
  restoredWith: Record<string, number>
}

function seriesOf(rs: RunSample<Variant>[]): Series {
  const restoredWith: Record<string, number> = {}
  for (const r of rs) for (const [k, n] of Object.entries(r.restoredWith)) restoredWith[k] = (restoredWith[k] ?? 0) + n
  return {
    wall: summarize(rs.map((r) => r.wallMs)),
    perFileTestsPhase: summarize(rs.map((r) => r.testsMs / FILES)),
    perFileHooks: summarize(rs.flatMap((r) => r.fileHooksMs)),
    perFileSetupImport: summarize(rs.flatMap((r) => r.setupImportMs)),
    perFileCollect: summarize(rs.flatMap((r) => r.collectMs)),
    perFile: summarize(rs.flatMap((r) => r.fileHooksMs.map((h, i) => h + (r.setupImportMs[i] ?? 0) + (r.collectMs[i] ?? 0)))),
    perTest: summarize(rs.flatMap((r) => r.testDurations)),
    restoredWith,
  }
}

/** Runs every variant `runs` times on a suite with `seeded` untouched seeded tables; the order rotates each round. */
async function scenario(seeded: number, runs: number, variants: Variant[]): Promise<{ seeded: number; series: Partial<Record<Variant, Series>>; paired: Partial<Record<Variant, Summary>>; leftovers: number }> {
  setShape(Number(args.files), Number(args['tests-per-file']), seeded)
  const dirs: Partial<Record<Variant, string>> = {}
  dirs.rig = suiteFor()
  dirs.baseline = dirs.rig
  dirs.plain = dirs.rig
  if (variants.includes('before')) dirs.before = suiteFor(true)
  log(`suite: ${FILES} files × ${TESTS_PER_FILE} tests, ${TABLES} tables + ${seeded} seeded (${dirs.rig}${dirs.before ? `, before: ${dirs.before}` : ''})`)
  const samples: RunSample<Variant>[] = []
  let leftovers = 0
  try {
    // Warm-up runs (init cache, Vite's transform cache, page cache), not counted.
    for (const v of Number(args.warmup) > 0 ? variants : []) {
      const r = await runVitest(dirs[v] as string, v, configOf(v), 0, TESTS)
      log(`  warm-up ${v}: ${ms(r.wallMs)}`)
    }
    for (let i = 1; i <= runs; i++) {
      const order = variants.map((_, k) => variants[(k + i) % variants.length] as Variant)
      for (const v of order) {
        const r = await runVitest(dirs[v] as string, v, configOf(v), i, TESTS)
        samples.push(r)
        log(`  run ${i} ${v}: wall ${ms(r.wallMs)}; per file: hooks ${ms1(summarize(r.fileHooksMs).median)}, setup ${ms1(summarize(r.setupImportMs).median)}, collect ${ms1(summarize(r.collectMs).median)}`)
      }
    }
  } finally {
    for (const d of new Set(Object.values(dirs))) {
      const pids = processesIn(d)
      leftovers += pids.length
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
      }
      if (!args.keep) fs.rmSync(d, { recursive: true, force: true })
    }
  }
  const of = (v: Variant): RunSample<Variant>[] => samples.filter((r) => r.variant === v)
  const series: Partial<Record<Variant, Series>> = {}
  const paired: Partial<Record<Variant, Summary>> = {}
  for (const v of variants) {
    series[v] = seriesOf(of(v))
    // Ratio to the baseline run of the same round: less sensitive to load that comes and goes.
    if (v !== 'baseline') paired[v] = summarize(of(v).map((r, i) => r.wallMs / (of('baseline')[i]?.wallMs ?? Number.NaN)))
  }
  return { seeded, series, paired, leftovers }
}

/** What every result file of this bench starts with: name, date, commits, duration, machine and load. */
function resultHead(benchmark: string, started: number, loadBefore: number[]) {
  const loadAfter = os.loadavg()
  const commit = gitCommit(REPO)
  const beforeCommit = args.before ? args['before-commit'] || gitCommit(args.before) : undefined
  return {
    benchmark,
    date: new Date().toISOString(),
    commit,
    ...(beforeCommit !== undefined ? { beforeCommit } : {}),
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? '', node: process.version, loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: loadAfter.map((x) => round(x, 2)) },
  }
}

async function main(): Promise<void> {
  const runs = Number(args.runs)
  const variants: Variant[] = [...(args.before ? (['rig', 'before', 'baseline'] as const) : (['rig', 'baseline'] as const)), ...(args['no-plain'] ? [] : (['plain'] as const))]
  const loadBefore = os.loadavg()
  const started = performance.now()
  const scenarios = []
  for (const seeded of args.seeded.split(',').map(Number)) scenarios.push(await scenario(seeded, runs, variants))
  const head = resultHead('plugin-files', started, loadBefore)
  const { commit, beforeCommit } = head
  const result = {
    ...head,
    suite: { files: FILES, testsPerFile: TESTS_PER_FILE, tables: TABLES, fileParallelism: false, guardMode: 'clean', runsPerVariant: runs, testrig: args.packed ? 'packed' : 'sources' },
    scenarios: scenarios.map((s) => ({
      seededTables: s.seeded,
      ...s.series,
      ratioToBaseline: Object.fromEntries(variants.filter((v) => v !== 'baseline').map((v) => [v, round((s.series[v]?.wall.median ?? Number.NaN) / (s.series.baseline?.wall.median ?? Number.NaN), 2)])),
      pairedRatio: s.paired,
      perFileOverheadMs: Object.fromEntries(variants.filter((v) => v !== 'baseline').map((v) => [v, round((s.series[v]?.perFile.median ?? Number.NaN) - (s.series.baseline?.perFile.median ?? Number.NaN), 1)])),
      perFileOverPlainMs: s.series.plain ? Object.fromEntries(variants.filter((v) => v !== 'plain').map((v) => [v, round((s.series[v]?.perFile.median ?? Number.NaN) - (s.series.plain?.perFile.median ?? Number.NaN), 1)])) : undefined,
      leftovers: s.leftovers,
    })),
  }
  const label: Record<Variant, string> = { rig: `**rig** (\`${commit}\`)`, before: `rig before (\`${beforeCommit}\`)`, baseline: 'baseline (TRUNCATE-all afterEach)', plain: 'plain Vitest (no reset)' }
  const tables = result.scenarios.map((s) => {
    const rows = variants.map((v) => {
      const x = s[v] as Series
      const ratio = v === 'baseline' ? '1' : `${s.ratioToBaseline[v]}× (paired ${round(s.pairedRatio[v]?.median ?? Number.NaN, 2)}×)`
      const over = v === 'baseline' ? '—' : ms1(s.perFileOverheadMs[v] ?? Number.NaN)
      const overPlain = !s.perFileOverPlainMs ? '' : v === 'plain' ? ' — |' : ` ${ms1(s.perFileOverPlainMs[v] ?? Number.NaN)} |`
      return `| ${label[v]} | ${ms(x.wall.median)} | ${ratio} | ${ms1(x.perFileTestsPhase.median)} | ${ms1(x.perFileHooks.median)} | ${ms1(x.perFileSetupImport.median)} | ${ms1(x.perFileCollect.median)} | ${ms1(x.perFile.median)} | ${over} |${overPlain} ${ms1(x.perTest.median)} |`
    })
    const restored = Object.entries((s.rig as Series).restoredWith).map(([k, n]) => `\`${k}\` ${n}×`).join(', ')
    return `**${s.seededTables === 0 ? `${TABLES} tables, none seeded` : `${TABLES} tables + ${s.seededTables} seeded tables no test touches (20 rows each)`}**

| variant | wall (median) | / baseline | tests phase / files | per file: hooks | setup import | test import | per file, all three | above baseline |${s.perFileOverPlainMs ? ' above plain |' : ''} per test |
|---|---|---|---|---|---|---|---|---|${s.perFileOverPlainMs ? '---|' : ''}---|
${rows.join('\n')}

rig restored with: ${restored || 'nothing'}.`
  })
  const section = `
## Vitest plugin, per test file (\`bench/plugin-files.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${commit}\`${beforeCommit ? ` against \`${beforeCommit}\`` : ''}; ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}; load average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after (other work shares this machine: read ratios, not times). ${runs} runs per variant after ${Number(args.warmup) > 0 ? 'one warm-up each' : 'no warm-up'}, the order rotating every round; total ${result.durationS} s.

Suite (${HOW_INSTALLED}): ${FILES * TESTS_PER_FILE} tests in ${FILES} files of ${TESTS_PER_FILE} (bench/plugin-suite.ts: each test inserts 1–3 rows into 1–2 of ${TABLES} tables, reads them back, asserts exact ids). **rig**: \`plugins: [rig({ guard: { mode: 'clean' } })]\`; **baseline**: plain Vitest, the same environment started in a globalSetup, an \`afterEach\` TRUNCATE of the ${TABLES} tables. Both \`fileParallelism: false\`, Vitest's default pool and \`isolate: true\` (a fresh worker per file). Per file: hooks = the file's duration minus its tests' (beforeAll/afterAll), setup import = the setup files, test import = the test file (Vitest's per-module figures); "above baseline" is the per-file median of the three summed, minus the baseline's (and "above plain", minus plain Vitest's). **plain**: plain Vitest, the same environment and globalSetup, no setup file and no reset at all (its tests read back their own rows by name, since earlier tests' rows stay). "Tests phase / files": first file's start → run end, over the number of files (a file's whole cost, Vitest's worker start included).

${tables.join('\n\n')}
`
  if (!args['no-write']) {
    fs.writeFileSync(path.join(BENCH_DIR, 'results', 'plugin-files.json'), `${JSON.stringify(result, null, 2)}\n`)
    writeResultsSection('plugin-files', section)
  }
  process.stdout.write(section)
  const leftovers = sum(scenarios.map((s) => s.leftovers))
  log(`leftover processes: ${leftovers}`)
  if (leftovers > 0) process.exitCode = 3
}

/** Figures of one adapter variant. */
interface AdapterSeries {
  wall: Summary
  tests: Summary
  /** The tests phase over the number of files (per run), then the median. */
  perFile: Summary
  restoredWith: Record<string, number>
}

/** The same suite through rig's Jest and node:test adapters, in rotating order, against the runner with a TRUNCATE-all afterEach. */
async function adapterMain(runners: AdapterRunner[]): Promise<void> {
  const runs = Number(args.runs)
  const variants: Variant[] = args.before ? ['rig', 'before', 'baseline'] : ['rig', 'baseline']
  const seededList = args.seeded.split(',').map(Number)
  const loadBefore = os.loadavg()
  const started = performance.now()
  const results: { runner: AdapterRunner; seeded: number; series: Partial<Record<Variant, AdapterSeries>>; pairedPerFileOverMs: Partial<Record<Variant, Summary>>; leftovers: number }[] = []
  for (const seeded of seededList) {
    setShape(Number(args.files), Number(args['tests-per-file']), seeded)
    const dirs: Partial<Record<Variant, string>> = {}
    dirs.rig = suiteFor()
    dirs.baseline = dirs.rig
    if (variants.includes('before')) dirs.before = suiteFor(true)
    log(`suite: ${FILES} files × ${TESTS_PER_FILE} tests, ${TABLES} tables + ${seeded} seeded (${dirs.rig}${dirs.before ? `, before: ${dirs.before}` : ''})`)
    try {
      for (const runner of runners) {
        const samples: AdapterSample<Variant>[] = []
        for (const v of Number(args.warmup) > 0 ? variants : []) {
          const r = await runAdapter(runner, dirs[v] as string, v, v === 'baseline' ? 'baseline' : 'rig', 0, TESTS)
          log(`  ${runner} warm-up ${v}: ${ms(r.wallMs)}`)
        }
        for (let i = 1; i <= runs; i++) {
          const order = variants.map((_, k) => variants[(k + i) % variants.length] as Variant)
          for (const v of order) {
            const r = await runAdapter(runner, dirs[v] as string, v, v === 'baseline' ? 'baseline' : 'rig', i, TESTS)
            samples.push(r)
            log(`  ${runner} run ${i} ${v}: wall ${ms(r.wallMs)}, tests ${ms(r.testsMs)} (${ms1(r.testsMs / FILES)} per file)`)
          }
        }
        const of = (v: Variant): AdapterSample<Variant>[] => samples.filter((r) => r.variant === v)
        const series: Partial<Record<Variant, AdapterSeries>> = {}
        const pairedPerFileOverMs: Partial<Record<Variant, Summary>> = {}
        for (const v of variants) {
          const rs = of(v)
          const restoredWith: Record<string, number> = {}
          for (const r of rs) for (const [k, n] of Object.entries(r.restoredWith)) restoredWith[k] = (restoredWith[k] ?? 0) + n
          series[v] = { wall: summarize(rs.map((r) => r.wallMs)), tests: summarize(rs.map((r) => r.testsMs)), perFile: summarize(rs.map((r) => r.testsMs / FILES)), restoredWith }
          // Per file above the baseline run of the same round: less sensitive to load that comes and goes.
          if (v !== 'baseline') pairedPerFileOverMs[v] = summarize(rs.map((r, i) => (r.testsMs - (of('baseline')[i]?.testsMs ?? Number.NaN)) / FILES))
        }
        results.push({ runner, seeded, series, pairedPerFileOverMs, leftovers: 0 })
      }
    } finally {
      let leftovers = 0
      for (const d of new Set(Object.values(dirs))) {
        const pids = processesIn(d)
        leftovers += pids.length
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {}
        }
        if (!args.keep) fs.rmSync(d, { recursive: true, force: true })
      }
      for (const r of results.filter((x) => x.seeded === seeded)) r.leftovers = leftovers
    }
  }
  const head = resultHead('adapter-files', started, loadBefore)
  const { commit, beforeCommit } = head
  const result = {
    ...head,
    suite: { files: FILES, testsPerFile: TESTS_PER_FILE, tables: TABLES, filesAtOnce: 1, guardMode: 'clean', runsPerVariant: runs, testrig: args.packed ? 'packed' : 'sources' },
    scenarios: results.map((s) => ({
      runner: s.runner,
      seededTables: s.seeded,
      ...s.series,
      ratioToBaseline: Object.fromEntries(variants.filter((v) => v !== 'baseline').map((v) => [v, round((s.series[v]?.tests.median ?? Number.NaN) / (s.series.baseline?.tests.median ?? Number.NaN), 2)])),
      perFileOverheadMs: Object.fromEntries(variants.filter((v) => v !== 'baseline').map((v) => [v, round((s.series[v]?.perFile.median ?? Number.NaN) - (s.series.baseline?.perFile.median ?? Number.NaN), 1)])),
      pairedPerFileOverheadMs: s.pairedPerFileOverMs,
      leftovers: s.leftovers,
    })),
  }
  const label: Record<Variant, string> = { rig: `**rig** (\`${commit}\`, guard host)`, before: `rig before (\`${beforeCommit}\`, guard per file)`, baseline: 'baseline (TRUNCATE-all afterEach)', plain: 'plain (no reset)' }
  const runnerName: Record<AdapterRunner, string> = { jest: 'Jest (`rig.preset()`, `maxWorkers: 1`: in band)', 'node-test': 'node:test (`--test-concurrency=1`, a process per file)' }
  const tables = result.scenarios.map((s) => {
    const rows = variants.map((v) => {
      const x = s[v] as AdapterSeries
      const ratio = v === 'baseline' ? '1' : `${s.ratioToBaseline[v]}×`
      const over = v === 'baseline' ? '—' : `${ms1(s.perFileOverheadMs[v] ?? Number.NaN)} (paired ${ms1(s.pairedPerFileOverheadMs[v]?.median ?? Number.NaN)})`
      return `| ${label[v]} | ${ms(x.wall.median)} | ${ms(x.tests.median)} | ${ratio} | ${ms1(x.perFile.median)} | ${over} |`
    })
    const restored = Object.entries((s.rig as AdapterSeries).restoredWith).map(([k, n]) => `\`${k}\` ${n}×`).join(', ')
    return `**${runnerName[s.runner]}, ${s.seededTables === 0 ? `${TABLES} tables, none seeded` : `${TABLES} tables + ${s.seededTables} seeded tables no test touches`}**

| variant | wall (median) | tests phase | / baseline | per file | above baseline, per file |
|---|---|---|---|---|---|
${rows.join('\n')}

rig restored with: ${restored || 'nothing'}.`
  })
  const section = `
## Adapters, per test file (\`bench/plugin-files.bench.ts --runner ${runners.join(',')}\`)

${result.date.slice(0, 10)}, commit \`${commit}\`${beforeCommit ? ` against \`${beforeCommit}\`` : ''}; ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}; load average ${result.machine.loadAvgBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after (read ratios and same-round differences, not times). ${runs} runs per variant after ${Number(args.warmup) > 0 ? 'one warm-up each' : 'no warm-up'}, the order rotating every round; total ${result.durationS} s.

Suite (${HOW_INSTALLED}): ${FILES * TESTS_PER_FILE} tests in ${FILES} files of ${TESTS_PER_FILE} (bench/plugin-suite.ts, the Vitest benchmark's tests in each runner's dialect), files one at a time. **rig**: the adapter with \`guard: { mode: 'clean' }\`; **baseline**: the same runner, the same environment started in its global setup, an \`afterEach\` TRUNCATE of the ${TABLES} tables${beforeCommit ? `; **before**: the adapter of \`${beforeCommit}\` on the same suite` : ''}. Tests phase: Jest's run start → run complete (its reporter: after the global setup, before the teardown); node:test's global setup end → global teardown start. Per file = tests phase / ${FILES} (a file's 2 tests included); "above baseline" = the difference of the medians (paired: the median of the same round's differences).

${tables.join('\n\n')}
`
  if (!args['no-write']) {
    fs.writeFileSync(path.join(BENCH_DIR, 'results', 'adapter-files.json'), `${JSON.stringify(result, null, 2)}\n`)
    writeResultsSection('adapter-files', section)
  }
  process.stdout.write(section)
  const leftovers = sum([...new Map(results.map((r) => [r.seeded, r.leftovers])).values()])
  log(`leftover processes: ${leftovers}`)
  if (leftovers > 0) process.exitCode = 3
}

const runners = args.runner.split(',').filter(Boolean)
if (runners.some((r) => !['vitest', 'jest', 'node-test'].includes(r)) || (runners.includes('vitest') && runners.length > 1)) {
  throw new Error(`--runner: vitest, or jest and/or node-test (comma-separated), got ${JSON.stringify(args.runner)}`)
}
if (runners[0] === 'vitest') await main()
else await adapterMain(runners as AdapterRunner[])
