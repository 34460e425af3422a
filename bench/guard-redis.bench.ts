// The Redis guard's per-test cost against the size of the key space: 1,000 / 10,000 / 100,000
// seeded keys, a test that adds 3 keys (with a TTL, as a login would), rig's check + restore and
// the check after a test that wrote nothing. Each size runs both detections on one redis() in
// the same run, alternating round by round: `events` (the keys keyspace notifications named since
// the clean state) against `scan` (every watched key read and compared, the fallback and the only
// way before).
//
//   node_modules/.bin/node bench/guard-redis.bench.ts [--sizes 1000,10000,100000] [--budget-ms 15000] [--no-write]
//
// Writes bench/results/guard-redis.json and the guard-redis section of bench/RESULTS.md.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { connectRedis, type RedisClient } from '../src/drivers/redis.ts'
import { createGuard, type Guard, redisStore } from '../src/guard/index.ts'
import { defineConfig, redis, startEnvironment } from '../src/index.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' }, 'budget-ms': { type: 'string', default: '15000' }, 'no-write': { type: 'boolean', default: false } } })
const SIZES = values.sizes.split(',').map(Number)
const BUDGET_MS = Number(values['budget-ms'])
const here = path.dirname(new URL(import.meta.url).pathname)
const DETECTIONS = ['events', 'scan'] as const
type Detection = (typeof DETECTIONS)[number]

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

async function seed(r: RedisClient, n: number): Promise<void> {
  await r.sendCommand(['FLUSHDB'])
  for (let i = 0; i < n; i += 5000) {
    await Promise.all(Array.from({ length: Math.min(5000, n - i) }, (_, j) => r.sendCommand(['SET', `product:${i + j}`, `{"id":${i + j},"name":"product ${i + j}","price":${(i + j) % 997}}`])))
  }
}

interface SizeResult {
  keys: number
  rounds: number
  baselineMs: Record<Detection, number>
  /** check + restore after 3 added keys. */
  leak: Record<Detection, Summary>
  /** check after a test that wrote nothing. */
  clean: Record<Detection, Summary>
  /** What each check reported as its detection (must be one value each). */
  seen: Record<Detection, string[]>
}

async function size(r: RedisClient, url: string, n: number): Promise<SizeResult> {
  await seed(r, n)
  const source = { name: 'cache', url, provider: 'process' }
  const guards = {} as Record<Detection, Guard>
  const baselineMs = {} as Record<Detection, number>
  for (const d of DETECTIONS) {
    guards[d] = createGuard({ stores: [redisStore(source, { detection: d })] })
    baselineMs[d] = round(await time(() => guards[d].baseline()))
  }
  const leak: Record<Detection, number[]> = { events: [], scan: [] }
  const clean: Record<Detection, number[]> = { events: [], scan: [] }
  const seen: Record<Detection, Set<string>> = { events: new Set(), scan: new Set() }
  const one = async (d: Detection, keep: boolean): Promise<void> => {
    const g = guards[d]
    await Promise.all([1, 2, 3].map((k) => r.sendCommand(['SET', `session:${k}`, 'x', 'EX', '60'])))
    let rep: Awaited<ReturnType<Guard['check']>> | undefined
    const t1 = await time(async () => (rep = await g.check('logs in')))
    if (!rep?.leaked) throw new Error(`${d}: the 3 added keys were not reported`)
    seen[d].add(String(rep.stores[0]?.detection))
    const t2 = await time(() => g.check('reads'))
    if (keep) leak[d].push(t1), clean[d].push(t2)
  }
  // Warm both, then alternate which goes first.
  for (let i = 0; i < 3; i++) for (const d of DETECTIONS) await one(d, false)
  const t0 = performance.now()
  let rounds = 0
  while (rounds < 5 || (rounds < 200 && performance.now() - t0 < BUDGET_MS)) {
    for (const d of rounds % 2 === 0 ? DETECTIONS : [...DETECTIONS].reverse()) await one(d, true)
    rounds++
  }
  for (const d of DETECTIONS) await guards[d].close()
  const by = (m: Record<Detection, number[]>): Record<Detection, Summary> => ({ events: summarize(m.events, 2), scan: summarize(m.scan, 2) })
  return { keys: n, rounds, baselineMs, leak: by(leak), clean: by(clean), seen: { events: [...seen.events], scan: [...seen.scan] } }
}

interface Result {
  date: string
  machine: { cpus: number; load: { before: number[]; after: number[] }; redis: string }
  sizes: SizeResult[]
  /** scan / events, medians of check + restore, per size. */
  ratios: Record<string, number>
}

function section(res: Result): string {
  const rows = res.sizes.map((s) => `| ${s.keys.toLocaleString('en')} | ${s.leak.events.median} (p90 ${s.leak.events.p90}) | ${s.leak.scan.median} (p90 ${s.leak.scan.p90}) | ${res.ratios[s.keys]}x | ${s.clean.events.median} | ${s.clean.scan.median} | ${s.rounds} |`)
  return [
    '## Redis guard: cost against the key space (`guard-redis.bench.ts`)',
    '',
    `${res.date.slice(0, 10)}, Redis ${res.machine.redis}, ${res.machine.cpus} cores, load ${res.machine.load.before.map((x) => x.toFixed(1)).join('/')} before, ${res.machine.load.after.map((x) => x.toFixed(1)).join('/')} after (1/5/15 min).`,
    'Per test: 3 keys added (`SET session:n x EX 60`), then rig’s check + restore, then a check after a test that wrote nothing. Both detections on one rig-started `redis()`, alternating round by round; medians in ms.',
    '',
    '| seeded keys | check + restore, `events` | check + restore, `scan` | scan / events | nothing written, `events` | nothing written, `scan` | rounds |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...((res.machine.load.before[0] ?? 0) > res.machine.cpus ? ['The machine was busy (1-minute load above its core count, other sessions’ tests): absolute figures are several times a quiet machine’s; read the ratios, measured in the same run.', ''] : []),
    '`events`: the check reads only the keys that keyspace notifications named since the clean state (fenced by a PUBLISH the same subscriber connection receives); `scan`: every watched key read (SCAN, DUMP, PTTL) and compared, the fallback whenever the events cannot vouch for the key space. A check after nothing was written compares the server’s write counter either way.',
  ].join('\n')
}

async function main(): Promise<void> {
  const before = os.loadavg()
  const env = await startEnvironment(defineConfig({ services: { cache: redis() } }))
  const sizes: SizeResult[] = []
  let version = ''
  try {
    const url = env.get('cache').url
    const r = await connectRedis(url)
    version = /redis_version:(\S+)/.exec(String(await r.sendCommand(['INFO', 'server'])))?.[1] ?? '?'
    for (const n of SIZES) {
      const s = await size(r, url, n)
      sizes.push(s)
      process.stdout.write(`${n} keys: check + restore events ${s.leak.events.median} ms, scan ${s.leak.scan.median} ms (${s.rounds} rounds; seen ${JSON.stringify(s.seen)})\n`)
    }
    r.destroy()
  } finally {
    await env.stop()
  }
  const result: Result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, load: { before, after: os.loadavg() }, redis: version },
    sizes,
    ratios: Object.fromEntries(sizes.map((s) => [s.keys, round(s.leak.scan.median / s.leak.events.median, 1)])),
  }
  console.log(JSON.stringify(result, null, 2))
  if (values['no-write']) return
  fs.writeFileSync(path.join(here, 'results', 'guard-redis.json'), JSON.stringify(result, null, 2) + '\n')
  writeResultsSection('guard-redis', section(result))
}

await main()
