// Collects every test's result with what the worker recorded (leaks, log errors), prints a
// replay command for each failure, and writes the run report.
import path from 'node:path'
import type { Reporter, TestCase, TestModule } from 'vitest/node'
import type { RunReport, TestEntry, TimelineEntry } from '../report/model.ts'
import { writeReportSync } from '../report/write-report.ts'
import type { ResolvedPluginOptions } from './options.ts'
import { reproCommand } from './order.ts'
import type { TestMeta } from './test-meta.ts'

/** What the reporter needs from the plugin. */
export interface ReporterInit {
  seed: number
  root: string
  options: ResolvedPluginOptions
  session: { timeline: TimelineEntry[]; startMs: number; attached: boolean }
}

/** The testrig reporter, added by the plugin next to the user's reporters. */
export class RigReporter implements Reporter {
  private readonly init: ReporterInit
  private readonly started = Date.now()
  /** Files in the order they started. */
  private readonly files: string[] = []
  private readonly tests: TestEntry[] = []
  private finished = false

  constructor(init: ReporterInit) {
    this.init = init
  }

  onTestModuleStart(module: TestModule): void {
    if (!this.files.includes(module.moduleId)) this.files.push(module.moduleId)
  }

  /** A file that failed outside its tests (it threw at import, a hook crashed) becomes one failed entry. */
  onTestModuleEnd(module: TestModule): void {
    const errors = module.errors()
    if (errors.length === 0) return
    const file = path.relative(this.init.root, module.moduleId)
    this.tests.push({
      id: `${file} > (file)`,
      file,
      name: '(file)',
      status: 'failed',
      durationMs: Math.round(module.diagnostic().duration),
      errors: errors.map((e) => e.message ?? String(e)),
      leaks: [],
      logErrors: [],
      repro: reproCommand(this.init.seed, [module.moduleId], this.init.root, this.shard()),
    })
  }

  onTestCaseResult(test: TestCase): void {
    const r = test.result()
    const meta = (test.meta() as { rig?: TestMeta }).rig
    const status = r.state === 'failed' ? 'failed' : r.state === 'passed' ? 'passed' : 'skipped'
    const file = test.module.moduleId
    const upTo = this.files.slice(0, this.files.indexOf(file) + 1)
    const entry: TestEntry = {
      id: `${path.relative(this.init.root, file)} > ${test.fullName}`,
      file: path.relative(this.init.root, file),
      name: test.fullName,
      status,
      durationMs: Math.round(test.diagnostic()?.duration ?? 0),
      errors: (r.errors ?? []).map((e) => e.message ?? String(e)),
      leaks: meta?.leaks ?? [],
      logErrors: meta?.logErrors ?? [],
      ...(meta?.restoredWith ? { restoredWith: meta.restoredWith } : {}),
    }
    if (status === 'failed') entry.repro = reproCommand(this.init.seed, upTo.length > 0 ? upTo : [file], this.init.root, { test: test.fullName, ...this.shard() })
    this.tests.push(entry)
  }

  private shard(): { shard?: string } {
    const s = process.argv.find((a) => a.startsWith('--shard'))
    return s ? { shard: s.split('=')[1] ?? '' } : {}
  }

  async onTestRunEnd(): Promise<void> {
    this.finish(false)
  }

  /**
   * Prints replay commands and writes the report, once. Synchronous, so that it also completes
   * from a Ctrl-C handler before Vitest exits.
   */
  finish(interrupted: boolean): void {
    if (this.finished) return
    this.finished = true
    const failed = this.tests.filter((t) => t.status === 'failed')
    const out = (line: string): void => void process.stderr.write(line + '\n')
    if (failed.length > 0) {
      out('\nrig: replay a failure in the same order:')
      for (const t of failed) out(`  ${t.id}\n    ${t.repro}`)
    }
    const report: RunReport = {
      version: 1,
      startedAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
      seed: this.init.seed,
      files: this.files.map((f) => path.relative(this.init.root, f)),
      repro: reproCommand(this.init.seed, this.files, this.init.root, this.shard()),
      summary: {
        passed: this.tests.filter((t) => t.status === 'passed').length,
        failed: failed.length,
        skipped: this.tests.filter((t) => t.status === 'skipped').length,
        leaks: this.tests.filter((t) => t.leaks.length > 0).length,
        logErrors: this.tests.reduce((n, t) => n + t.logErrors.filter((e) => !e.expected).length, 0),
      },
      ...(interrupted ? { interrupted: true } : {}),
      environment: { startMs: Math.round(this.init.session.startMs), attached: this.init.session.attached, services: this.init.session.timeline },
      tests: this.tests,
    }
    if (this.init.options.report.enabled) {
      const dir = path.resolve(this.init.root, this.init.options.report.dir)
      const files = writeReportSync(report, dir)
      out(`rig: seed ${this.init.seed}; ${report.summary.leaks} test(s) leaked data, ${report.summary.logErrors} unexpected log error(s)${interrupted ? '; interrupted' : ''}; report: ${path.relative(process.cwd(), files.html) || files.html}`)
    }
  }
}
