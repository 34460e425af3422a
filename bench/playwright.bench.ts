// Benchmark of testrig/playwright: the per-test overhead of rig's fixtures (browser error
// collection and the drain before the check, the dead-service check, the service-log scan, the
// guard's check of a PostgreSQL database) against plain Playwright Test, on the same 50
// browser tests in Debian's Chromium, in the same run. Both variants run against one
// environment `rig up --detach` started (PostgreSQL and the test site over it), so neither
// pays for starting it; the rig variant attaches to it. After one warm-up run of each, the
// rounds alternate which variant goes first; each round gives a ratio of its own (a shared
// machine's load drifts between rounds more than the two variants differ). Inside the rig runs,
// a reporter also times rig's own fixtures per test (its checks' setup and teardown, the browser
// drain): the overhead measured directly, free of that drift.
//
//   node_modules/.bin/node bench/playwright.bench.ts [--runs 6] [--tests 50] [--no-write] [--keep]
//
// Writes bench/results/playwright.json and the Playwright section of bench/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')
const NODE = process.execPath
const PLAYWRIGHT = path.join(REPO, 'node_modules/@playwright/test/cli.js')
const RIG = path.join(REPO, 'bin/rig.ts')

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '6' },
    tests: { type: 'string', default: '50' },
    'no-write': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
})
const RUNS = Number(args.runs)
const TESTS = Number(args.tests)
type Variant = 'rig' | 'plain'
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const CONFIG = `import { defineConfig, postgres, command, http } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    web: command({ run: [process.execPath, 'site.mjs'], dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url, PORT: '{port}' }), ready: http('/') }),
  },
})
`

/** The same tests for both variants; only where `test` comes from differs. */
function suite(from: string): string {
  const tests = Array.from({ length: TESTS }, (_, i) => `test('page ${i + 1}', async ({ page }) => {\n  await page.goto('/')\n  await expect(page.locator('h1')).toHaveText('ok')\n})\n`)
  return `import { test, expect } from '${from}'\n\n${tests.join('\n')}`
}

function playwrightConfig(variant: Variant): string {
  const use = `{ baseURL: process.env.RIG_WEB_URL, launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS } }`
  const base = `{ testDir: 'e2e-${variant}', workers: 1, timeout: 120_000, reporter: [['json', { outputFile: 'results-${variant}.json' }], ['./steps-reporter.mjs', { outputFile: 'steps-${variant}.json' }]], use: ${use} }`
  return variant === 'rig'
    ? `import { defineConfig } from '@playwright/test'\nimport { withRig, CHROMIUM_ARGS } from 'testrig/playwright'\nexport default defineConfig(withRig(${base}, { report: { enabled: false } }))\n`
    : `import { defineConfig } from '@playwright/test'\nimport { CHROMIUM_ARGS } from 'testrig/playwright'\nexport default defineConfig(${base})\n`
}

/** Per test, the time spent in rig's fixtures (their steps in Before and After Hooks). */
const STEPS_REPORTER = `import fs from 'node:fs'
const RIG = new Set(['Fixture "rig checks"', 'Fixture "rig browser drain"'])
export default class RigStepsReporter {
  constructor(o) { this.file = o.outputFile; this.ms = new Map() }
  onStepEnd(test, _result, step) {
    if (step.category === 'fixture' && RIG.has(step.title)) this.ms.set(test.id, (this.ms.get(test.id) ?? 0) + step.duration)
  }
  onEnd() { fs.writeFileSync(this.file, JSON.stringify([...this.ms.values()])) }
}
`

function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bench-pw-'))
  // PostgreSQL runs as an unprivileged user when we are root: it must traverse the project.
  fs.chmodSync(dir, 0o755)
  fs.mkdirSync(path.join(dir, 'node_modules/@playwright'), { recursive: true })
  fs.symlinkSync(REPO, path.join(dir, 'node_modules/testrig'))
  fs.symlinkSync(path.join(REPO, 'node_modules/@playwright/test'), path.join(dir, 'node_modules/@playwright/test'))
  fs.symlinkSync(path.join(REPO, 'node_modules/pg'), path.join(dir, 'node_modules/pg'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'rig-bench-playwright', type: 'module', private: true }))
  fs.writeFileSync(path.join(dir, 'rig.config.ts'), CONFIG)
  fs.copyFileSync(path.join(REPO, 'test/playwright/site.mjs'), path.join(dir, 'site.mjs'))
  fs.writeFileSync(path.join(dir, 'steps-reporter.mjs'), STEPS_REPORTER)
  for (const v of ['rig', 'plain'] as const) {
    fs.mkdirSync(path.join(dir, `e2e-${v}`))
    fs.writeFileSync(path.join(dir, `e2e-${v}/bench.spec.ts`), suite(v === 'rig' ? 'testrig/playwright' : '@playwright/test'))
    fs.writeFileSync(path.join(dir, `playwright.${v}.config.ts`), playwrightConfig(v))
  }
  return dir
}

