// Benchmark of Chromium trusting rig's CA (src/tls/browser-trust.ts): what the NSS database
// costs to make (once per CA: `certutil -N` + `certutil -A`) and to reuse (every worker of every
// run), and whether the browser is slower to launch and open a page with it. The last is
// measured in the same run against a baseline: Debian's Chromium launched as usual opening
// the same page over plain HTTP, vs launched with the database as its HOME opening it over
// HTTPS (a certificate of the CA, as the front proxy serves), alternating.
//
//   node_modules/.bin/node bench/browser-trust.bench.ts [--runs 8] [--no-write]
//
// Writes bench/results/browser-trust.json and the browser-trust section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { chromium } from '@playwright/test'
import { CHROMIUM_ARGS } from '../src/playwright/config.ts'
import { chromiumTrustHome } from '../src/tls/browser-trust.ts'
import { loadCA, type LocalCA } from '../src/tls/ca.ts'
import { frontNames, issueCertificate } from '../src/tls/issue.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '8' }, 'no-write': { type: 'boolean', default: false } } })
const RUNS = Number(args.runs)
const loadavg = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' / ')
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-bench-trust-'))
process.env.RIG_CACHE_DIR = path.join(tmp, 'cache')
fs.mkdirSync(process.env.RIG_CACHE_DIR)
const newCA = (i: number): LocalCA => {
  process.env.RIG_CA_DIR = path.join(tmp, `ca-${i}`)
  return loadCA() as LocalCA
}
const time = (fn: () => void): number => {
  const t = performance.now()
  fn()
  return performance.now() - t
}

const PAGE = '<!doctype html><title>t</title><h1>ok</h1>'
const servers: http.Server[] = []
async function listen(server: http.Server): Promise<number> {
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  return (server.address() as net.AddressInfo).port
}

async function main(): Promise<void> {
  const loadBefore = loadavg()
  const t0 = performance.now()
  // 1. Making the database (a new CA each time) and reusing it.
  const made: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const ca = newCA(i)
    made.push(time(() => chromiumTrustHome(ca.certPem)))
  }
  const ca = newCA(0)
  const reused: number[] = []
  for (let i = 0; i < 50; i++) reused.push(time(() => chromiumTrustHome(ca.certPem)))
  const home = chromiumTrustHome(ca.certPem)

  // 2. Launch + first page: HTTP with the usual HOME (baseline) vs HTTPS with the database as HOME.
  const project = 'bench'
  const plain = await listen(http.createServer((_q, r) => r.end(PAGE)))
  const secure = await listen(https.createServer(issueCertificate(ca, project, frontNames(project)), (_q, r) => r.end(PAGE)))
  const variants = {
    baseline: { url: `http://web.${project}.localhost:${plain}/`, env: undefined },
    trusted: { url: `https://web.${project}.localhost:${secure}/`, env: { ...process.env, HOME: home } as Record<string, string> },
  }
  const samples: Record<keyof typeof variants, number[]> = { baseline: [], trusted: [] }
  const perRound: number[] = []
  for (let i = 0; i < RUNS + 1; i++) {
    const order = (i % 2 === 0 ? ['baseline', 'trusted'] : ['trusted', 'baseline']) as (keyof typeof variants)[]
    for (const v of order) {
      const t = performance.now()
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, ...(variants[v].env ? { env: variants[v].env } : {}) })
      const page = await browser.newPage()
      await page.goto(variants[v].url)
      if ((await page.locator('h1').textContent()) !== 'ok') throw new Error(`${v}: page not loaded`)
      const ms = performance.now() - t
      await browser.close()
      // The first round warms the page cache for both.
      if (i > 0) samples[v].push(ms)
      log(`round ${i} ${v}: ${Math.round(ms)} ms`)
    }
    if (i > 0) perRound.push((samples.trusted.at(-1) as number) / (samples.baseline.at(-1) as number))
  }
  for (const s of servers) {
    s.closeAllConnections()
    s.close()
  }
  const s = {
    made: summarize(made),
    reused: summarize(reused),
    baseline: summarize(samples.baseline),
    trusted: summarize(samples.trusted),
  }
  const ratio = round(s.trusted.median / s.baseline.median, 2)
  const roundRatio = round(summarize(perRound, 3).median, 2)
  const chromiumVersion = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  const certutilVersion = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libnss3-tools'], { encoding: 'utf8' }).trim()
  const result = {
    date: new Date().toISOString().slice(0, 10),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim(),
    node: process.version,
    chromium: chromiumVersion,
    libnss3Tools: certutilVersion,
    cpus: os.cpus().length,
    load: { before: loadBefore, after: loadavg() },
    runs: RUNS,
    totalSeconds: round((performance.now() - t0) / 1000),
    figures: s,
    ratioTrustedOverBaseline: ratio,
    ratioPerRoundMedian: roundRatio,
  }
  log(JSON.stringify(result, null, 2))
  fs.rmSync(tmp, { recursive: true, force: true })
  if (args['no-write']) return
  fs.writeFileSync(path.join(BENCH_DIR, 'results/browser-trust.json'), JSON.stringify(result, null, 2) + '\n')
  const row = (name: string, x: Summary): string => `| ${name} | ${x.median} ms | ${x.p90} ms | ${x.min} ms | ${x.max} ms | ${x.n} |`
  writeResultsSection(
    'browser-trust',
    `## Chromium trusting rig's CA (\`bench/browser-trust.bench.ts\`)

${result.date}, commit \`${result.commit}\`; ${result.cpus} CPUs, Node ${result.node}, ${chromiumVersion}, libnss3-tools ${certutilVersion}; load average ${result.load.before} before, ${result.load.after} after (other work shares this machine: read the ratio, not the times). ${RUNS} rounds, the variants alternating, after one warm-up round; total ${result.totalSeconds} s.

| figure | median | p90 | min | max | n |
|---|---|---|---|---|---|
${row('NSS database made (once per CA: certutil -N, certutil -A, rename)', s.made)}
${row('NSS database reused (each worker: checked, marked used)', s.reused)}
${row('baseline: Chromium launched as usual, page over HTTP', s.baseline)}
${row("trusted: Chromium with the CA's database as HOME, page over HTTPS", s.trusted)}

**Ratio trusted / baseline (medians): ${ratio}×**; median of the per-round ratios ${roundRatio}× (launch, new page, first page loaded; the trusted variant's TLS handshake included, which the baseline has none of).${Number(loadBefore.split(' / ')[0]) > result.cpus ? ` **The machine was busy (1-minute load above its ${result.cpus} CPUs): each variant's spread (min to max) is wider than their difference; rerun on an idle machine before reading the ratio as the trust's cost.**` : ''}`,
  )
}

await main()
