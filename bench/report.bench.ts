// Benchmark of the run report's size when most of a large suite fails: a generated 1000-test
// run shaped like a job-queue suite whose cleanup ran after the guard (bench/lib/failing-run.ts),
// written by this checkout and, with `--base DIR`, by another checkout's src/report in the
// same run. Sizes are exact; write times are medians of rotating rounds.
//
//   node_modules/.bin/node bench/report.bench.ts [--base DIR [--base-commit SHA]] [--runs 7] [--no-write]
//
// DIR needs only src/report: `git archive main src | tar -x -C DIR` makes one.
//
// Writes bench/results/report.json and the report section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { RunReport } from '../src/report/model.ts'
import { failingRun } from './lib/failing-run.ts'
import { writeResultsSection } from './lib/results-md.ts'
import { round, summarize, type Summary } from './lib/stats.ts'

const REPO = path.resolve(import.meta.dirname, '..')
const RESULTS_JSON = path.join(import.meta.dirname, 'results', 'report.json')
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '7' }, base: { type: 'string' }, 'base-commit': { type: 'string' }, 'no-write': { type: 'boolean', default: false } } })
const log = (line: string): void => void process.stderr.write(`${line}\n`)

type Write = (report: RunReport, dir: string) => Promise<{ json: string; junit: string; html: string }>

const commitOf = (dir: string): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

async function writerOf(root: string): Promise<Write> {
  const mod = (await import(pathToFileURL(path.join(root, 'src', 'report', 'write-report.ts')).href)) as { writeReport: Write }
  return mod.writeReport
}

const variants: Array<{ name: string; commit: string; write: Write }> = [{ name: 'this checkout', commit: commitOf(REPO), write: await writerOf(REPO) }]
if (args.base) variants.push({ name: 'base', commit: args['base-commit'] ?? commitOf(args.base), write: await writerOf(path.resolve(args.base)) })

const report = failingRun()
report.environment.services[0] = { ...(report.environment.services[0] as RunReport['environment']['services'][number]), logFile: '.rig/logs/db.log' }
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-report-bench-'))
const loadBefore = os.loadavg().map((x) => round(x, 2))
const t0 = performance.now()
const runs = Number(args.runs)
const times = new Map<string, number[]>(variants.map((v) => [v.name, []]))
const sizes = new Map<string, { json: number; junit: number; html: number }>()
try {
  for (let i = 0; i <= runs; i++) {
    // Rotating order; round 0 is the warm-up.
    for (const v of i % 2 === 0 ? variants : [...variants].reverse()) {
      const dir = path.join(out, v.name.replace(/\W+/g, '-'))
      const s = performance.now()
      const paths = await v.write(report, dir)
      const ms = performance.now() - s
      if (i > 0) times.get(v.name)?.push(ms)
      sizes.set(v.name, { json: fs.statSync(paths.json).size, junit: fs.statSync(paths.junit).size, html: fs.statSync(paths.html).size })
    }
  }
} finally {
  fs.rmSync(out, { recursive: true, force: true })
}

const MB = (n: number): string => `${(n / 1e6).toFixed(2)} MB`
const rows = variants.map((v) => ({ name: v.name, commit: v.commit, bytes: sizes.get(v.name) as { json: number; junit: number; html: number }, writeMs: summarize(times.get(v.name) ?? []) as Summary }))
const result = {
  date: new Date().toISOString(),
  run: { tests: report.tests.length, failed: report.summary.failed, leaking: report.summary.leaks, logErrorLines: report.summary.logErrors },
  variants: rows,
  machine: { cpus: os.cpus().length, node: process.version, loadAvgBefore: loadBefore, loadAvgAfter: os.loadavg().map((x) => round(x, 2)) },
  durationS: round((performance.now() - t0) / 1000, 1),
}
for (const r of rows) log(`${r.name} (${r.commit}): report.json ${MB(r.bytes.json)}, junit.xml ${MB(r.bytes.junit)}, index.html ${MB(r.bytes.html)}; write ${round(r.writeMs.median)} ms median`)

if (!args['no-write']) {
  fs.writeFileSync(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`)
  const base = rows[1]
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`
  const table = rows.map((r) => `| ${r.name} (\`${r.commit}\`) | ${MB(r.bytes.json)} | ${MB(r.bytes.junit)} | ${MB(r.bytes.html)} | ${round(r.writeMs.median)} ms |`).join('\n')
  const ratios = base ? `\n\nThis checkout against the base: report.json ${ratio(rows[0]?.bytes.json ?? 0, base.bytes.json)}, junit.xml ${ratio(rows[0]?.bytes.junit ?? 0, base.bytes.junit)}, index.html ${ratio(rows[0]?.bytes.html ?? 0, base.bytes.html)} the size.` : ''
  writeResultsSection(
    'report',
    `## Report size — \`report.bench.ts\`

${result.date.slice(0, 10)}; ${result.machine.cpus} CPUs, Node ${result.machine.node}; load average ${loadBefore.join(' / ')} before, ${result.machine.loadAvgAfter.join(' / ')} after. A generated run of ${result.run.tests} tests (${result.run.failed} failed, ${result.run.leaking} with a schema left behind, ${result.run.logErrorLines} log error lines, two tests with 200 each); write times are medians of ${runs} rotating rounds.

| writer | report.json | junit.xml | index.html | write (median) |
|---|---|---|---|---|
${table}${ratios}`,
  )
}
