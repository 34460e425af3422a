// What a bisect works on, read from a run's report: the failing test, the tests that ran
// before it (the candidates, in their recorded order) and the guard's first guess.
import fs from 'node:fs'
import { RigError } from '../errors.ts'
import type { RunReport, TestEntry } from '../report/model.ts'

/** The inputs of one bisect. */
export interface BisectPlan {
  target: TestEntry
  /** Tests that ran before the target (same worker when the report says), in order. */
  candidates: TestEntry[]
  /** Indices into `candidates` of the tests the guard saw leave data: tried first. */
  guess: number[]
  seed: number
}

/** Reads a report.json, or throws an error saying how to get one. */
export function readReport(file: string): RunReport {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new RigError('RIG_BISECT_NO_REPORT', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run the suite first (npx vitest run) or let rig bisect run it (rig bisect --run)`, { exitCode: 2 })
  }
  const report = JSON.parse(text) as RunReport
  if (!report || !Array.isArray(report.tests) || typeof report.seed !== 'number') throw new RigError('RIG_BISECT_BAD_REPORT', `${file} is not a rig report (no "tests" and "seed")`, { exitCode: 2 })
  return report
}

/** The test named `name` (its full name, its id, or a unique part of either), else the first that failed. */
export function pickTarget(report: RunReport, name: string | undefined, source: string): TestEntry {
  const runnable = report.tests.filter((t) => t.name !== '(file)')
  if (name === undefined) {
    const failed = runnable.filter((t) => t.status === 'failed')
    const first = failed[0]
    if (!first) throw new RigError('RIG_BISECT_NOTHING_FAILED', `no test failed in ${source}: nothing to bisect (name one with --test NAME)`, { exitCode: 2 })
    return first
  }
  const exact = runnable.filter((t) => t.name === name || t.id === name)
  const matches = exact.length > 0 ? exact : runnable.filter((t) => t.name.includes(name) || t.id.includes(name))
  if (matches.length === 0) {
    const failed = runnable.filter((t) => t.status === 'failed').map((t) => `  ${t.id}`)
    throw new RigError('RIG_BISECT_UNKNOWN_TEST', `${source} has no test named "${name}"${failed.length ? `; the tests that failed in it:\n${failed.join('\n')}` : ' (and no test failed in that run)'}`, { exitCode: 2 })
  }
  if (matches.length > 1) throw new RigError('RIG_BISECT_AMBIGUOUS_TEST', `"${name}" names ${matches.length} tests in ${source}; give one's id:\n${matches.map((t) => `  ${t.id}`).join('\n')}`, { exitCode: 2 })
  return matches[0] as TestEntry
}

/** The plan for bisecting `target`: the tests before it in the same worker, leakers first as the guess. */
export function planBisect(report: RunReport, target: TestEntry): BisectPlan {
  const index = report.tests.indexOf(target)
  const worker = target.worker
  const candidates = report.tests.slice(0, index).filter((t) => t.name !== '(file)' && t.status !== 'skipped' && (worker === undefined || t.worker === worker))
  const guess = candidates.flatMap((t, i) => (t.leaks.length > 0 ? [i] : []))
  return { target, candidates, guess, seed: report.seed }
}
