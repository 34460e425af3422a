// The files of this machine's shard: timings found, weights estimated, shards planned, and the
// one line that says what was decided.
import fs from 'node:fs'
import path from 'node:path'
import { estimate, planShards } from './plan.ts'
import type { Shard } from './shard-spec.ts'
import { readTimings, type Timings } from './timings.ts'

/** Where timings are looked for, in order, when none is configured. */
export const DEFAULT_TIMINGS = 'rig-timings.json'

/** This shard's files (in the given order) and what to print. */
export interface ShardSelection {
  files: string[]
  line: string
}

function findTimings(root: string, configured: string | undefined, reportDir: string): { timings: Timings | undefined; from: string } {
  const candidates = configured ? [configured] : [DEFAULT_TIMINGS, path.join(reportDir, 'report.json')]
  for (const c of candidates) {
    const timings = readTimings(path.resolve(root, c))
    if (timings) return { timings, from: c }
  }
  return { timings: undefined, from: configured ? `${configured} (missing)` : '' }
}

/** Picks the files of `shard` among `files` (relative to `root`). */
export function selectShard(root: string, files: readonly string[], shard: Shard, options: { timings?: string; reportDir: string }): ShardSelection {
  const { timings, from } = findTimings(root, options.timings, options.reportDir)
  const sized = files.map((file) => {
    let size = 0
    try {
      size = fs.statSync(path.join(root, file)).size
    } catch {
      // a file Vitest found but we cannot stat: weighs the minimum
    }
    return { file, size }
  })
  const e = estimate(sized, timings)
  const planned = planShards(e.weights, shard.count)
  const mine = planned[shard.index - 1] ?? { files: [], weight: 0 }
  const chosen = new Set(mine.files)
  const total = planned.reduce((n, s) => n + s.weight, 0)
  const secs = (ms: number): string => `~${Math.round(ms / 1000)} s`
  const basis = timings
    ? `timings from ${from}${e.estimated ? `; ${e.estimated} file(s) it lacks estimated from their size` : ''}${e.gone ? `; ${e.gone} file(s) in it no longer exist` : ''}`
    : `no timings${from ? ` (${from})` : ''}: balanced by file size; commit rig-timings.json (rig report merge --timings) or keep the last report`
  const expected = timings ? `, ${secs(mine.weight)} of ${secs(total)} expected` : ''
  return { files: files.filter((f) => chosen.has(f)), line: `shard ${shard.index}/${shard.count}: ${mine.files.length} of ${files.length} files${expected} (${basis})` }
}
