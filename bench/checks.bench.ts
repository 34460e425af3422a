// Benchmark of the health checks: 20 checks of which 5 take ~1 s. `rig check` (parallel)
// against the same checks run one after another (`--concurrency 1`, what a serial tool does),
// measured in the same run; then `rig serve` /health throughput with a warm cache from a
// bounded loopback load generator in this process.
//
//   node bench/checks.bench.ts [--runs 5] [--serial-runs 3] [--seconds 3] [--connections 32] [--no-write]
//
// Writes bench/results/checks.json and the checks section of bench/RESULTS.md.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

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
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'serve-runs': { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
})
const log = (m: string): void => void process.stderr.write(`${m}\n`)

// Order statistics (type-7 quantiles, like bench/lib/stats.ts), kept here so this benchmark stands alone.
interface Summary {
  n: number
  median: number
  p90: number
  min: number
  max: number
}
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = s[Math.floor(pos)] as number
  const hi = s[Math.ceil(pos)] as number
  return lo + (hi - lo) * (pos - Math.floor(pos))
}
function summarize(xs: readonly number[]): Summary {
  return { n: xs.length, median: round(quantile(xs, 0.5)), p90: round(quantile(xs, 0.9)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) }
}
const formatSummary = (s: Summary, unit = 'ms'): string => `median ${s.median} ${unit} (p90 ${s.p90}, min ${s.min}, max ${s.max}, n=${s.n})`

// A project with 20 checks: 15 quick HTTP checks on a local API, 5 that take 1 s each.
function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-checks-bench-'))
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n')
  fs.mkdirSync(path.join(dir, 'checks'))
  const entry = path.join(REPO, 'src/checks/index.ts')
  const lines = [`import { check, env, expectHttp } from '${entry}'`, `const sleep = (ms, signal) => new Promise((resolve, reject) => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true }) })`]
  for (let i = 0; i < 15; i++) lines.push(`check('quick ${i}', { tags: ['smoke'] }, () => expectHttp(env.API_URL + '/health', { status: 200 }))`)
  for (let i = 0; i < 5; i++) lines.push(`check('slow ${i}', { tags: ['diagnostic'], timeout: 5000 }, (ctx) => sleep(1000, ctx.signal))`)
  fs.writeFileSync(path.join(dir, 'checks', 'bench.check.ts'), lines.join('\n') + '\n')
  return dir
}

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

async function startApi(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, close: () => void server.close() }
}

/** Bounded load: `connections` loops, each sending the next request when the last answered. */
async function load(url: string, seconds: number, connections: number, headers: Record<string, string>): Promise<{ rps: number; ok: number; errors: number; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const end = performance.now() + seconds * 1000
  let ok = 0
  let errors = 0
  const latencies: number[] = []
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now()
      const req = http.get(url, { agent, headers }, (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode === 200) ok++
          else errors++
          latencies.push(performance.now() - t0)
          resolve()
        })
      })
      req.on('error', () => {
        errors++
        resolve()
      })
    })
  const t0 = performance.now()
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < end) await one()
  }))
  const elapsed = (performance.now() - t0) / 1000
  agent.destroy()
  return { rps: ok / elapsed, ok, errors, latencies }
}

