// Shard balance and bisect cost, computed (no suite runs: both are decided by the plan and by
// how many replays the search asks for).
//
// Shards: 20 generated 200-file suites whose recorded durations are skewed (Pareto: a few files
// take most of the time), each cut into 2, 4 and 8 shards by rig (longest first on the recorded
// timings) and by Vitest's built-in `--shard` (files sorted by a hash of their path, equal
// counts), both judged on the durations of the next run (recorded ±10%): slowest shard / mean
// shard. rig without timings (by file size) is shown too.
// Bisect: replays `rig bisect` needs (its two first checks included) to find 1 polluter among
// 100 preceding tests at each position, 2 independent ones and 2 that act only together.
//
//   node_modules/.bin/node bench/shard.bench.ts [--no-write]
//
// Writes bench/results/shard.json and the shard section of bench/RESULTS.md.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { findPolluters } from '../src/bisect/ddmin.ts'
import { estimate, planShards } from '../src/shard/plan.ts'
import { round, summarize, type Summary } from './lib/stats.ts'
import { writeResultsSection } from './lib/results-md.ts'

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url))
const { values: args } = parseArgs({ options: { 'no-write': { type: 'boolean', default: false } } })
const loadBefore = os.loadavg().map((x) => round(x, 2))

/** A small seeded PRNG (mulberry32): the same suites on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface SuiteFile {
  file: string
  size: number
  recorded: number
  next: number
}

/** 200 files, durations Pareto(α = 1.2) from 150 ms, capped at 2 min; sizes loosely follow durations. */
function suite(seed: number, files = 200): SuiteFile[] {
  const r = prng(seed)
  return Array.from({ length: files }, (_, i) => {
    const recorded = Math.min(120_000, 150 * (1 / (1 - r())) ** (1 / 1.2))
    const noise = 1 + (r() - 0.5) * 0.2
    const size = Math.round(800 + recorded * (0.5 + r()) * 0.8)
    return { file: `test/f${String(i).padStart(3, '0')}.test.ts`, size, recorded, next: recorded * noise }
  })
}

