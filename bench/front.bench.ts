// rig's front proxy (src/front) against the service direct, in the same run: wrk (another
// process) sends GET /health to a small node:http service three ways, alternating in rounds:
// direct, through the front proxy over HTTP, and through it over HTTPS (a keep-alive TLS
// connection; the handshake is paid once per connection). One connection gives the latency
// per request (wrk's median), 16 connections the throughput. The proxy runs in this process,
// as it runs in the process that hosts an environment.
//
//   node_modules/.bin/node bench/front.bench.ts [--rounds N] [--seconds S] [--no-write]
//
// Writes bench/results/front.json and the front section of bench/RESULTS.md.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { command, defineConfig, http, startEnvironment, type Environment } from '../src/index.ts'
import { freePort } from '../src/providers/process/ports.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '2' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const SECONDS = Number(values.seconds)
const here = path.dirname(new URL(import.meta.url).pathname)
const app = path.join(here, '..', 'test', 'front', 'fixtures', 'app.mjs')
const run = promisify(execFile)

type Mode = 'direct' | 'front-http' | 'front-https'
const MODES: Mode[] = ['direct', 'front-http', 'front-https']

/** Microseconds from wrk's `10.5us`, `1.20ms`, `2s`. */
function micros(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim())
  if (!m) return Number.NaN
  const n = Number(m[1])
  return m[2] === 'us' ? n : m[2] === 'ms' ? n * 1000 : n * 1e6
}

async function wrk(url: string, host: string | undefined, connections: number): Promise<{ rps: number; p50us: number; errors: number }> {
  const args = ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', ...(host ? ['-H', `Host: ${host}`] : []), url]
  const { stdout } = await run('wrk', args, { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1])
  const p50us = micros(/\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '')
  const errs = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  const errors = Number(errs?.[1] ?? 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0)
  return { rps, p50us, errors }
}

async function environment(tls: boolean): Promise<Environment> {
  return startEnvironment(defineConfig({ project: `frontbench${tls ? 's' : ''}`, front: { port: await freePort(), tls }, services: { api: command({ run: [process.execPath, app], env: { PORT: '{port}' }, ready: http('/health') }) } }))
}

async function main(): Promise<void> {
  try {
    await run('wrk', ['--version']).catch((e: { stdout?: string }) => {
      if (!/wrk/.test(e.stdout ?? '')) throw e
    })
  } catch {
    console.error('wrk is not installed: apt-get install -y wrk')
    process.exit(2)
  }
  const loadBefore = os.loadavg()
  const plain = await environment(false)
  const secure = await environment(true)
  const samples: Record<string, { p50us: number[]; rps: number[]; errors: number }> = {}
  try {
    const api = plain.get('api')
    const target = (mode: Mode): { url: string; host?: string } => {
      if (mode === 'direct') return { url: `http://127.0.0.1:${api.port}/health` }
      const f = (mode === 'front-http' ? plain : secure).front
      if (!f) throw new Error('no front proxy')
      return { url: `${mode === 'front-http' ? 'http' : 'https'}://127.0.0.1:${f.plan.port}/health`, host: `api.${f.plan.project}.localhost:${f.plan.port}` }
    }
    for (const mode of MODES) for (const c of [1, 16]) samples[`${mode}/c${c}`] = { p50us: [], rps: [], errors: 0 }
    // A short warm-up of each path (JIT, keep-alive pools), not measured.
    for (const mode of MODES) await wrk(target(mode).url, target(mode).host, 4)
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of [1, 16]) {
        for (const mode of r % 2 ? [...MODES].reverse() : MODES) {
          const t = target(mode)
          const res = await wrk(t.url, t.host, c)
          const s = samples[`${mode}/c${c}`] as { p50us: number[]; rps: number[]; errors: number }
          s.p50us.push(res.p50us)
          s.rps.push(res.rps)
          s.errors += res.errors
        }
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
    }
  } finally {
    await plain.stop()
    await secure.stop()
  }
  const loadAfter = os.loadavg()
  const sum: Record<string, { p50us: Summary; rps: Summary; errors: number }> = {}
  for (const [k, s] of Object.entries(samples)) sum[k] = { p50us: summarize(s.p50us, 0), rps: summarize(s.rps, 0), errors: s.errors }
  const get = (k: string): { p50us: Summary; rps: Summary; errors: number } => sum[k] as { p50us: Summary; rps: Summary; errors: number }
  const ratios = {
    latencyHttpVsDirect: round(get('front-http/c1').p50us.median / get('direct/c1').p50us.median, 2),
    latencyHttpsVsDirect: round(get('front-https/c1').p50us.median / get('direct/c1').p50us.median, 2),
    latencyHttpsVsHttp: round(get('front-https/c1').p50us.median / get('front-http/c1').p50us.median, 2),
    throughputHttpVsDirect: round(get('front-http/c16').rps.median / get('direct/c16').rps.median, 2),
    throughputHttpsVsDirect: round(get('front-https/c16').rps.median / get('direct/c16').rps.median, 2),
    throughputHttpsVsHttp: round(get('front-https/c16').rps.median / get('front-http/c16').rps.median, 2),
  }
  const addedUs = { http: get('front-http/c1').p50us.median - get('direct/c1').p50us.median, https: get('front-https/c1').p50us.median - get('direct/c1').p50us.median }
  const result = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rounds: ROUNDS, seconds: SECONDS, load: { before: loadBefore.map((x) => round(x, 1)), after: loadAfter.map((x) => round(x, 1)) }, results: sum, ratios, addedUs }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.writeFileSync(path.join(here, 'results', 'front.json'), JSON.stringify(result, null, 2) + '\n')
  const row = (mode: Mode): string => {
    const a = get(`${mode}/c1`)
    const b = get(`${mode}/c16`)
    return `| ${mode} | ${(a.p50us.median / 1000).toFixed(3)} ms | ${b.rps.median.toFixed(0)} req/s | ${a.errors + b.errors} |`
  }
  writeResultsSection(
    'front',
    `## Front proxy, HTTP and HTTPS (\`bench/front.bench.ts\`)

wrk (another process, 1 thread) → \`GET /health\` of a node:http service, direct or through rig's front proxy by its
name (\`Host: api.<project>.localhost\`), over HTTP and over HTTPS (keep-alive: the TLS handshake is paid once per
connection). Medians of ${ROUNDS} alternating rounds of ${SECONDS} s each; ${result.cpus} cores, Node ${process.version},
load ${result.load.before[0]} before, ${result.load.after[0]} after (shared machine).

| path | latency per request, 1 connection (wrk p50) | throughput, 16 connections | errors |
|---|---|---|---|
${row('direct')}
${row('front-http')}
${row('front-https')}

Added per request on one connection: HTTP +${(addedUs.http / 1000).toFixed(3)} ms (${ratios.latencyHttpVsDirect}x), HTTPS +${(addedUs.https / 1000).toFixed(3)} ms
(${ratios.latencyHttpsVsDirect}x; HTTPS vs HTTP ${ratios.latencyHttpsVsHttp}x). Throughput: HTTP ${ratios.throughputHttpVsDirect}x of direct, HTTPS
${ratios.throughputHttpsVsDirect}x (HTTPS vs HTTP ${ratios.throughputHttpsVsHttp}x). The proxy parses every request (node:http) so that one
keep-alive connection may carry several names; on 2 shared cores wrk, the proxy and the service compete for the same CPU,
so the throughput ratio is the proxy's CPU cost per request more than its latency.
`,
  )
}

await main()
