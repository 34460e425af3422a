// rig's proxy (src/proxy) against connecting directly, in the same run: per-query round trip
// of PostgreSQL (`select 1`) and Redis (PING) over one open connection, median and p99; and
// throughput with pgbench (select-only) and redis-benchmark (GET/SET) through the proxy and
// direct. The proxy runs inside the process that hosts the environment (here, this one): its
// CPU time per query is measured too, since it competes with that process's own work.
//
//   node_modules/.bin/node bench/proxy.bench.ts [--rounds N] [--queries N] [--seconds S] [--no-write]
//
// Writes bench/results/proxy.json and the proxy section of bench/RESULTS.md.
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { connectPg } from '../src/drivers/pg.ts'
import { connectRedis } from '../src/drivers/redis.ts'
import { defineConfig, postgres, redis, startEnvironment } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { quantile, round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, queries: { type: 'string', default: '300' }, seconds: { type: 'string', default: '5' }, 'tool-runs': { type: 'string', default: '5' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const QUERIES = Number(values.queries)
const SECONDS = Number(values.seconds)
const TOOL_RUNS = Number(values['tool-runs'])
const here = path.dirname(new URL(import.meta.url).pathname)
const run = promisify(execFile)

interface Latency {
  summary: Summary
  p99: number
}

const latency = (xs: number[]): Latency => ({ summary: summarize(xs, 3), p99: round(quantile(xs, 0.99), 3) })

/** Host CPU (user + system) this process spent, in ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = performance.now()
  const env = await startEnvironment(defineConfig({ services: { db: postgres({ proxy: true }), cache: redis({ proxy: true }) } }))
  const v = env.vars()
  const out: Record<string, unknown> = {}
  try {
    // Round trips over one connection each way, interleaved query by query in rounds.
    const pgVia = await connectPg(v.RIG_DB_URL ?? '')
    const pgDirect = await connectPg(v.RIG_DB_DIRECT_URL ?? '')
    const rVia = await connectRedis(v.RIG_CACHE_URL ?? '')
    const rDirect = await connectRedis(v.RIG_CACHE_DIRECT_URL ?? '')
    const s: Record<string, number[]> = { pgProxy: [], pgDirect: [], redisProxy: [], redisDirect: [] }
    const timeOne = async (key: string, f: () => Promise<unknown>): Promise<void> => {
      const t = performance.now()
      await f()
      s[key]?.push(performance.now() - t)
    }
    for (let i = 0; i < 100; i++) await Promise.all([pgVia.query('select 1'), pgDirect.query('select 1'), rVia.sendCommand(['PING']), rDirect.sendCommand(['PING'])])
    const cpu0 = cpuMs()
    for (let r = 0; r < ROUNDS; r++) {
      for (let q = 0; q < QUERIES; q++) {
        const flip = (r + q) % 2 === 0
        await timeOne(flip ? 'pgProxy' : 'pgDirect', () => (flip ? pgVia : pgDirect).query('select 1'))
        await timeOne(flip ? 'pgDirect' : 'pgProxy', () => (flip ? pgDirect : pgVia).query('select 1'))
        await timeOne(flip ? 'redisProxy' : 'redisDirect', () => (flip ? rVia : rDirect).sendCommand(['PING']))
        await timeOne(flip ? 'redisDirect' : 'redisProxy', () => (flip ? rDirect : rVia).sendCommand(['PING']))
      }
    }
    out.roundTripCpuMs = round(cpuMs() - cpu0)
    await pgVia.end()
    await pgDirect.end()
    rVia.destroy()
    rDirect.destroy()
    out.latency = Object.fromEntries(Object.entries(s).map(([k, xs]) => [k, latency(xs)]))

    // Throughput: the servers' own benchmark tools, through the proxy and direct, alternating.
    const pgEnv = (port: string): NodeJS.ProcessEnv => ({ ...process.env, PGHOST: '127.0.0.1', PGPORT: port, PGUSER: v.RIG_DB_USER, PGPASSWORD: v.RIG_DB_PASSWORD, PGDATABASE: v.RIG_DB_DATABASE })
    await run('pgbench', ['-i', '-s', '1', '-q'], { env: pgEnv(v.RIG_DB_DIRECT_PORT ?? '') })
    const tput: Record<string, number[]> = { pgbenchProxy: [], pgbenchDirect: [], redisGetProxy: [], redisGetDirect: [], redisSetProxy: [], redisSetDirect: [] }
    const cpuPer: Record<string, number[]> = { pgbenchProxy: [], redisProxy: [] }
    const pgbench = async (port: string): Promise<{ tps: number; tx: number }> => {
      const r = await run('pgbench', ['-S', '-n', '-c', '4', '-j', '2', '-T', String(SECONDS)], { env: pgEnv(port) })
      const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)?.[1] ?? /tps = ([\d.]+)/.exec(r.stdout)?.[1])
      const tx = Number(/number of transactions actually processed: (\d+)/.exec(r.stdout)?.[1])
      return { tps, tx }
    }
    const redisBench = async (port: string): Promise<{ get: number; set: number; requests: number }> => {
      const n = 20_000
      const r = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', port, '--user', 'default', '-a', v.RIG_CACHE_PASSWORD ?? '', '-t', 'get,set', '-n', String(n), '-c', '20', '-q', '--csv'])
      const rps = (name: string): number => Number(new RegExp(`"${name}","([\\d.]+)"`).exec(r.stdout)?.[1])
      return { get: rps('GET'), set: rps('SET'), requests: 2 * n }
    }
    for (let r = 0; r < TOOL_RUNS; r++) {
      for (const via of r % 2 === 0 ? ['direct', 'proxy'] : ['proxy', 'direct']) {
        const proxy = via === 'proxy'
        let c = cpuMs()
        const p = await pgbench(proxy ? (v.RIG_DB_PORT ?? '') : (v.RIG_DB_DIRECT_PORT ?? ''))
        if (proxy) cpuPer.pgbenchProxy?.push(((cpuMs() - c) / p.tx) * 1000)
        tput[proxy ? 'pgbenchProxy' : 'pgbenchDirect']?.push(p.tps)
        c = cpuMs()
        const rb = await redisBench(proxy ? (v.RIG_CACHE_PORT ?? '') : (v.RIG_CACHE_DIRECT_PORT ?? ''))
        if (proxy) cpuPer.redisProxy?.push(((cpuMs() - c) / rb.requests) * 1000)
        tput[proxy ? 'redisGetProxy' : 'redisGetDirect']?.push(rb.get)
        tput[proxy ? 'redisSetProxy' : 'redisSetDirect']?.push(rb.set)
      }
    }
    out.throughput = Object.fromEntries(Object.entries(tput).map(([k, xs]) => [k, summarize(xs, 0)]))
    out.proxyCpuMsPer1000 = Object.fromEntries(Object.entries(cpuPer).map(([k, xs]) => [k, summarize(xs, 2)]))
  } finally {
    await env.stop()
  }
  let commit = ''
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim()
  } catch {}
  const result = {
    date: new Date().toISOString(),
    commit,
    rounds: ROUNDS,
    queries: QUERIES,
    seconds: SECONDS,
    machine: { cpus: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}`, memGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadBefore: loadBefore.map((x) => round(x, 2)), loadAfter: os.loadavg().map((x) => round(x, 2)) },
    ...out,
    totalS: round((performance.now() - started) / 1000),
  }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'proxy.json'), JSON.stringify(result, null, 2) + '\n')
  writeResultsSection('proxy', section(result as unknown as Result))
}

interface Result {
  date: string
  commit: string
  machine: { cpus: string; memGiB: number; node: string; loadBefore: number[]; loadAfter: number[] }
  latency: Record<string, Latency>
  throughput: Record<string, Summary>
  proxyCpuMsPer1000: Record<string, Summary>
  roundTripCpuMs: number
  totalS: number
}

function section(r: Result): string {
  const l = r.latency
  const ms = (x: number | undefined): string => `${(x ?? NaN).toFixed(3)} ms`
  const signed = (x: number): string => `${x < 0 ? '−' : '+'}${ms(Math.abs(x))}`
  const lat = (label: string, via: string, direct: string): string[] => {
    const a = l[via]
    const b = l[direct]
    return [
      `| ${label} through the proxy | ${ms(a?.summary.median)} | ${ms(a?.p99)} | ${a?.summary.n} |`,
      `| ${label} direct (baseline) | ${ms(b?.summary.median)} | ${ms(b?.p99)} | ${b?.summary.n} |`,
      `| **overhead** | **${signed((a?.summary.median ?? 0) - (b?.summary.median ?? 0))}** (${((a?.summary.median ?? 0) / (b?.summary.median ?? 1)).toFixed(2)}×) | ${signed((a?.p99 ?? 0) - (b?.p99 ?? 0))} | |`,
    ]
  }
  const t = r.throughput
  const tp = (label: string, via: string, direct: string, unit: string): string => {
    const a = t[via]?.median ?? NaN
    const b = t[direct]?.median ?? NaN
    return `| ${label} | ${Math.round(a)} ${unit} | ${Math.round(b)} ${unit} | **${(a / b).toFixed(2)}×** |`
  }
  const m = r.machine
  const busy = (m.loadBefore[0] ?? 0) > os.cpus().length ? ' **The machine was busy (1-minute load above its CPUs): absolute figures are inflated by other work; the ratios compare runs interleaved under the same load.**' : ''
  return [
    '## Proxy and faults (`bench/proxy.bench.ts`)',
    '',
    `${r.date.slice(0, 10)}, commit \`${r.commit}\`; ${m.cpus}, ${m.memGiB} GiB, Node ${m.node}; load average ${m.loadBefore.join(' / ')} before, ${m.loadAfter.join(' / ')} after.${busy} Round trips: ${ROUNDS} rounds × ${QUERIES} queries per series over one open connection, proxy and direct alternating query by query; throughput: ${TOOL_RUNS} alternating runs per series; total ${r.totalS} s.`,
    '',
    '| round trip | median | p99 | n |',
    '|---|---|---|---|',
    ...lat('PostgreSQL `select 1`', 'pgProxy', 'pgDirect'),
    ...lat('Redis `PING`', 'redisProxy', 'redisDirect'),
    '',
    '| throughput (medians) | through the proxy | direct | proxy / direct |',
    '|---|---|---|---|',
    tp('pgbench -S (select-only), 4 clients', 'pgbenchProxy', 'pgbenchDirect', 'tps'),
    tp('redis-benchmark GET, 20 clients', 'redisGetProxy', 'redisGetDirect', 'req/s'),
    tp('redis-benchmark SET, 20 clients', 'redisSetProxy', 'redisSetDirect', 'req/s'),
    '',
    ...(['pgbench', 'redisGet', 'redisSet'].some((k) => (t[`${k}Proxy`]?.median ?? 0) > (t[`${k}Direct`]?.median ?? 0) * 1.05)
      ? ["A ratio above 1 does not mean the proxy speeds the server up: on a machine this loaded the kernel shares CPU per runnable thread, and the proxy adds one to the benchmark's side of the path. Compare on an idle machine; the round trips (thousands of alternating samples) and the proxy's CPU per request are the steadier measures. Redis throughput through the proxy is bounded by the proxy's one Node thread (its CPU per request below) when 20 clients hammer it.", '']
      : []),
    `The proxy runs in the process that hosts the environment (the Vitest main process, \`rig up\`'s): its CPU there was ${r.proxyCpuMsPer1000.pgbenchProxy?.median.toFixed(1)} ms per 1000 pgbench transactions and ${r.proxyCpuMsPer1000.redisProxy?.median.toFixed(1)} ms per 1000 Redis requests (medians); the round-trip series cost ${r.roundTripCpuMs} ms of it in all.`,
  ].join('\n')
}

await main()