/** Vitest 5's BaseSequencer.shard: sorted by sha1 of the root-relative path, contiguous equal-count slices. */
function vitestShard(files: readonly SuiteFile[], index: number, count: number): SuiteFile[] {
  const base = Math.floor(files.length / count)
  const rem = files.length % count
  const [start, end] = index <= rem ? [(base + 1) * (index - 1), (base + 1) * index] : [rem * (base + 1) + (index - rem - 1) * base, rem * (base + 1) + (index - rem) * base]
  return files
    .map((f) => ({ f, hash: createHash('sha1').update(`/${f.file}`).digest('hex') }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .slice(start, end)
    .map((e) => e.f)
}

/** Slowest shard / mean shard, on the next run's durations. */
function imbalance(shards: readonly (readonly string[])[], next: ReadonlyMap<string, number>): number {
  const totals = shards.map((s) => s.reduce((n, f) => n + (next.get(f) ?? 0), 0))
  const mean = totals.reduce((n, t) => n + t, 0) / totals.length
  return Math.max(...totals) / mean
}

const SUITES = 20
const shardRows: { count: number; rig: Summary; rigBySize: Summary; vitest: Summary; bound: Summary; rigWhereBoundAllows: Summary }[] = []
for (const count of [2, 4, 8]) {
  const rig: number[] = []
  const bySize: number[] = []
  const vit: number[] = []
  const bound: number[] = []
  const allowed: number[] = []
  for (let s = 1; s <= SUITES; s++) {
    const files = suite(s)
    const next = new Map(files.map((f) => [f.file, f.next]))
    // No split beats the longest file or an even share: the best any plan can reach.
    const total = files.reduce((n, f) => n + f.next, 0)
    const best = Math.max(...files.map((f) => f.next), total / count) / (total / count)
    bound.push(best)
    const sized = files.map((f) => ({ file: f.file, size: f.size }))
    rig.push(imbalance(planShards(estimate(sized, new Map(files.map((f) => [f.file, f.recorded]))).weights, count).map((p) => p.files), next))
    bySize.push(imbalance(planShards(estimate(sized, undefined).weights, count).map((p) => p.files), next))
    vit.push(imbalance(Array.from({ length: count }, (_, i) => vitestShard(files, i + 1, count).map((f) => f.file)), next))
    if (best <= 1.1) allowed.push(rig[rig.length - 1] as number)
  }
  shardRows.push({ count, rig: summarize(rig, 3), rigBySize: summarize(bySize, 3), vitest: summarize(vit, 3), bound: summarize(bound, 3), rigWhereBoundAllows: summarize(allowed, 3) })
}

/** Replays of a bisect (the two first checks + the search) where `rule` says which subsets fail. */
async function replays(n: number, rule: (s: Set<number>) => boolean): Promise<{ runs: number; found: number[][] }> {
  const seen = new Set<string>()
  const items = Array.from({ length: n }, (_, i) => i)
  seen.add(items.join(','))
  seen.add('')
  const { sets } = await findPolluters(items, async (subset) => {
    seen.add(subset.join(','))
    return rule(new Set(subset))
  })
  return { runs: seen.size, found: sets }
}

const N = 100
const one: number[] = []
for (let p = 0; p < N; p++) {
  const r = await replays(N, (s) => s.has(p))
  if (r.found.length !== 1 || r.found[0]?.[0] !== p) throw new Error(`bisect missed polluter ${p}`)
  one.push(r.runs)
}
const rand = prng(99)
const pairs = Array.from({ length: 50 }, () => {
  const a = Math.floor(rand() * N)
  let b = Math.floor(rand() * N)
  while (b === a) b = Math.floor(rand() * N)
  return [Math.min(a, b), Math.max(a, b)] as const
})
const twoEither: number[] = []
const twoTogether: number[] = []
for (const [a, b] of pairs) {
  const either = await replays(N, (s) => s.has(a) || s.has(b))
  if (JSON.stringify(either.found) !== JSON.stringify([[a], [b]]) && JSON.stringify(either.found) !== JSON.stringify([[b], [a]])) throw new Error(`bisect missed ${a} or ${b}`)
  twoEither.push(either.runs)
  const together = await replays(N, (s) => s.has(a) && s.has(b))
  if (JSON.stringify(together.found) !== JSON.stringify([[a, b]])) throw new Error(`bisect missed the pair ${a}+${b}`)
  twoTogether.push(together.runs)
}
const target = 2 * Math.log2(N) + 2
const bisectRows = { one: summarize(one, 1), twoEither: summarize(twoEither, 1), twoTogether: summarize(twoTogether, 1), targetOne: round(target, 1) }

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim()
const loadAfter = os.loadavg().map((x) => round(x, 2))
const results = { date: new Date().toISOString(), commit, machine: { cpus: os.cpus().length, node: process.version, loadAvgBefore: loadBefore, loadAvgAfter: loadAfter }, suites: SUITES, files: 200, shards: shardRows, bisect: bisectRows }
const f = (s: Summary): string => `${s.median.toFixed(3)} (max ${s.max.toFixed(3)})`
const section = `## Shards and bisect (\`bench/shard.bench.ts\`)

${results.date.slice(0, 10)}, commit \`${commit}\`; ${os.cpus().length} CPUs, Node ${process.version}; load average ${loadBefore.join(' / ')} before, ${loadAfter.join(' / ')} after (computed figures: the load does not change them).

Shard balance: ${SUITES} generated suites of 200 files with skewed durations (Pareto α = 1.2 from 150 ms; a few files take most of the time), planned on one run's timings and judged on the next run's (each file ±10%). Slowest shard / mean shard, median over the suites (max):

| shards | rig, on recorded timings | rig, without timings (file size) | Vitest \`--shard\` | best possible (longest file or an even share) | rig where the best possible is ≤ 1.10 | target (rig ≤ 1.10) |
|---|---|---|---|---|---|---|
${shardRows.map((r) => `| ${r.count} | **${f(r.rig)}** | ${f(r.rigBySize)} | ${f(r.vitest)} | ${f(r.bound)} | ${r.rigWhereBoundAllows.n} suites: ${f(r.rigWhereBoundAllows)} | **${r.rig.median <= 1.1 ? 'pass' : 'missed'}** (median)${r.rigWhereBoundAllows.max <= 1.1 ? ', and every suite that allows it' : ''} |`).join('\n')}

The large maxima are suites where one file alone takes longer than an even share (the Pareto tail): no split can do better, and rig's slowest shard is then that file alone.

Bisect: replays \`rig bisect\` needs (its two first checks, alone and in the recorded order, included) among ${N} tests before the failing one, median (max):

| polluters | replays | target |
|---|---|---|
| 1, at each of the ${N} positions | **${bisectRows.one.median} (max ${bisectRows.one.max})** | ≤ 2·log2(${N}) + 2 = ${bisectRows.targetOne}: **${bisectRows.one.max <= target ? 'pass' : 'missed'}** |
| 2 that each fail the test (50 random pairs) | ${bisectRows.twoEither.median} (max ${bisectRows.twoEither.max}) | — |
| 2 that fail it only together (50 random pairs) | ${bisectRows.twoTogether.median} (max ${bisectRows.twoTogether.max}) | — |
`
console.log(section)
if (!args['no-write']) {
  fs.writeFileSync(path.join(BENCH_DIR, 'results', 'shard.json'), JSON.stringify(results, null, 2) + '\n')
  writeResultsSection('shard', section)
}
