// `rig report merge DIR...`: the shards' reports as one (JSON, JUnit, HTML), optionally the
// timings file the next run balances its shards on.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../../errors.ts'
import { writeReport } from '../../report/write-report.ts'
import { mergeReports, readReportAt } from '../../shard/merge-reports.ts'
import { timingsFile, timingsOfReport } from '../../shard/timings.ts'
import type { CommandContext } from '../command.ts'

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** Writes `text` to `file` through a temp name renamed over it (a link there is replaced, not followed). */
function writeFileSafely(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text, { flag: 'wx' })
  fs.renameSync(tmp, file)
}

/** `rig report merge`. */
export async function report({ values, positionals, out }: CommandContext): Promise<number> {
  const [action, ...sources] = positionals
  if (action !== 'merge') throw new RigError('RIG_USAGE', `${action ? `unknown action "${action}"` : 'no action'}: rig report merge DIR... [--out DIR] [--timings FILE]`, { exitCode: 2 })
  const reports = sources.map(readReportAt)
  const merged = mergeReports(reports, sources)
  const dir = path.resolve((values.out as string | undefined) ?? 'rig-report')
  for (const s of sources) {
    if (path.resolve(s) === dir || path.resolve(s) === path.join(dir, 'report.json')) throw new RigError('RIG_USAGE', `--out ${dir} is one of the reports being merged: write the merged report elsewhere (--out rig-report-merged)`, { exitCode: 2 })
  }
  const written = await writeReport(merged, dir)
  if (values.timings) writeFileSafely(path.resolve(values.timings as string), JSON.stringify(timingsFile(timingsOfReport(merged)), null, 2) + '\n')
  if (values.json) {
    out.json({ report: written.json, summary: merged.summary, shards: merged.shards?.map((s) => ({ index: s.index, count: s.count, durationMs: s.durationMs, files: s.files.length })) })
    return merged.summary.failed > 0 ? 1 : 0
  }
  for (const s of merged.shards ?? []) out.print(`  ${s.index ? `shard ${s.index}/${s.count}` : 'run'}  ${String(s.files.length).padStart(4)} files  ${secs(s.durationMs).padStart(8)}  ${s.summary.passed} passed, ${s.summary.failed} failed`)
  const durations = (merged.shards ?? []).map((s) => s.durationMs)
  const mean = durations.reduce((n, d) => n + d, 0) / Math.max(1, durations.length)
  out.print(`${merged.tests.length} tests from ${sources.length} report(s): ${merged.summary.passed} passed, ${merged.summary.failed} failed, ${merged.summary.skipped} skipped; slowest part ${secs(merged.durationMs)} (${(merged.durationMs / Math.max(1, mean)).toFixed(2)}× the mean)`)
  out.print(`report: ${path.relative(process.cwd(), written.html) || written.html}${values.timings ? `; timings: ${values.timings}` : ''}`)
  // The merged run failed when a shard did: CI can gate on this step.
  return merged.summary.failed > 0 ? 1 : 0
}