interface JsonSuite {
  specs?: { title: string; tests: { results: { duration: number; status: string }[] }[] }[]
  suites?: JsonSuite[]
}

function durations(s: JsonSuite): { title: string; ms: number; status: string }[] {
  const own = (s.specs ?? []).flatMap((spec) => spec.tests.flatMap((t) => t.results.map((r) => ({ title: spec.title, ms: r.duration, status: r.status }))))
  return [...own, ...(s.suites ?? []).flatMap(durations)]
}

/** One `playwright test` of one variant: per-test durations (Playwright's: fixtures and hooks included) and the wall time. */
async function runOnce(dir: string, variant: Variant, env: Record<string, string>): Promise<{ tests: number[]; first: number; wallMs: number; rigMs: number[] }> {
  const t0 = performance.now()
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(NODE, [PLAYWRIGHT, 'test', '-c', `playwright.${variant}.config.ts`], { cwd: dir, env: { ...process.env, ...env, RIG_TMP_DIR: path.join(dir, 'tmp') }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d))
    child.stderr.on('data', (d: Buffer) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${variant} run exited ${code}:\n${out.slice(-3000)}`))))
  })
  const wallMs = performance.now() - t0
  void output
  const results = JSON.parse(fs.readFileSync(path.join(dir, `results-${variant}.json`), 'utf8')) as { suites: JsonSuite[] }
  const all = results.suites.flatMap(durations)
  if (all.length !== TESTS || all.some((t) => t.status !== 'passed')) throw new Error(`${variant}: expected ${TESTS} passed tests, got ${JSON.stringify(all.filter((t) => t.status !== 'passed'))}`)
  // rig's fixtures per test, in test order; nothing for the plain variant.
  const rigMs = JSON.parse(fs.readFileSync(path.join(dir, `steps-${variant}.json`), 'utf8')) as number[]
  if (variant === 'rig' && rigMs.length !== TESTS) throw new Error(`rig: expected the fixtures' steps of ${TESTS} tests, got ${rigMs.length}`)
  // The first test launches the browser (and, with rig, opens the guard's baseline): counted apart.
  return { tests: all.slice(1).map((t) => t.ms), first: all[0]!.ms, wallMs, rigMs: rigMs.slice(1) }
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ')

async function main(): Promise<void> {
  const dir = makeProject()
  const loadBefore = loadavg()
  const started = Date.now()
  const rig = (a: string[]): string => execFileSync(NODE, [RIG, ...a], { cwd: dir, env: { ...process.env, RIG_TMP_DIR: path.join(dir, 'tmp') }, encoding: 'utf8' })
  rig(['up', '--detach'])
  const samples: Record<Variant, { tests: number[]; first: number[]; wall: number[] }> = { rig: { tests: [], first: [], wall: [] }, plain: { tests: [], first: [], wall: [] } }
  const rigFixtures: number[] = []
  const rounds: { order: Variant[]; rig: number; plain: number; ratio: number; rigFixtures: number; load: string }[] = []
  try {
    const status = JSON.parse(rig(['status', '--json'])) as { services: Record<string, { url: string }> }
    const env = { RIG_WEB_URL: status.services.web!.url }
    // Warm-up, not counted: Chromium's files in the page cache, Playwright's compiled config and tests.
    for (const v of ['plain', 'rig'] as const) await runOnce(dir, v, env)
    for (let i = 0; i < RUNS; i++) {
      const medians: Record<Variant, number> = { rig: 0, plain: 0 }
      const order: Variant[] = i % 2 === 0 ? ['plain', 'rig'] : ['rig', 'plain']
      let own = 0
      for (const v of order) {
        const r = await runOnce(dir, v, env)
        samples[v].tests.push(...r.tests)
        samples[v].first.push(r.first)
        samples[v].wall.push(r.wallMs)
        medians[v] = summarize(r.tests).median
        if (v === 'rig') {
          rigFixtures.push(...r.rigMs)
          own = summarize(r.rigMs).median
        }
        log(`run ${i + 1} ${v}: median ${medians[v].toFixed(1)} ms per test, wall ${Math.round(r.wallMs)} ms${v === 'rig' ? `, rig's fixtures ${own} ms` : ''}`)
      }
      rounds.push({ order, rig: medians.rig, plain: medians.plain, ratio: round(medians.rig / medians.plain, 2), rigFixtures: own, load: loadavg() })
    }
  } finally {
    rig(['down'])
    if (!args.keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  const s = (v: Variant): { test: Summary; first: Summary; wall: Summary } => ({ test: summarize(samples[v].tests), first: summarize(samples[v].first), wall: summarize(samples[v].wall) })
  const rigS = s('rig')
  const plainS = s('plain')
  const ratio = rigS.test.median / plainS.test.median
  const roundRatio = median(rounds.map((r) => r.ratio))
  const own = summarize(rigFixtures)
  const result = {
    date: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim(),
    node: process.version,
    chromium: execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim(),
    playwright: (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules/@playwright/test/package.json'), 'utf8')) as { version: string }).version,
    cpus: os.cpus().length,
    load: { before: loadBefore, after: loadavg() },
    runs: RUNS,
    tests: TESTS,
    totalMs: Date.now() - started,
    rig: rigS,
    plain: plainS,
    ratio: round(ratio, 2),
    overheadMs: round(rigS.test.median - plainS.test.median),
    roundRatio: round(roundRatio, 2),
    rounds,
    rigFixtures: own,
    rigFixturesShare: round(own.median / plainS.test.median, 3),
  }
  console.log(JSON.stringify(result, null, 2))
  if (args['no-write']) return
  fs.writeFileSync(path.join(BENCH_DIR, 'results/playwright.json'), JSON.stringify(result, null, 2) + '\n')
  const row = (name: string, x: Summary): string => `| ${name} | ${round(x.median)} ms | ${round(x.p90)} ms | ${round(x.min)} ms | ${round(x.max)} ms | ${x.n} |`
  writeResultsSection(
    'playwright',
    `## Playwright fixtures (\`bench/playwright.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${result.commit}\`; ${result.cpus} CPUs, Node ${result.node}, ${result.chromium}, Playwright ${result.playwright}; load average ${result.load.before} before, ${result.load.after} after (other work shares this machine). One warm-up run per variant, then ${RUNS} rounds of one run per variant, the order rotating every round; total ${(result.totalMs / 1000).toFixed(1)} s.

Suite: ${TESTS} tests in one file, each opens the test site's page in Chromium (\`page.goto('/')\`) and checks its heading, one worker. **rig**: \`test\` from \`testrig/playwright\` in a config wrapped in \`withRig()\`, attached to the environment of \`rig up --detach\` (PostgreSQL, guarded, and the site): after every test the browser drain and verdict, the dead-service check, the log scan, the guard's check. **plain**: the same tests with \`test\` from \`@playwright/test\`, against the same site. A test's duration is Playwright's (its fixtures' setup and teardown included); each run's first test, which launches the browser, is counted apart.

| per test | median | p90 | min | max | n |
|---|---|---|---|---|---|
${row('**rig**', rigS.test)}
${row('**plain** Playwright Test', plainS.test)}
${row('rig: first test (browser launch, baseline)', rigS.first)}
${row('plain: first test (browser launch)', plainS.first)}
${row('rig: wall time of the run', rigS.wall)}
${row('plain: wall time of the run', plainS.wall)}
| rig's own fixtures in the rig runs (\`rig checks\` setup + teardown, \`rig browser drain\`) | ${round(own.median)} ms | ${round(own.p90)} ms | ${round(own.min)} ms | ${round(own.max)} ms | ${own.n} |

| round | order | rig | plain | rig / plain | rig's fixtures | load after |
|---|---|---|---|---|---|---|
${rounds.map((r, i) => `| ${i + 1} | ${r.order.join(' → ')} | ${r.rig} ms | ${r.plain} ms | ${r.ratio.toFixed(2)}× | ${r.rigFixtures} ms | ${r.load} |`).join('\n')}

**Ratio rig / plain: ${result.roundRatio.toFixed(2)}×, the median of the ${RUNS} rounds' own ratios** (pooled medians: ${result.ratio.toFixed(2)}×, ${result.overheadMs >= 0 ? '+' : ''}${result.overheadMs} ms per test). **rig's own fixtures, timed inside the rig runs: ${own.median} ms per test** (median; ${(result.rigFixturesShare * 100).toFixed(1)}% of a plain test's ${plainS.test.median} ms): the browser drain, the dead-service check, the log scan and the guard's check.`,
  )
}

await main()
