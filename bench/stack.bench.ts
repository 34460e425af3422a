// The car-sharing example's suite (examples/carshare: 5 files, 11 tests through the API and the
// billing worker) run as users run it, with its files one at a time (`isolation: 'shared'`,
// its vitest.config.ts's default) and in parallel with each Vitest worker on its own copies of the database,
// the queue and the app's processes (`isolation: 'stack'`, CARSHARE_ISOLATION=stack) on 1, 2 and
// 4 workers. The variants alternate within each round, so load from elsewhere hits them alike.
// Figures: the wall time of `vitest run` (environment, copies, tests, teardown) and its tests
// phase (first file starts → run ends), medians over rounds, ratios to `shared` of the same run.
//
//   node_modules/.bin/node bench/stack.bench.ts [--rounds 3] [--queue redis|rabbitmq|postgres] [--no-write]
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
const EXAMPLE = path.join(REPO, 'examples', 'carshare')
const VITEST = path.join(REPO, 'node_modules', 'vitest', 'vitest.mjs')

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, queue: { type: 'string', default: 'redis' }, 'no-write': { type: 'boolean', default: false } } })
const VARIANTS = { shared: 0, 'stack-1': 1, 'stack-2': 2, 'stack-4': 4 } as const
type Variant = keyof typeof VARIANTS

// A reporter of the tests phase, loaded from outside the example (nothing is written into it).
const TIMING = `import fs from 'node:fs'
const now = () => performance.timeOrigin + performance.now()
const out = { firstModule: 0, runEnd: 0, failed: 0, tests: 0 }
export default class { onTestModuleStart() { if (!out.firstModule) out.firstModule = now() }
  onTestCaseResult(t) { out.tests++; if (t.result().state === 'failed') out.failed++ }
  onTestRunEnd() { out.runEnd = now(); fs.writeFileSync(process.env.BENCH_TIMING_FILE, JSON.stringify(out)) } }
`

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-stack-bench-'))
// PostgreSQL runs as an unprivileged user when we are root: it must traverse rig's temp dir.
fs.chmodSync(scratch, 0o755)
const reporter = path.join(scratch, 'timing-reporter.mjs')
fs.writeFileSync(reporter, TIMING)

interface Sample {
  wallMs: number
  testsMs: number
}

/** Runs that failed and were run again (a loaded machine can time a guard connection out). */
const retried: string[] = []

/** One `vitest run` of the example, run again (at most twice) if it did not pass; throws with its output's tail the third time. */
function run(v: Variant, i: number): Sample {
  for (let attempt = 1; ; attempt++) {
    try {
      return runOnce(v, i)
    } catch (err) {
      if (attempt === 3) throw err
      retried.push(`${v} round ${i + 1}: ${(err as Error).message.split('\n').find((l) => /Error:/.test(l))?.trim() ?? 'failed'}`)
      process.stderr.write(`${v} round ${i + 1} failed, again\n`)
    }
  }
}

function runOnce(v: Variant, i: number): Sample {
  const timing = path.join(scratch, `timing-${v}-${i}.json`)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|RIG_|CARSHARE_)/.test(k)))
  const t0 = performance.now()
  const workers = VARIANTS[v]
  const r = spawnSync(process.execPath, [VITEST, 'run', ...(workers ? [`--maxWorkers=${workers}`] : []), '--reporter=dot', `--reporter=${reporter}`], {
    cwd: EXAMPLE,
    env: { ...env, CI: 'true', NO_COLOR: '1', CARSHARE_ISOLATION: workers ? 'stack' : 'shared', BENCH_TIMING_FILE: timing, RIG_TMP_DIR: path.join(scratch, 'tmp'), CARSHARE_QUEUE: args.queue, CARSHARE_REPORT_DIR: path.join(scratch, `report-${v}`) },
    encoding: 'utf8',
    timeout: 600_000,
  })
  const wallMs = performance.now() - t0
  const t = fs.existsSync(timing) ? (JSON.parse(fs.readFileSync(timing, 'utf8')) as { firstModule: number; runEnd: number; failed: number; tests: number }) : undefined
  if (r.status !== 0 || !t || t.failed > 0) throw new Error(`${v} run ${i} failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`)
  return { wallMs, testsMs: t.runEnd - t.firstModule }
}

const loadBefore = os.loadavg().map((x) => round(x, 2))
const samples = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, [] as Sample[]])) as Record<Variant, Sample[]>
try {
  for (let i = 0; i < Number(args.rounds); i++) {
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const s = run(v, i)
      samples[v].push(s)
      process.stderr.write(`round ${i + 1} ${v}: ${Math.round(s.wallMs)} ms (tests ${Math.round(s.testsMs)} ms), load ${os.loadavg()[0]?.toFixed(1)}\n`)
    }
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true })
}
const loadAfter = os.loadavg().map((x) => round(x, 2))
const wall = (v: Variant): number => median(samples[v].map((s) => s.wallMs))
const tests = (v: Variant): number => median(samples[v].map((s) => s.testsMs))
const rows = (Object.keys(VARIANTS) as Variant[]).map((v) => ({
  variant: v,
  workers: VARIANTS[v] || 1,
  wallMs: round(wall(v), 0),
  wallRatio: round(wall(v) / wall('shared'), 2),
  testsMs: round(tests(v), 0),
  testsRatio: round(tests(v) / tests('shared'), 2),
  samples: samples[v].map((s) => ({ wallMs: round(s.wallMs, 0), testsMs: round(s.testsMs, 0) })),
}))
const result = { date: new Date().toISOString(), suite: 'examples/carshare', queue: args.queue, rounds: Number(args.rounds), cpus: os.cpus().length, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter, retried, rows }
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
if (!args['no-write']) {
  fs.writeFileSync(path.join(BENCH_DIR, 'results', 'stack.json'), JSON.stringify(result, null, 2) + '\n')
  const table = rows.map((r) => `| ${r.variant} | ${r.workers} | ${r.wallMs} | ${r.wallRatio}× | ${r.testsMs} | ${r.testsRatio}× |`).join('\n')
  writeResultsSection(
    'stack',
    `## Parallel workers through the app's own processes (bench/stack.bench.ts)

The car-sharing example's suite (examples/carshare, billing queue on ${args.queue}), files one at a time (\`shared\`) and in parallel with \`isolation: 'stack'\` (each worker its own database clone, queue copy, api, billing and legacy). Medians over ${result.rounds} alternating rounds, ${result.date.slice(0, 16)} UTC, ${result.cpus} cores, load average ${loadBefore.join(' / ')} before, ${loadAfter.join(' / ')} after.

| variant | workers | \`vitest run\` (ms) | vs shared | tests phase (ms) | vs shared |
|---|---|---|---|---|---|
${table}

\`vitest run\`: the whole command (environment, the workers' copies, tests, teardown); tests phase: first file starts → run ends.${retried.length ? ` Runs that failed and were run again: ${retried.join('; ')}.` : ''}`,
  )
}
