// Redis topologies and redeploys, in the same run and alternating round by round: ready time
// of redis({ replicas: 1, sentinels: 3 }) against a single redis(); a Sentinel failover (call →
// the new master accepts writes; → the next command of a client on rig's stable address, and of
// a node-redis Sentinel client, succeeds on it); the master killed (→ a write through the stable
// address succeeds); a rolling restart of command({ instances: 3 }) against restarting one
// process, with a client looping through the stable address (its failures are counted).
//
//   node_modules/.bin/node bench/topology-redis.bench.ts [--rounds N] [--no-write]
//
// Writes bench/results/topology-redis.json and the topology-redis section of bench/RESULTS.md.
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createClient, createSentinel } from 'redis'
import { command, defineConfig, redis, startEnvironment } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, 'no-write': { type: 'boolean', default: false } } })
const ROUNDS = Number(values.rounds)
const here = path.dirname(new URL(import.meta.url).pathname)
const SERVER = path.join(here, '..', 'test', 'support', 'fixtures', 'echo-server.cjs')

const since = (t: number): number => performance.now() - t

async function until(f: () => Promise<unknown>): Promise<void> {
  for (;;) {
    if (await f().then(() => true, () => false)) return
    await new Promise((r) => setTimeout(r, 5))
  }
}

function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(String(res.statusCode)))))
    })
    req.on('error', reject)
  })
}

async function topologyRound(s: Record<string, number[]>): Promise<void> {
  let t = performance.now()
  const env = await startEnvironment(defineConfig({ services: { cache: redis({ replicas: 1, sentinels: 3 }) } }))
  s.topologyReady?.push(since(t))
  try {
    const v = env.vars()
    const password = v.RIG_CACHE_PASSWORD ?? ''
    const sentinel = createSentinel({
      name: v.RIG_CACHE_MASTER_NAME ?? '',
      sentinelRootNodes: (v.RIG_CACHE_SENTINELS ?? '').split(',').map((a) => ({ host: a.split(':')[0] ?? '', port: Number(a.split(':')[1]) })),
      nodeClientOptions: { password },
      sentinelClientOptions: { password },
    })
    sentinel.on('error', () => {})
    await sentinel.connect()
    const stable = createClient({ url: v.RIG_CACHE_URL, socket: { reconnectStrategy: 5 } })
    stable.on('error', () => {})
    await stable.connect()
    await Promise.all([sentinel.set('k', '0'), stable.set('k', '0')])
    const svc = env.get('cache')
    t = performance.now()
    await svc.failover()
    s.failoverWrites?.push(since(t))
    await Promise.all([until(() => stable.set('k', '1')).then(() => s.failoverStableNext?.push(since(t))), until(() => sentinel.set('k', '2')).then(() => s.failoverSentinelNext?.push(since(t)))])
    // The master crashes: the sentinels decide (downAfter 1 s, an election); writes through the stable address.
    t = performance.now()
    await svc.kill('master')
    await until(() => stable.set('k', '3'))
    s.killStableNext?.push(since(t))
    await sentinel.close()
    stable.destroy()
  } finally {
    await env.stop()
  }
}

async function singleRound(s: Record<string, number[]>): Promise<void> {
  const t = performance.now()
  const env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
  s.singleReady?.push(since(t))
  await env.stop()
}

async function rollingRound(s: Record<string, number[]>, failures: { n: number; requests: number }): Promise<void> {
  const app = (instances?: number) => command({ run: ['node', SERVER], env: { PORT: '{port}' }, ...(instances ? { instances } : {}) })
  const env = await startEnvironment(defineConfig({ services: { web: app(3), one: app() } }))
  try {
    const web = env.get('web')
    let running = true
    const loop = (async () => {
      while (running) {
        failures.requests++
        await get(web.port).catch(() => failures.n++)
      }
    })()
    let t = performance.now()
    await web.restart()
    s.rolling3?.push(since(t))
    running = false
    await loop
    t = performance.now()
    await env.get('one').restart()
    s.restartOne?.push(since(t))
  } finally {
    await env.stop()
  }
}

interface Result {
  date: string
  machine: { cpus: number; load: { before: number[]; after: number[] } }
  rounds: number
  ms: Record<string, Summary>
  ratios: { readyTopologyVsSingle: number; rolling3VsRestartOne: number }
  rollingRequests: { sent: number; failed: number }
}

function section(r: Result): string {
  const m = r.ms
  const row = (what: string, k: string): string => `| ${what} | ${m[k]?.median} | ${m[k]?.min}–${m[k]?.max} |`
  return [
    '## Redis topology and redeploys (`topology-redis.bench.ts`)',
    '',
    `${r.date.slice(0, 10)}, ${r.rounds} alternating rounds, ${r.machine.cpus} cores, load ${r.machine.load.before.map((x) => x.toFixed(1)).join('/')} before, ${r.machine.load.after.map((x) => x.toFixed(1)).join('/')} after (1/5/15 min).`,
    '',
    '| what | median ms | range ms |',
    '|---|---|---|',
    row('`redis()` ready (start → ready)', 'singleReady'),
    row('`redis({ replicas: 1, sentinels: 3 })` ready', 'topologyReady'),
    row('`failover()`: call → new master accepts writes (its ROLE is master)', 'failoverWrites'),
    row('call → next SET through the stable address succeeds', 'failoverStableNext'),
    row('call → next SET of a node-redis Sentinel client succeeds', 'failoverSentinelNext'),
    row('master killed → a SET through the stable address succeeds (sentinels decide on their own)', 'killStableNext'),
    row('`restart()` of one process (baseline)', 'restartOne'),
    row('rolling `restart()` of `instances: 3`', 'rolling3'),
    '',
    `Ratios (medians): topology ready / single ready ${r.ratios.readyTopologyVsSingle}x; rolling restart of 3 / restart of one ${r.ratios.rolling3VsRestartOne}x. ` +
      `Requests through the stable address during the rolling restarts: ${r.rollingRequests.sent} sent, ${r.rollingRequests.failed} failed.`,
    'The topology starts five processes (master, replica, three sentinels told about each other in their config), and is ready once the replica is linked and every sentinel agrees; ' +
      'a killed master costs the sentinels’ `downAfter` (1 s) plus their election, during which the stable address holds new connections.',
  ].join('\n')
}

async function main(): Promise<void> {
  const before = os.loadavg()
  const s: Record<string, number[]> = { singleReady: [], topologyReady: [], failoverWrites: [], failoverStableNext: [], failoverSentinelNext: [], killStableNext: [], rolling3: [], restartOne: [] }
  const failures = { n: 0, requests: 0 }
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      await singleRound(s)
      await topologyRound(s)
    } else {
      await topologyRound(s)
      await singleRound(s)
    }
    await rollingRound(s, failures)
    process.stdout.write(`round ${i + 1}/${ROUNDS}\n`)
  }
  const ms = Object.fromEntries(Object.entries(s).map(([k, xs]) => [k, summarize(xs, 0)]))
  const med = (k: string): number => ms[k]?.median ?? NaN
  const result: Result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, load: { before, after: os.loadavg() } },
    rounds: ROUNDS,
    ms,
    ratios: { readyTopologyVsSingle: round(med('topologyReady') / med('singleReady'), 2), rolling3VsRestartOne: round(med('rolling3') / med('restartOne'), 2) },
    rollingRequests: { sent: failures.requests, failed: failures.n },
  }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.writeFileSync(path.join(here, 'results', 'topology-redis.json'), JSON.stringify(result, null, 2) + '\n')
  writeResultsSection('topology-redis', section(result))
}

await main()
