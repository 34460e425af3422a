// `rig report merge`: one report from the reports of a suite's shards (or of any runs of the
// same suite), with each part's duration, so CI shows one result and keeps one timings file.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'
import type { RunReport, ShardPart } from '../report/model.ts'
import { reproCommand } from '../runner/order.ts'

/** Reads `report.json` from a report dir, or the file itself. */
export function readReportAt(where: string): RunReport {
  const file = fs.existsSync(where) && fs.statSync(where).isDirectory() ? path.join(where, 'report.json') : where
  let parsed: Partial<RunReport>
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunReport>
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new RigError('RIG_REPORT_UNREADABLE', `cannot read a report at ${file} (${why}): give rig-report directories or report.json files of the shards`, { exitCode: 2 })
  }
  if (!Array.isArray(parsed.tests) || !Array.isArray(parsed.files) || typeof parsed.seed !== 'number') throw new RigError('RIG_REPORT_UNREADABLE', `${file} is not a rig report.json (no "tests", "files" and "seed")`, { exitCode: 2 })
  return parsed as RunReport
}

/** Parts of the reports, a merged report's own parts kept as they are. */
function partsOf(r: RunReport): ShardPart[] {
  if (r.shards && r.shards.length > 0) return r.shards
  return [{ index: r.shard?.index ?? 0, count: r.shard?.count ?? 0, startedAt: r.startedAt, durationMs: r.durationMs, files: r.files, summary: r.summary }]
}

/** Joins `reports` (in shard order) into one; refuses two reports of the same shard. */
export function mergeReports(reports: readonly RunReport[], sources: readonly string[]): RunReport {
  if (reports.length === 0) throw new RigError('RIG_USAGE', 'nothing to merge: rig report merge DIR... (the rig-report directories of the shards)', { exitCode: 2 })
  const parts = reports.flatMap(partsOf)
  const seen = new Map<string, number>()
  parts.forEach((p, i) => {
    if (p.index === 0) return
    const key = `${p.index}/${p.count}`
    const before = seen.get(key)
    if (before !== undefined) throw new RigError('RIG_REPORT_DUPLICATE_SHARD', `two reports are shard ${key}: ${sources[before] ?? '?'} and ${sources[i] ?? '?'}; give each shard's report once`, { exitCode: 2 })
    seen.set(key, i)
  })
  const ordered = reports.map((r, i) => ({ r, i, index: r.shard?.index ?? partsOf(r)[0]?.index ?? 0 })).sort((a, b) => a.index - b.index || a.i - b.i)
  const tests = ordered.flatMap(({ r }) => r.tests)
  const files = [...new Set(ordered.flatMap(({ r }) => r.files))]
  const first = ordered[0]?.r as RunReport
  const start = Math.min(...reports.map((r) => Date.parse(r.startedAt)).filter((t) => !Number.isNaN(t)))
  const seeds = new Set(reports.map((r) => r.seed))
  const sum = (k: keyof RunReport['summary']): number => reports.reduce((n, r) => n + (r.summary?.[k] ?? 0), 0)
  return {
    version: 1,
    startedAt: Number.isFinite(start) ? new Date(start).toISOString() : first.startedAt,
    // Shards run side by side: the run took as long as its slowest part.
    durationMs: Math.max(...parts.map((p) => p.durationMs)),
    seed: first.seed,
    files,
    // One command replays the whole run when the shards shared a seed; otherwise the first's.
    repro: seeds.size === 1 ? reproCommand(first.seed, files, '.', { command: ['npx', 'vitest', 'run'], testFlag: '-t' }) : first.repro,
    summary: { passed: sum('passed'), failed: sum('failed'), skipped: sum('skipped'), leaks: sum('leaks'), logErrors: sum('logErrors') },
    shards: parts.sort((a, b) => a.index - b.index),
    ...(reports.some((r) => r.interrupted) ? { interrupted: true } : {}),
    environment: first.environment,
    tests,
  }
}
