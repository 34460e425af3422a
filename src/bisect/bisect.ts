// `rig bisect`'s engine: replays the failing test alone and after everything that ran before
// it (both decide at once whether there is anything to bisect), then searches the tests before
// it for the ones that make it fail.
import type { TestEntry } from '../report/model.ts'
import { findPolluters } from './ddmin.ts'
import type { Replayer, ReplayOutcome } from './replay.ts'
import type { BisectPlan } from './select.ts'
import { RigError } from '../errors.ts'

/** One replay, as progress. */
export interface BisectStep {
  /** 1-based replay number. */
  run: number
  /** What the replay was for. */
  purpose: 'alone' | 'recorded order' | 'search'
  /** How many tests ran before the target. */
  before: number
  outcome: ReplayOutcome
}

/** What a bisect concluded. */
export type BisectResult =
  | { kind: 'polluted'; sets: TestEntry[][]; runs: number }
  /** The failure did not come back after the recorded tests. */
  | { kind: 'not-reproduced'; runs: number; tries: number }
  /** It fails with nothing before it: not order-dependent (`failures` of `tries` replays). */
  | { kind: 'fails-alone'; runs: number; failures: number; tries: number }

/** Options of {@link bisect}. */
export interface BisectOptions {
  /** Replays of each probe; a probe fails when any of them fails (for flaky failures). @default 1 */
  runs?: number
  onStep?: (step: BisectStep) => void
}

/** Finds which tests before `plan.target` make it fail. */
export async function bisect(plan: BisectPlan, replayer: Replayer, options: BisectOptions = {}): Promise<BisectResult> {
  const runs = Math.max(1, options.runs ?? 1)
  let run = 0
  const replay = async (before: TestEntry[], purpose: BisectStep['purpose']): Promise<ReplayOutcome> => {
    const outcome = await replayer.replay(before, plan.target, plan.seed)
    options.onStep?.({ run: ++run, purpose, before: before.length, outcome })
    if (outcome.status === 'missing') throw new RigError('RIG_BISECT_TEST_GONE', `"${plan.target.name}" (${plan.target.file}) did not run in the replay: was it renamed or removed since the report was written? Run the suite again and bisect its new report`, { exitCode: 2 })
    return outcome
  }
  /** Failures among `runs` replays (all of them: these two checks say how flaky it is). */
  const count = async (before: TestEntry[], purpose: BisectStep['purpose']): Promise<number> => {
    let failures = 0
    for (let i = 0; i < runs; i++) if ((await replay(before, purpose)).status === 'failed') failures++
    return failures
  }
  const alone = await count([], 'alone')
  if (alone > 0) return { kind: 'fails-alone', runs: run, failures: alone, tries: runs }
  if (plan.candidates.length === 0 || (await count(plan.candidates, 'recorded order')) === 0) return { kind: 'not-reproduced', runs: run, tries: runs }
  const memo = new Map<string, boolean>()
  memo.set(plan.candidates.map((_, i) => i).join(','), true)
  memo.set('', false)
  const fails = async (subset: readonly number[]): Promise<boolean> => {
    const key = subset.join(',')
    const known = memo.get(key)
    if (known !== undefined) return known
    const before = subset.map((i) => plan.candidates[i] as TestEntry)
    let failed = false
    for (let i = 0; i < runs && !failed; i++) failed = (await replay(before, 'search')).status === 'failed'
    memo.set(key, failed)
    return failed
  }
  const found = await findPolluters(plan.candidates.map((_, i) => i), fails, plan.guess)
  return { kind: 'polluted', sets: found.sets.map((s) => s.map((i) => plan.candidates[i] as TestEntry)), runs: run }
}
