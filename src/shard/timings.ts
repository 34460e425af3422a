// Earlier durations per test file, for balancing shards: a rig report (a shard's, or a merged
// one) or a timings file (`{ "files": { "test/a.test.ts": 1234 } }`, written by
// `rig report merge --timings`).
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'
import type { RunReport } from '../report/model.ts'

/** Milliseconds per file, relative to the project root. */
export type Timings = Map<string, number>

/** A timings file as `rig report merge --timings` writes it. */
export interface TimingsFile {
  version: 1
  /** ms per test file (relative to the project root), summed over its tests. */
  files: Record<string, number>
}

/** Per-file durations of a report: the sum of its tests'. */
export function timingsOfReport(report: Pick<RunReport, 'tests'>): Timings {
  const t: Timings = new Map()
  for (const e of report.tests) t.set(e.file, (t.get(e.file) ?? 0) + Math.max(0, e.durationMs))
  return t
}

/** Reads a timings file or a report.json; undefined when `file` does not exist. */
export function readTimings(file: string): Timings | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new RigError('RIG_TIMINGS_INVALID', `${file} is not JSON (${(err as Error).message}): give a rig report.json or a timings file written by rig report merge --timings`, { exitCode: 2 })
  }
  const p = parsed as Partial<RunReport> & Partial<TimingsFile>
  if (Array.isArray(p.tests)) return timingsOfReport(p as RunReport)
  if (p.files && typeof p.files === 'object' && !Array.isArray(p.files) && Object.values(p.files).every((v) => typeof v === 'number' && v >= 0)) {
    return new Map(Object.entries(p.files as Record<string, number>).map(([f, ms]) => [path.normalize(f), ms]))
  }
  throw new RigError('RIG_TIMINGS_INVALID', `${file} holds neither a rig report ("tests") nor timings ("files": {path: ms})`, { exitCode: 2 })
}

/** The timings file content for `timings`, paths sorted (stable diffs when committed). */
export function timingsFile(timings: Timings): TimingsFile {
  return { version: 1, files: Object.fromEntries([...timings.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([f, ms]) => [f, Math.round(ms)])) }
}
