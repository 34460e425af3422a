// Benchmark of testrig/playwright: the per-test overhead of rig's fixtures (browser error
// collection and the drain before the check, the dead-service check, the service-log scan, the
// guard's check of a PostgreSQL database) against plain Playwright Test, on the same 50
// browser tests in Debian's Chromium, in the same run. Both variants run against one
// environment `rig up --detach` started (PostgreSQL and the test site over it), so neither
// pays for starting it; the rig variant attaches to it.
//
//   node_modules/.bin/node bench/playwright.bench.ts [--runs 2] [--tests 50] [--no-write] [--keep]
//
// Writes bench/results/playwright.json and the Playwright section of bench/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(BENCH_DIR, '..')
const NODE = process.execPath
const PLAYWRIGHT = path.join(REPO, 'node_modules/@playwright/test/cli.js')
const RIG = path.join(REPO, 'bin/rig.ts')

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
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
  const base = `{ testDir: 'e2e-${variant}', workers: 1, timeout: 120_000, reporter: [['json', { outputFile: 'results-${variant}.json' }]], use: ${use} }`
  return variant === 'rig'
    ? `import { defineConfig } from '@playwright/test'\nimport { withRig, CHROMIUM_ARGS } from 'testrig/playwright'\nexport default defineConfig(withRig(${base}, { report: { enabled: false } }))\n`
    : `import { defineConfig } from '@playwright/test'\nimport { CHROMIUM_ARGS } from 'testrig/playwright'\nexport default defineConfig(${base})\n`
}

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
async function runOnce(dir: string, variant: Variant, env: Record<string, string>): Promise<{ tests: number[]; first: number; wallMs: number }> {
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
  // The first test launches the browser (and, with rig, opens the guard's baseline): counted apart.
  return { tests: all.slice(1).map((t) => t.ms), first: all[0]!.ms, wallMs }
}

const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ')

async function main(): Promise<void> {
  const dir = makeProject()
  const loadBefore = loadavg()
  const started = Date.now()
  const rig = (a: string[]): string => execFileSync(NODE, [RIG, ...a], { cwd: dir, env: { ...process.env, RIG_TMP_DIR: path.join(dir, 'tmp') }, encoding: 'utf8' })
  rig(['up', '--detach'])
  const samples: Record<Variant, { tests: number[]; first: number[]; wall: number[] }> = { rig: { tests: [], first: [], wall: [] }, plain: { tests: [], first: [], wall: [] } }
  const perRound: number[] = []
  try {
    const status = JSON.parse(rig(['status', '--json'])) as { services: Record<string, { url: string }> }
    const env = { RIG_WEB_URL: status.services.web!.url }
    for (let i = 0; i < RUNS; i++) {
      const round: Record<Variant, number> = { rig: 0, plain: 0 }
      for (const v of i % 2 === 0 ? (['plain', 'rig'] as const) : (['rig', 'plain'] as const)) {
        const r = await runOnce(dir, v, env)
        samples[v].tests.push(...r.tests)
        samples[v].first.push(r.first)
        samples[v].wall.push(r.wallMs)
        round[v] = summarize(r.tests).median
        log(`run ${i + 1} ${v}: median ${round[v].toFixed(1)} ms per test, wall ${Math.round(r.wallMs)} ms`)
      }
      perRound.push(round.rig / round.plain)
    }
  } finally {
    rig(['down'])
    if (!args.keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  const s = (v: Variant): { test: Summary; first: Summary; wall: Summary } => ({ test: summarize(samples[v].tests), first: summarize(samples[v].first), wall: summarize(samples[v].wall) })
  const rigS = s('rig')
  const plainS = s('plain')
  const ratio = rigS.test.median / plainS.test.median
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
    perRoundRatio: perRound.map((r) => round(r, 2)),
  }
  console.log(JSON.stringify(result, null, 2))
  if (args['no-write']) return
  fs.writeFileSync(path.join(BENCH_DIR, 'results/playwright.json'), JSON.stringify(result, null, 2) + '\n')
  const row = (name: string, x: Summary): string => `| ${name} | ${round(x.median)} ms | ${round(x.p90)} ms | ${round(x.min)} ms | ${round(x.max)} ms | ${x.n} |`
  writeResultsSection(
    'playwright',
    `## Playwright fixtures (\`bench/playwright.bench.ts\`)

${result.date.slice(0, 10)}, commit \`${result.commit}\`; ${result.cpus} CPUs, Node ${result.node}, ${result.chromium}, Playwright ${result.playwright}; load average ${result.load.before} before, ${result.load.after} after (other work shares this machine). ${RUNS} runs per variant, alternating; total ${(result.totalMs / 1000).toFixed(1)} s.

Suite: ${TESTS} tests in one file, each opens the test site's page in Chromium (\`page.goto('/')\`) and checks its heading, one worker. **rig**: \`test\` from \`testrig/playwright\` in a config wrapped in \`withRig()\`, attached to the environment of \`rig up --detach\` (PostgreSQL, guarded, and the site): after every test the browser drain and verdict, the dead-service check, the log scan, the guard's check. **plain**: the same tests with \`test\` from \`@playwright/test\`, against the same site. A test's duration is Playwright's (its fixtures' setup and teardown included); each run's first test, which launches the browser, is counted apart.

| per test | median | p90 | min | max | n |
|---|---|---|---|---|---|
${row('**rig**', rigS.test)}
${row('**plain** Playwright Test', plainS.test)}
${row('rig: first test (browser launch, baseline)', rigS.first)}
${row('plain: first test (browser launch)', plainS.first)}
${row('rig: wall time of the run', rigS.wall)}
${row('plain: wall time of the run', plainS.wall)}

**Ratio rig / plain (median per test): ${result.ratio.toFixed(2)}×** (${result.overheadMs >= 0 ? '+' : ''}${result.overheadMs} ms per test). Within each round: ${result.perRoundRatio.map((r) => `${r.toFixed(2)}×`).join(', ')}.`,
  )
}

await main()