async function serveThroughput(dir: string, env: NodeJS.ProcessEnv): Promise<{ statusOnly: Summary; detailed: Summary; latency: Summary; errors: number }> {
  const child = spawn(process.execPath, [RIG, 'serve', '--port', '0', '--ttl', '3600000'], { cwd: dir, env: { ...process.env, ...env, RIG_CHECK_TOKEN: 'bench' }, stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /listening on (\S+)/.exec(out)
        if (m) resolve(m[1] as string)
      })
      child.on('close', () => reject(new Error(`rig serve exited: ${out}`)))
    })
    // Warm: one request that waits for every check (the slow ones included).
    const warm = await fetch(`${url}/health?deadline=20000`, { headers: { authorization: 'Bearer bench' } })
    const body = (await warm.json()) as { checks: Record<string, unknown> }
    if (Object.keys(body.checks).length !== 20) throw new Error('the warm-up did not see 20 checks')
    const connections = Number(args.connections)
    const seconds = Number(args.seconds)
    const statusOnly: number[] = []
    const detailed: number[] = []
    const lat: number[] = []
    let errors = 0
    for (let i = 0; i < Number(args['serve-runs']); i++) {
      const a = await load(`${url}/health`, seconds, connections, {})
      const b = await load(`${url}/health`, seconds, connections, { authorization: 'Bearer bench' })
      statusOnly.push(a.rps)
      detailed.push(b.rps)
      lat.push(...a.latencies)
      errors += a.errors + b.errors
      log(`  serve run ${i + 1}: status-only ${Math.round(a.rps)} req/s, detailed ${Math.round(b.rps)} req/s`)
    }
    return { statusOnly: summarize(statusOnly), detailed: summarize(detailed), latency: summarize(lat), errors }
  } finally {
    child.kill('SIGTERM')
  }
}

/** Baseline: a bare node:http server answering a constant, in its own process, same load. */
async function baselineThroughput(): Promise<Summary> {
  const code = `require('node:http').createServer((q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pass"}')).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port) })`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<string>((resolve) => child.stdout.on('data', (d: Buffer) => resolve(/port (\d+)/.exec(d.toString())?.[1] ?? '')))
    const rps: number[] = []
    for (let i = 0; i < Number(args['serve-runs']); i++) rps.push((await load(`http://127.0.0.1:${port}/`, Number(args.seconds), Number(args.connections), {})).rps)
    return summarize(rps)
  } finally {
    child.kill('SIGTERM')
  }
}

async function main(): Promise<void> {
  const dir = makeProject()
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
    const serve = await serveThroughput(dir, env)
    const baseline = await baselineThroughput()
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
      serve: { connections: Number(args.connections), seconds: Number(args.seconds), statusOnlyRps: serve.statusOnly, detailedRps: serve.detailed, statusOnlyLatencyMs: serve.latency, baselineRps: baseline, errors: serve.errors },
    }
    log(`rig check parallel (wall): ${formatSummary(pw)}`)
    log(`rig check serial (wall):   ${formatSummary(sw)}`)
    log(`ratio parallel/serial: wall ${result.rigCheck.ratioWall}, runner ${result.rigCheck.ratioRunner}`)
    log(`rig serve /health: ${formatSummary(serve.statusOnly, 'req/s')}`)
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

type Result = { date: string; commit: string; machine: { cpus: string; memGiB: number; node: string; loadBefore: number[]; loadAfter: number[] }; rigCheck: { parallelWall: Summary; parallelRunner: Summary; serialWall: Summary; serialRunner: Summary; ratioWall: number; ratioRunner: number; overSlowestMs: number }; serve: { connections: number; seconds: number; statusOnlyRps: Summary; detailedRps: Summary; statusOnlyLatencyMs: Summary; baselineRps: Summary; errors: number } }

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
    row(`\`rig serve\` \`GET /health\`, warm cache, status only (${r.serve.connections} connections × ${r.serve.seconds} s)`, r.serve.statusOnlyRps, 'req/s'),
    row('`rig serve` `GET /health`, warm cache, detailed (with token)', r.serve.detailedRps, 'req/s'),
    row('`rig serve` `GET /health` latency under that load, status only', r.serve.statusOnlyLatencyMs),
    row('baseline: bare `node:http` server answering a constant, same load', r.serve.baselineRps, 'req/s'),
    '',
    `**Ratio parallel / serial (medians): ${c.ratioWall} wall, ${c.ratioRunner} runner** — the parallel run takes about the slowest check (1 s) plus ${Math.round(c.overSlowestMs)} ms, not the sum of the checks (≥ 5 s). Target "≈ slowest check, not the sum": **${c.parallelRunner.median < 1500 ? 'pass' : 'fail'}**. Load generator errors: ${r.serve.errors}.`,
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
