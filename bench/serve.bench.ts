// Benchmark of `rig serve`'s warm path: requests per second of `GET /health` against a bare
// `node:http` server returning a body of the same size, both in their own processes and loaded
// by `wrk` in a third one (a generator inside this process tops out below either server), in
// rotating order round after round so that load from other work hits every series alike.
//
//   node bench/serve.bench.ts [--rounds 7] [--seconds 3] [--connections 32] [--threads 1] [--base DIR] [--no-write]
//
// `--base DIR` adds another checkout's `rig serve` (e.g. main: `git worktree add /tmp/rig-base
// main && ln -s "$PWD/node_modules" /tmp/rig-base/node_modules`) to the same rounds: before and
// after in one run. Needs `wrk` (apt-get install wrk). Writes bench/results/serve.json and the
// serve section of bench/RESULTS.md.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { makeChecksProject, startApi } from './lib/checks-project.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { formatSummary, median, round, summarize, type Summary } from './lib/stats.ts'

const REPO = path.resolve(import.meta.dirname, '..')
const RESULTS_JSON = path.join(import.meta.dirname, 'results', 'serve.json')
const TOKEN = 'bench-token'
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    base: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
})
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const run = promisify(execFile)

/** A server under load: where to send requests, with which headers, and its process. */
interface Target {
  name: string
  url: string
  headers: Record<string, string>
  pid: number
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; NaN elsewhere). */
function cpuMsOf(pid: number): number {
  try {
    // Fields 14 and 15 of /proc/PID/stat, counted after the command name (which may hold spaces).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * One `wrk` run: requests per second, the server's CPU time per request (µs; unlike
 * throughput, it hardly depends on how much CPU other work left the server), and the requests
 * that were not 2xx or failed.
 */
async function wrk(t: Target, seconds: number): Promise<{ rps: number; cpuUs: number; errors: number }> {
  const headerArgs = Object.entries(t.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`])
  const cpu0 = cpuMsOf(t.pid)
  const { stdout } = await run('wrk', [`-t${args.threads}`, `-c${args.connections}`, `-d${seconds}s`, ...headerArgs, t.url], { maxBuffer: 1 << 20 })
  const cpuMs = cpuMsOf(t.pid) - cpu0
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1])
  if (!rps || !requests) throw new Error(`no Requests/sec in wrk's output:\n${stdout}`)
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  const socketErrors = socket ? socket.slice(1).reduce((n, x) => n + Number(x), 0) : 0
  return { rps: Number(rps), cpuUs: (cpuMs * 1000) / requests, errors: non2xx + socketErrors }
}

/** Spawns `argv`, resolves with the process and the first stdout match of `pattern`. */
function spawnUntil(argv: string[], cwd: string, env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(argv[0] as string, argv.slice(1), { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = pattern.exec(out)
      if (m) resolve({ child, match: m[1] as string })
    })
    child.on('close', (code) => reject(new Error(`${argv.join(' ')} exited (${code}) before it was ready: ${out}`)))
  })
}

/** `rig serve` of checkout `repo` on its own copy of the project, warmed so every check has a result. */
async function startRigServe(repo: string, apiUrl: string): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = makeChecksProject(repo)
  const { child, match: url } = await spawnUntil([process.execPath, path.join(repo, 'bin/rig.ts'), 'serve', '--port', '0', '--ttl', '3600000'], dir, { API_URL: apiUrl, RIG_CHECK_TOKEN: TOKEN }, /listening on (\S+)/)
  const warm = await fetch(`${url}/health?deadline=20000`, { headers: { authorization: `Bearer ${TOKEN}` } })
  const body = (await warm.json()) as { checks?: Record<string, unknown> }
  if (Object.keys(body.checks ?? {}).length !== 20) throw new Error(`the warm-up of ${repo} did not see 20 checks`)
  return { child, url, dir }
}

/**
 * A bare node:http server answering `body` as JSON to every request, in its own process: the
 * bytes and their length computed once, so it sends a content-length as rig does (a plain
 * `end(string)` after `writeHead` would be chunked, and slower).
 */
async function startBare(body: string): Promise<{ child: ChildProcess; url: string }> {
  const code = `const body = Buffer.from(${JSON.stringify(body)}); const headers = { 'content-type': 'application/json', 'content-length': body.length }; require('node:http').createServer((q, s) => s.writeHead(200, headers).end(body)).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port) })`
  const { child, match: port } = await spawnUntil([process.execPath, '-e', code], os.tmpdir(), {}, /port (\d+)/)
  return { child, url: `http://127.0.0.1:${port}/` }
}

