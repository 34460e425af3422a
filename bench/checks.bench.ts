// Benchmark of the health checks: 20 checks of which 5 take ~1 s. `rig check` (parallel)
// against the same checks run one after another (`--concurrency 1`, what a serial tool does),
// measured in the same run. `rig serve`'s throughput is bench/serve.bench.ts.
//
//   node bench/checks.bench.ts [--runs 5] [--serial-runs 3] [--no-write]
//
// Writes bench/results/checks.json and the checks section of bench/RESULTS.md.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeChecksProject, startApi } from './lib/checks-project.ts'
import { formatSummary, round, summarize, type Summary } from './lib/stats.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.dirname(BENCH_DIR)
const RIG = path.join(REPO, 'bin/rig.ts')
const RESULTS_JSON = path.join(BENCH_DIR, 'results', 'checks.json')
const RESULTS_MD = path.join(BENCH_DIR, 'RESULTS.md')
const MARK_START = '<!-- checks:start -->'
const MARK_END = '<!-- checks:end -->'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'serial-runs': { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
})
const log = (m: string): void => void process.stderr.write(`${m}\n`)

function runRig(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [RIG, ...argv], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ wallMs: performance.now() - t0, code, stdout }))
  })
}

async function main(): Promise<void> {
  const dir = makeChecksProject(REPO)
  const api = await startApi()
  const env = { API_URL: api.url }
  const started = Date.now()
  const loadBefore = os.loadavg()
  try {
    await runRig(['check'], dir, env) // warm-up: Node's compile cache, the page cache
    const parallelWall: number[] = []
    const parallelRunner: number[] = []
    const serialWall: number[] = []
    const serialRunner: number[] = []
    const runs = Number(args.runs)
    const serialRuns = Number(args['serial-runs'])
    // Interleaved, so a noisy moment hits both series.
    for (let i = 0; i < Math.max(runs, serialRuns); i++) {
      if (i < runs) {
        const r = await runRig(['check', '--json'], dir, env)
        if (r.code !== 0) throw new Error(`rig check failed: ${r.stdout}`)
        parallelWall.push(r.wallMs)
        parallelRunner.push((JSON.parse(r.stdout) as { durationMs: number }).durationMs)
      }
      if (i < serialRuns) {
        const r = await runRig(['check', '--json', '--concurrency', '1'], dir, env)
        if (r.code !== 0) throw new Error(`serial rig check failed: ${r.stdout}`)
        serialWall.push(r.wallMs)
        serialRunner.push((JSON.parse(r.stdout) as { durationMs: number }).durationMs)
      }
      log(`run ${i + 1}: parallel ${Math.round(parallelWall.at(-1) ?? 0)} ms, serial ${Math.round(serialWall.at(-1) ?? 0)} ms`)
    }
    const pw = summarize(parallelWall)
    const pr = summarize(parallelRunner)
    const sw = summarize(serialWall)
    const sr = summarize(serialRunner)
    const result = {
      date: new Date(started).toISOString(),
      commit: await gitCommit(),
      machine: { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}`, memGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadBefore: loadBefore.map((x) => round(x, 2)), loadAfter: os.loadavg().map((x) => round(x, 2)) },
      checks: { total: 20, slow: 5, slowMs: 1000 },
      rigCheck: { parallelWall: pw, parallelRunner: pr, serialWall: sw, serialRunner: sr, ratioWall: round(pw.median / sw.median, 3), ratioRunner: round(pr.median / sr.median, 3), overSlowestMs: round(pr.median - 1000) },
    }
    log(`rig check parallel (wall): ${formatSummary(pw)}`)
    log(`rig check serial (wall):   ${formatSummary(sw)}`)
    log(`ratio parallel/serial: wall ${result.rigCheck.ratioWall}, runner ${result.rigCheck.ratioRunner}`)
    if (!args['no-write']) write(result)
  } finally {
    api.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function gitCommit(): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO })
    let out = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.on('close', () => resolve(out.trim() || 'unknown'))
  })
}

type Result = { date: string; commit: string; machine: { cpus: string; memGiB: number; node: string; loadBefore: number[]; loadAfter: number[] }; rigCheck: { parallelWall: Summary; parallelRunner: Summary; serialWall: Summary; serialRunner: Summary; ratioWall: number; ratioRunner: number; overSlowestMs: number } }

function write(r: Result): void {
  fs.mkdirSync(path.dirname(RESULTS_JSON), { recursive: true })
  fs.writeFileSync(RESULTS_JSON, JSON.stringify(r, null, 2) + '\n')
  const row = (what: string, s: Summary, unit = 'ms'): string => `| ${what} | ${Math.round(s.median)} ${unit} | ${Math.round(s.p90)} | ${Math.round(s.min)} | ${Math.round(s.max)} | ${s.n} |`
  const c = r.rigCheck
  const section = [
    MARK_START,
    '## Health checks (`bench/checks.bench.ts`)',
    '',
    `${r.date.slice(0, 10)}, commit \`${r.commit}\`; ${r.machine.cpus}, ${r.machine.memGiB} GiB, Node ${r.machine.node}; load average ${r.machine.loadBefore.join(' / ')} before, ${r.machine.loadAfter.join(' / ')} after. 20 checks: 15 HTTP checks on a loopback API, 5 that take 1 s. Each \`rig check\` is a fresh process (wall time includes Node start-up and loading the check files); "runner" is the report's own \`durationMs\`. Parallel and serial runs interleaved after one warm-up.`,
    '',
    '| figure | median | p90 | min | max | n |',
    '|---|---|---|---|---|---|',
    row('`rig check`, parallel (default concurrency 16), wall', c.parallelWall),
    row('`rig check`, parallel, runner', c.parallelRunner),
    row('`rig check --concurrency 1` (serial, baseline), wall', c.serialWall),
    row('`rig check --concurrency 1`, runner', c.serialRunner),
    '',
    `**Ratio parallel / serial (medians): ${c.ratioWall} wall, ${c.ratioRunner} runner** — the parallel run takes about the slowest check (1 s) plus ${Math.round(c.overSlowestMs)} ms, not the sum of the checks (≥ 5 s). Target "≈ slowest check, not the sum": **${c.parallelRunner.median < 1500 ? 'pass' : 'fail'}**. \`rig serve\`'s throughput: the serve section below.`,
    MARK_END,
  ].join('\n')
  let md = fs.existsSync(RESULTS_MD) ? fs.readFileSync(RESULTS_MD, 'utf8') : '# Benchmark results\n'
  const a = md.indexOf(MARK_START)
  const b = md.indexOf(MARK_END)
  md = a >= 0 && b > a ? md.slice(0, a) + section + md.slice(b + MARK_END.length) : `${md.trimEnd()}\n\n${section}\n`
  fs.writeFileSync(RESULTS_MD, md)
  log(`wrote ${path.relative(REPO, RESULTS_JSON)} and the checks section of ${path.relative(REPO, RESULTS_MD)}`)
}

await main()
