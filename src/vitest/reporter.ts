// Vitest's reporter events fed to the runner core's RunCollector (src/runner/run-report.ts),
// which prints replay commands and writes the run report.
import type { Reporter, TestCase, TestModule } from 'vitest/node'
import { RunCollector, type CollectorInit } from '../runner/run-report.ts'
import type { TestMeta } from '../runner/test-meta.ts'

/** The testrig reporter, added by the plugin next to the user's reporters. */
export class RigReporter implements Reporter {
  private readonly collector: RunCollector
  /** The Vitest project this reporter reports on (one per variant), or every one. */
  private readonly project: string | undefined

  constructor(init: CollectorInit & { project?: string }) {
    const { project, ...rest } = init
    this.collector = new RunCollector(rest)
    this.project = project
  }

  private mine(module: TestModule): boolean {
    return this.project === undefined || module.project.name === this.project
  }

  onTestModuleStart(module: TestModule): void {
    if (this.mine(module)) this.collector.fileStarted(module.moduleId)
  }

  onTestModuleEnd(module: TestModule): void {
    if (!this.mine(module)) return
    const errors = module.errors()
    if (errors.length > 0) this.collector.fileFailed(module.moduleId, errors.map((e) => e.message ?? String(e)), module.diagnostic().duration)
  }

  onTestCaseResult(test: TestCase): void {
    if (!this.mine(test.module)) return
    const r = test.result()
    this.collector.testEnded({
      file: test.module.moduleId,
      name: test.fullName,
      status: r.state === 'failed' ? 'failed' : r.state === 'passed' ? 'passed' : 'skipped',
      durationMs: test.diagnostic()?.duration ?? 0,
      errors: (r.errors ?? []).map((e) => e.message ?? String(e)),
      meta: (test.meta() as { rig?: TestMeta }).rig,
    })
  }

  async onTestRunEnd(): Promise<void> {
    this.collector.finish(false)
  }

  /** Writes what there is now (Ctrl-C). */
  finish(interrupted: boolean): void {
    this.collector.finish(interrupted)
  }
}