const bodyOf = async (url: string, headers: Record<string, string>): Promise<string> => (await fetch(url, { headers })).text()

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (err) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('this benchmark needs wrk: apt-get install wrk')
  }
  const rounds = Number(args.rounds)
  const seconds = Number(args.seconds)
  const loadBefore = os.loadavg()
  const started = performance.now()
  const api = await startApi()
  const children: ChildProcess[] = []
  const dirs: string[] = []
  try {
    const rig = await startRigServe(REPO, api.url)
    children.push(rig.child)
    dirs.push(rig.dir)
    const auth = { authorization: `Bearer ${TOKEN}` }
    const statusBody = await bodyOf(`${rig.url}/health`, {})
    const detailBody = await bodyOf(`${rig.url}/health`, auth)
    const bareStatus = await startBare(statusBody)
    const bareDetail = await startBare(detailBody)
    children.push(bareStatus.child, bareDetail.child)
    const targets: Target[] = [
      { name: 'rig status', url: `${rig.url}/health`, headers: {}, pid: rig.child.pid! },
      { name: 'bare status', url: bareStatus.url, headers: {}, pid: bareStatus.child.pid! },
      { name: 'rig detailed', url: `${rig.url}/health`, headers: auth, pid: rig.child.pid! },
      { name: 'bare detailed', url: bareDetail.url, headers: {}, pid: bareDetail.child.pid! },
    ]
    if (args.base) {
      const base = await startRigServe(path.resolve(args.base), api.url)
      children.push(base.child)
      dirs.push(base.dir)
      targets.push({ name: 'base status', url: `${base.url}/health`, headers: {}, pid: base.child.pid! }, { name: 'base detailed', url: `${base.url}/health`, headers: auth, pid: base.child.pid! })
    }
    // One short run of each, not counted: JIT, connection set-up.
    for (const t of targets) await wrk(t, 1)
    const rps: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]))
    const cpuUs: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]))
    let errors = 0
    for (let i = 0; i < rounds; i++) {
      // Rotate the order, so no series always runs right after the same neighbour.
      const order = targets.map((_, k) => targets[(k + i) % targets.length] as Target)
      for (const t of order) {
        const r = await wrk(t, seconds)
        rps[t.name]!.push(r.rps)
        cpuUs[t.name]!.push(r.cpuUs)
        errors += r.errors
      }
      log(`round ${i + 1}/${rounds}: ${targets.map((t) => `${t.name} ${Math.round(rps[t.name]!.at(-1)!)}`).join(', ')} req/s (load ${round(os.loadavg()[0] ?? 0, 1)})`)
    }
    // Per-round ratios pair samples taken seconds apart; their median is the headline figure.
    const perRound = (of: Record<string, number[]>, a: string, b: string): number => round(median(of[a]!.map((x, k) => x / of[b]![k]!)), 3)
    const s = Object.fromEntries(Object.entries(rps).map(([k, xs]) => [k, summarize(xs)])) as Record<string, Summary>
    const cpu = Object.fromEntries(Object.entries(cpuUs).map(([k, xs]) => [k, summarize(xs)])) as Record<string, Summary>
    const ratio = {
      status: perRound(rps, 'rig status', 'bare status'),
      detailed: perRound(rps, 'rig detailed', 'bare detailed'),
      ...(args.base ? { baseStatus: perRound(rps, 'base status', 'bare status'), baseDetailed: perRound(rps, 'base detailed', 'bare detailed') } : {}),
    }
    // CPU per request the other way round (bare / rig), so that, like throughput, higher is better.
    const cpuRatio = {
      status: perRound(cpuUs, 'bare status', 'rig status'),
      detailed: perRound(cpuUs, 'bare detailed', 'rig detailed'),
      ...(args.base ? { baseStatus: perRound(cpuUs, 'bare status', 'base status'), baseDetailed: perRound(cpuUs, 'bare detailed', 'base detailed') } : {}),
    }
    let commit = ''
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()
    } catch {}
    let baseCommit = ''
    if (args.base) {
      try {
        baseCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: args.base, encoding: 'utf8' }).trim()
      } catch {}
    }
    const result = {
      benchmark: 'serve',
      date: new Date().toISOString(),
      commit,
      ...(args.base ? { baseCommit } : {}),
      durationS: round((performance.now() - started) / 1000, 1),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? '', memoryGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAvgBefore: loadBefore.map((x) => round(x, 2)), loadAvgAfter: os.loadavg().map((x) => round(x, 2)) },
      load: { generator: 'wrk', threads: Number(args.threads), connections: Number(args.connections), seconds, rounds },
      bodyBytes: { status: Buffer.byteLength(statusBody), detailed: Buffer.byteLength(detailBody) },
      rps: s,
      cpuUsPerRequest: cpu,
      ratio,
      cpuRatio,
      errors,
    }
    for (const [k, v] of Object.entries(s)) log(`${k.padEnd(14)} ${formatSummary(v, 'req/s')}; server CPU ${cpu[k]!.median} µs/request`)
    log(`rig / bare (median of per-round ratios): status ${ratio.status}, detailed ${ratio.detailed}${args.base ? `; base / bare: status ${ratio.baseStatus}, detailed ${ratio.baseDetailed}` : ''}; errors ${errors}`)
    log(`CPU per request, bare / rig: status ${cpuRatio.status}, detailed ${cpuRatio.detailed}${args.base ? `; bare / base: status ${cpuRatio.baseStatus}, detailed ${cpuRatio.baseDetailed}` : ''}`)
    if (!args['no-write']) write(result)
  } finally {
    for (const c of children) c.kill('SIGTERM')
    api.close()
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
  }
}

