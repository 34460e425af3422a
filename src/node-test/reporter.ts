// `testrig/node-test/reporter`: a node:test reporter (`--test-reporter=testrig/node-test/reporter`)
// that feeds the runner core's RunCollector: every test's result with what its process
// recorded (leaks, log errors), replay commands for failures, and the run report. It prints
// nothing on its own stream; what it says goes to stderr, like the other runners' adapters.
import path from 'node:path'
import { RunCollector } from '../runner/run-report.ts'
import { readResults, readRun, removeResults, resultKey, type RunHandoff } from '../runner/handoff.ts'
import { resolveOptions } from '../runner/options.ts'
import type { ReplayCommand } from '../runner/order.ts'
import { flagValue, nodeFlags } from './global-setup.ts'

/** The part of node:test's reporter events this reporter reads. */
interface TestEvent {
  type: string
  data: {
    name?: string
    nesting?: number
    file?: string
    message?: string
    skip?: boolean | string
    todo?: boolean | string
    details?: { type?: 'test' | 'suite'; duration_ms?: number; error?: { message?: string; cause?: unknown; failureType?: string } }
  }
}

/** Flags of the run a replay must not keep: it names its own seed, files and test. */
/** `--test-shard=i/N` as the report records it (replays then name the shard's files). */
function shardOf(value: string | undefined): { shard?: { index: number; count: number } } {
  const m = /^(\d+)\/(\d+)$/.exec(value ?? '')
  return m ? { shard: { index: Number(m[1]), count: Number(m[2]) } } : {}
}

const NOT_REPLAYED = ['--test-random-seed', '--test-name-pattern', '--test-skip-pattern', '--test-shard', '--test-only', '--test-rerun-failures']

/** `node` with this run's flags, for replay commands. */
export function replayCommand(flags: readonly string[], seed: number | undefined): ReplayCommand {
  const kept: string[] = []
  for (let i = 0; i < flags.length; i++) {
    const a = flags[i] ?? ''
    const name = a.split('=')[0] ?? ''
    if (!NOT_REPLAYED.includes(name)) {
      kept.push(a)
      continue
    }
    // `--flag value`: the value goes too.
    if (!a.includes('=') && name !== '--test-only' && flags[i + 1] !== undefined && !flags[i + 1]!.startsWith('-')) i++
  }
  return { command: ['node', ...kept, ...(seed !== undefined ? [`--test-random-seed=${seed}`] : [])], testFlag: '--test-name-pattern', shardFlag: '--test-shard', seedInCommand: true, nameSeparator: ' ', filesLast: true }
}

/** What a failed test's error says: the cause, when node:test wrapped it ("failed running after hook"). */
function errorText(error: NonNullable<NonNullable<TestEvent['data']['details']>['error']>): string {
  const cause = error.cause as { message?: unknown } | undefined
  if (cause && typeof cause.message === 'string' && error.failureType !== 'testCodeFailure') return cause.message
  return error.message ?? String(error)
}

interface Ended {
  file: string
  name: string
  status: 'passed' | 'failed' | 'skipped'
  durationMs: number
  errors: string[]
}

/** The reporter: node:test calls it with the run's events. */
export default async function* rigReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let run: RunHandoff | undefined
  let seed: number | undefined
  const files: string[] = []
  const ended: Ended[] = []
  const fileErrors: { file: string; errors: string[]; durationMs: number }[] = []
  /** Names of the suites around the test being reported, per file. */
  const stacks = new Map<string, string[]>()
  for await (const event of source) {
    // Published by the global setup in this process; gone from the environment after its teardown.
    run ??= readRun()
    const d = event.data
    if (event.type === 'test:diagnostic') {
      const m = /^Randomized test order seed: (\d+)$/.exec(d.message ?? '')
      if (m) seed = Number(m[1])
      continue
    }
    if (!d.file || d.name === undefined) continue
    if (event.type === 'test:start') {
      if (!files.includes(d.file)) files.push(d.file)
      const stack = stacks.get(d.file) ?? []
      stack.length = d.nesting ?? 0
      stack.push(d.name)
      stacks.set(d.file, stack)
      continue
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const durationMs = d.details?.duration_ms ?? 0
    const errors = d.details?.error ? [errorText(d.details.error)] : []
    // The file itself: node:test reports a file that ran no test of its own (or failed outside
    // its tests) as a test named after the file.
    const isFile = d.nesting === 0 && (d.name === d.file || path.resolve(d.name) === d.file)
    if (isFile || (event.type === 'test:fail' && d.nesting === 0 && d.details?.type === 'suite')) {
      if (event.type === 'test:fail' && (isFile || d.details?.error?.failureType === 'hookFailed')) fileErrors.push({ file: d.file, errors, durationMs })
      continue
    }
    if (d.details?.type === 'suite') continue
    const ancestors = (stacks.get(d.file) ?? []).slice(0, d.nesting ?? 0)
    const status = event.type === 'test:fail' ? 'failed' : d.skip !== undefined || d.todo !== undefined ? 'skipped' : 'passed'
    ended.push({ file: d.file, name: [...ancestors, d.name].join(' > '), status, durationMs, errors })
  }
  if (!run) {
    process.stderr.write('rig: no report: this run had no testrig environment (add --test-global-setup with rigGlobalSetup(), see docs/node-test.md)\n')
    return
  }
  const collector = new RunCollector({
    seed: seed ?? run.provided.seed,
    root: run.root,
    options: resolveOptions({ report: run.report }),
    session: run.session,
    replay: replayCommand(nodeFlags(), seed),
    ...shardOf(flagValue(nodeFlags(), '--test-shard')),
  })
  const results = readResults(run.resultsDir)
  for (const f of files) collector.fileStarted(f)
  for (const f of fileErrors) collector.fileFailed(f.file, f.errors, f.durationMs)
  for (const t of ended) {
    const meta = results.get(resultKey(t.file, t.name))?.shift()
    collector.testEnded({ ...t, ...(meta ? { meta } : {}) })
  }
  collector.finish(false)
  removeResults(run)
}
