// Redis with `tls: true` against plain Redis in the same run, alternating in rounds: the
// environment's start to ready (certificate issued, TLS readiness PING) and its stop (SHUTDOWN
// over TLS), a node-redis client's connect (the TLS handshake, verified against rig's CA), and
// 500 sequential SET/GET pairs on one connection (what TLS adds per command).
//
//   node_modules/.bin/node bench/redis-tls.bench.ts [--rounds N] [--no-write]
//
// Writes bench/results/redis-tls.json and the redis-tls section of bench/RESULTS.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createClient } from 'redis'
import { defineConfig, redis, startEnvironment } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const OPS = 500
const here = path.dirname(new URL(import.meta.url).pathname)

type Mode = 'plain' | 'tls'
const MODES: Mode[] = ['plain', 'tls']
const METRICS = ['readyMs', 'stopMs', 'connectMs', 'opsMs'] as const
type Metric = (typeof METRICS)[number]

async function once(mode: Mode): Promise<Record<Metric, number>> {
  const t0 = performance.now()
  const env = await startEnvironment(defineConfig({ project: 'redistlsbench', services: { cache: redis({ tls: mode === 'tls' }) } }))
  const readyMs = performance.now() - t0
  let connectMs = 0
  let opsMs = 0
  let stopMs = 0
  try {
    const cache = env.get('cache')
    const ca = cache.env.RIG_CACHE_CA_CERT
    const t1 = performance.now()
    const c = createClient({ url: cache.url, socket: { reconnectStrategy: false, ...(ca ? { tls: true as const, ca: fs.readFileSync(ca, 'utf8') } : {}) } })
    c.on('error', () => {})
    await c.connect()
    connectMs = performance.now() - t1
    const t2 = performance.now()
    for (let i = 0; i < OPS; i++) {
      await c.set(`k${i}`, 'v')
      await c.get(`k${i}`)
    }
    opsMs = performance.now() - t2
    c.destroy()
  } finally {
    const t3 = performance.now()
    await env.stop()
    stopMs = performance.now() - t3
  }
  return { readyMs, stopMs, connectMs, opsMs }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const samples: Record<string, number[]> = {}
  for (const m of MODES) for (const k of METRICS) samples[`${m}/${k}`] = []
  await once('plain')
  await once('tls')
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? [...MODES].reverse() : MODES) {
      const res = await once(mode)
      for (const k of METRICS) samples[`${mode}/${k}`]?.push(res[k])
    }
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`)
  }
  const loadAfter = os.loadavg()
  const sum: Record<string, Summary> = {}
  for (const [k, s] of Object.entries(samples)) sum[k] = summarize(s, 1)
  const med = (k: string): number => (sum[k] as Summary).median
  const ratios = Object.fromEntries(METRICS.map((k) => [k, round(med(`tls/${k}`) / med(`plain/${k}`), 2)]))
  const result = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rounds: ROUNDS, ops: OPS, load: { before: loadBefore.map((x) => round(x, 1)), after: loadAfter.map((x) => round(x, 1)) }, results: sum, ratios }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.writeFileSync(path.join(here, 'results', 'redis-tls.json'), JSON.stringify(result, null, 2) + '\n')
  const row = (label: string, k: Metric): string => `| ${label} | ${med(`plain/${k}`).toFixed(1)} ms | ${med(`tls/${k}`).toFixed(1)} ms | ${(ratios[k] as number).toFixed(2)}x |`
  writeResultsSection(
    'redis-tls',
    `## Redis over TLS (\`bench/redis-tls.bench.ts\`)

\`redis()\` against \`redis({ tls: true })\` (TLS only, a certificate from rig's CA, verified), alternating in
${ROUNDS} rounds after one warm-up of each; medians; ${os.cpus().length} cores, Node ${process.version}, load ${result.load.before[0]} before,
${result.load.after[0]} after (shared machine).

| | plain | TLS | TLS / plain |
|---|---|---|---|
${row('start to ready (environment of one Redis)', 'readyMs')}
${row('stop (SHUTDOWN NOSAVE)', 'stopMs')}
${row('node-redis connect (TLS handshake, verified)', 'connectMs')}
${row(`${OPS} SET + GET pairs, sequential, one connection`, 'opsMs')}

The start pays for a P-256 key and certificate and a TLS readiness PING; the per-command cost is the record
encryption of small RESP frames on a connection already open.`,
  )
}

await main()
