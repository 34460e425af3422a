// rig's Jest reporter (set by rig.preset(), next to Jest's default one): feeds the runner core's
// RunCollector with every test's result and what its worker recorded (leaks, log errors); at
// the end of the run, replay commands for failures and the run report.
import { readResults, readRun, removeResults, resultKey } from '../runner/handoff.ts'
import { resolveOptions } from '../runner/options.ts'
import type { ReplayCommand } from '../runner/order.ts'
import { RunCollector, type EndedTestResult } from '../runner/run-report.ts'

/** The parts of Jest's results this reporter reads. */
interface AssertionResult {
  ancestorTitles: string[]
  title: string
  status: string
  duration?: number | null
  failureDetails?: unknown[]
  failureMessages?: string[]
}
interface FileResult {
  testFilePath: string
  testExecError?: { message?: string } | null
  testResults: AssertionResult[]
  perfStats?: { runtime?: number }
}

/** `npx jest` with what a replay must keep of this run's command line: Node's ESM flag, the config, the seed. */
export function replayCommand(argv: readonly string[], nodeOptions: string, seed: number): ReplayCommand {
  const command: string[] = []
  if (/--experimental-vm-modules/.test(nodeOptions) || process.execArgv.includes('--experimental-vm-modules')) command.push('NODE_OPTIONS=--experimental-vm-modules')
  command.push('npx', 'jest')
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? ''
    if (a.startsWith('--config=')) command.push(a)
    else if ((a === '--config' || a === '-c') && argv[i + 1]) command.push(a, argv[++i]!)
  }
  command.push(`--seed=${seed}`, '--runTestsByPath')
  return { command, testFlag: '-t', shardFlag: '--shard', seedInCommand: true, nameSeparator: ' ' }
}

function messageOf(detail: unknown, formatted: string | undefined): string {
  const m = (detail as { message?: unknown } | null)?.message
  if (typeof m === 'string' && m) return m
  return (formatted ?? '').split('\n')[0] ?? ''
}

export default class RigJestReporter {
  private readonly seed: number
  private readonly shard: { index: number; count: number } | undefined
  private readonly files: string[] = []
  private readonly ended: EndedTestResult[] = []
  private readonly fileErrors: { file: string; errors: string[]; durationMs: number }[] = []

  constructor(globalConfig: { seed: number; shard?: { shardIndex: number; shardCount: number } | null }) {
    this.seed = globalConfig.seed
    this.shard = globalConfig.shard ? { index: globalConfig.shard.shardIndex, count: globalConfig.shard.shardCount } : undefined
  }

  onTestFileStart(test: { path: string }): void {
    if (!this.files.includes(test.path)) this.files.push(test.path)
  }

  onTestFileResult(_test: unknown, result: FileResult): void {
    const file = result.testFilePath
    if (result.testExecError) {
      this.fileErrors.push({ file, errors: [result.testExecError.message ?? String(result.testExecError)], durationMs: result.perfStats?.runtime ?? 0 })
    }
    for (const r of result.testResults) {
      const status = r.status === 'passed' ? 'passed' : r.status === 'failed' ? 'failed' : 'skipped'
      const errors = (r.failureMessages ?? []).map((f, i) => messageOf(r.failureDetails?.[i], f))
      this.ended.push({ file, name: [...r.ancestorTitles, r.title].join(' > '), status, durationMs: r.duration ?? 0, errors })
    }
  }

  onRunComplete(): void {
    // Published by the global setup in this process; the teardown comes after this.
    const run = readRun()
    if (!run) return
    const collector = new RunCollector({
      seed: this.seed,
      root: run.root,
      options: resolveOptions({ report: run.report }),
      session: run.session,
      replay: replayCommand(process.argv.slice(2), process.env.NODE_OPTIONS ?? '', this.seed),
      ...(this.shard ? { shard: this.shard } : {}),
    })
    const results = readResults(run.resultsDir)
    for (const f of this.files) collector.fileStarted(f)
    for (const f of this.fileErrors) collector.fileFailed(f.file, f.errors, f.durationMs)
    for (const t of this.ended) {
      const meta = results.get(resultKey(t.file, t.name))?.shift()
      collector.testEnded({ ...t, ...(meta ? { meta } : {}) })
    }
    collector.finish(false)
    removeResults(run)
  }

  getLastError(): undefined {
    return undefined
  }
}