type Result = {
  date: string
  commit: string
  baseCommit?: string
  durationS: number
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAvgBefore: number[]; loadAvgAfter: number[] }
  load: { threads: number; connections: number; seconds: number; rounds: number }
  bodyBytes: { status: number; detailed: number }
  rps: Record<string, Summary>
  cpuUsPerRequest: Record<string, Summary>
  ratio: { status: number; detailed: number; baseStatus?: number; baseDetailed?: number }
  cpuRatio: { status: number; detailed: number; baseStatus?: number; baseDetailed?: number }
  errors: number
}

function write(r: Result): void {
  fs.mkdirSync(path.dirname(RESULTS_JSON), { recursive: true })
  fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(r, null, 2)}\n`)
  const row = (label: string, key: string): string => {
    const x = r.rps[key]
    const c = r.cpuUsPerRequest[key]
    return x && c ? `| ${label} | ${Math.round(x.median)} | ${Math.round(x.p90)} | ${Math.round(x.min)} | ${Math.round(x.max)} | ${c.median.toFixed(1)} µs | ${x.n} |` : ''
  }
  const m = r.machine
  const busy = Math.max(m.loadAvgBefore[0] ?? 0, m.loadAvgAfter[0] ?? 0) > m.cpus
  const base = r.baseCommit !== undefined
  writeResultsSection(
    'serve',
    `
## \`rig serve\` throughput (\`bench/serve.bench.ts\`)

${r.date.slice(0, 10)}, commit \`${r.commit}\`${base ? ` against \`${r.baseCommit}\` (base)` : ''}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; load average ${m.loadAvgBefore.join(' / ')} before, ${m.loadAvgAfter.join(' / ')} after${busy ? ' (**busy: other work shared the machine; read the ratios, taken round by round, not the absolute figures**)' : ''}. \`wrk -t${r.load.threads} -c${r.load.connections} -d${r.load.seconds}s\` in its own process against each server in its own process, ${r.load.rounds} rounds in rotating order after a 1 s warm-up of each; total ${r.durationS} s. \`rig serve\` runs the 20 checks of \`bench/checks.bench.ts\` with a warm cache (TTL 1 h) and a token: **status** is \`GET /health\` without the token (\`{"status": "pass"}\`, ${r.bodyBytes.status} bytes), **detailed** with it (every check, ${r.bodyBytes.detailed} bytes). The baseline is a bare \`node:http\` server answering the same bytes as \`application/json\` to every request, with a content-length like rig's answers (bytes and headers made once).

| server, request | median req/s | p90 | min | max | server CPU per request (median) | rounds |
|---|---|---|---|---|---|---|
${[row('`rig serve`, status', 'rig status'), row('bare `node:http`, same body', 'bare status'), base ? row('`rig serve` of the base, status', 'base status') : '', row('`rig serve`, detailed', 'rig detailed'), row('bare `node:http`, same body', 'bare detailed'), base ? row('`rig serve` of the base, detailed', 'base detailed') : ''].filter(Boolean).join('\n')}

**rig / bare requests per second (median of the per-round ratios): status ${r.ratio.status}×, detailed ${r.ratio.detailed}×** (target ≥ 0.9×: **${r.ratio.status >= 0.9 ? 'pass' : 'miss'}** for status, **${r.ratio.detailed >= 0.9 ? 'pass' : 'miss'}** for detailed)${base ? `; the base: status ${r.ratio.baseStatus}×, detailed ${r.ratio.baseDetailed}×` : ''}. The server's CPU time per request (from /proc, over each run), bare / rig so that higher is better: status ${r.cpuRatio.status}×, detailed ${r.cpuRatio.detailed}×${base ? ` (the base: ${r.cpuRatio.baseStatus}×, ${r.cpuRatio.baseDetailed}×)` : ''}; on a loaded machine it moves less than throughput, which depends on the CPU other work leaves each server. Non-2xx answers and socket errors: ${r.errors}.
`,
  )
  log(`wrote ${path.relative(process.cwd(), RESULTS_JSON)} and the serve section of bench/RESULTS.md`)
}

await main()
