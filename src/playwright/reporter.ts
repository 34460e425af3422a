// rig's Playwright reporter (added by withRig()): every test's result with what its worker
// recorded (leaks, log errors, browser errors) and the screenshot and trace Playwright saved,
// into the runner core's RunCollector; at the end, replay commands and the run report.
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter'
import { readResults, removeResults, resultKey } from '../runner/handoff.ts'
import { keptArgs, type ReplayCommand } from '../runner/order.ts'
import { resolveOptions } from '../runner/options.ts'
import { RunCollector, type EndedTestResult } from '../runner/run-report.ts'
import { recordedName, testName } from './test-names.ts'
import { runSlot } from './run-slot.ts'

/** Files Playwright saves for a test that the report links to. */
const ARTIFACTS = new Set(['screenshot', 'trace', 'video'])

/** `npx playwright test` with what a replay must keep: the config and the projects (no seed: Playwright runs tests in their order). */
export function replayCommand(argv: readonly string[]): ReplayCommand {
  return { command: ['npx', 'playwright', 'test', ...keptArgs(argv, ['--config', '-c', '--project'])], testFlag: '-g', shardFlag: '--shard', nameSeparator: ' ', matchesEnd: true, seedInCommand: true }
}

/** A result's status as the report counts it: a test that fails as `test.fail()` expects passed. */
function statusOf(test: TestCase, result: TestResult): EndedTestResult['status'] {
  if (result.status === 'skipped') return 'skipped'
  return result.status === test.expectedStatus ? 'passed' : 'failed'
}

export default class RigPlaywrightReporter implements Reporter {
  private config: FullConfig | undefined
  private readonly files: string[] = []
  private readonly ended: (EndedTestResult & { key: string })[] = []

  onBegin(config: FullConfig, _suite: Suite): void {
    this.config = config
  }

  onTestBegin(test: TestCase): void {
    if (!this.files.includes(test.location.file)) this.files.push(test.location.file)
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const project = test.parent.project()?.name ?? ''
    const name = testName(test.titlePath().slice(3))
    const artifacts = result.attachments.flatMap((a) => (a.path && ARTIFACTS.has(a.name) ? [{ name: a.name, path: a.path, contentType: a.contentType }] : []))
    this.ended.push({
      file: test.location.file,
      name,
      key: resultKey(test.location.file, recordedName(project, name)),
      status: statusOf(test, result),
      durationMs: result.duration,
      errors: result.errors.map((e) => (e.message ?? e.value ?? '').split('\n')[0] ?? ''),
      ...(artifacts.length ? { artifacts } : {}),
    })
  }

  onEnd(result: FullResult): void {
    const run = runSlot().run
    if (!run) return
    const { handoff } = run
    const shard = this.config?.shard
    const collector = new RunCollector({
      seed: handoff.provided.seed,
      root: handoff.root,
      options: resolveOptions({ report: handoff.report }),
      session: handoff.session,
      replay: replayCommand(process.argv.slice(2)),
      errorPatterns: Object.fromEntries(Object.values(handoff.provided.services).map((s) => [s.name, s.errorPatterns])),
      ...(shard ? { shard: { index: shard.current, count: shard.total } } : {}),
    })
    const results = readResults(handoff.resultsDir)
    for (const f of this.files) collector.fileStarted(f)
    for (const { key, ...t } of this.ended) {
      const meta = results.get(key)?.shift()
      collector.testEnded({ ...t, ...(meta ? { meta } : {}) })
    }
    collector.finish(result.status === 'interrupted')
    removeResults(handoff)
  }

  printsToStdio(): boolean {
    return false
  }
}
