// Node side of the core: collects every test's result with what its worker recorded (leaks,
// log errors), prints a replay command for each failure, and writes the run report. An
// adapter feeds it from its runner's reporter events.
import path from 'node:path'
import type { RunReport, TestEntry, TimelineEntry } from '../report/model.ts'
import { writeReportSync } from '../report/write-report.ts'
import type { ResolvedRunnerOptions } from './options.ts'
import { allowSnippet, groupLines, type PatternSource } from './log-patterns.ts'
import { reproCommand, type ReplayCommand } from './order.ts'
import type { TestMeta } from './test-meta.ts'

/** What the collector needs from the adapter. */
export interface CollectorInit {
  seed: number
  /** The runner's root: paths in the report and replay commands are relative to it. */
  root: string
  options: ResolvedRunnerOptions
  session: { timeline: TimelineEntry[]; startMs: number; attached: boolean }
  /** The runner's command line for replays. */
  replay: ReplayCommand
  /** The shard of this run: recorded in the report; replay commands name its exact files instead. */
  shard?: { index: number; count: number }
  /** The variant of this run when one runner process runs several; else `RIG_VARIANT`'s. */
  variant?: string
  /** Each service's error patterns (`RigProvided`), to group unexpected log lines. */
  errorPatterns?: Record<string, readonly PatternSource[]>
}

/** How many groups of unexpected log lines the end-of-run summary shows. */
const SUMMARY_GROUPS = 5

/** One finished test, as the runner reports it. */
export interface EndedTestResult {
  /** Absolute path of the test file. */
  file: string
  /** Full name (describe blocks included). */
  name: string
  status: 'passed' | 'failed' | 'skipped'
  durationMs: number
  errors: string[]
  /** What the test session recorded (absent when the test did not run). */
  meta?: TestMeta
  /** Files the runner saved for it (absolute paths): screenshots, traces. */
  artifacts?: { name: string; path: string; contentType: string }[]
}

/** The run's results, then its report. */
export class RunCollector {
  private readonly init: CollectorInit
  private readonly started = Date.now()
  /** Files in the order they started. */
  private readonly files: string[] = []
  private readonly tests: TestEntry[] = []
  private finished = false

  constructor(init: CollectorInit) {
    this.init = init
  }

  /** Where the report goes (artifact links are relative to it). */
  private reportDir(): string {
    return path.resolve(this.init.root, this.init.options.report.dir)
  }

  private repro(files: readonly string[], test?: string): string {
    return reproCommand(this.init.seed, files, this.init.root, this.init.replay, test !== undefined ? { test } : {})
  }

  /** A test file (absolute path) started. */
  fileStarted(file: string): void {
    if (!this.files.includes(file)) this.files.push(file)
  }

  /** A file that failed outside its tests (it threw at import, a hook crashed): one failed entry. */
  fileFailed(file: string, errors: string[], durationMs: number): void {
    const rel = path.relative(this.init.root, file)
    this.tests.push({ id: `${rel} > (file)`, file: rel, name: '(file)', status: 'failed', durationMs: Math.round(durationMs), errors, leaks: [], logErrors: [], repro: this.repro([file]) })
  }

  /** A test ended. */
  testEnded(t: EndedTestResult): void {
    const rel = path.relative(this.init.root, t.file)
    const upTo = this.files.slice(0, this.files.indexOf(t.file) + 1)
    const entry: TestEntry = {
      id: `${rel} > ${t.name}`,
      file: rel,
      name: t.name,
      status: t.status,
      durationMs: Math.round(t.durationMs),
      errors: t.errors,
      leaks: t.meta?.leaks ?? [],
      logErrors: t.meta?.logErrors ?? [],
      ...(t.meta?.restoredWith ? { restoredWith: t.meta.restoredWith } : {}),
      ...(t.meta?.notSettled ? { notSettled: t.meta.notSettled } : {}),
      ...(t.meta?.faults?.length ? { faults: t.meta.faults } : {}),
      ...(t.meta?.browserErrors?.length ? { browserErrors: t.meta.browserErrors } : {}),
      ...(t.artifacts?.length ? { artifacts: t.artifacts.map((a) => ({ ...a, path: path.relative(this.reportDir(), a.path) })) } : {}),
      ...(t.meta?.roles?.length ? { roles: t.meta.roles } : {}),
      ...(t.meta?.worker ? { worker: t.meta.worker } : {}),
      ...(t.meta?.touched?.length ? { touched: t.meta.touched } : {}),
    }
    if (t.status === 'failed') entry.repro = this.repro(upTo.length > 0 ? upTo : [t.file], t.name)
    this.tests.push(entry)
  }

  /**
   * The most frequent unexpected log lines of the run, grouped by a pattern that matches their
   * variants, with the options that would allow them.
   */
  private logSummary(out: (line: string) => void): void {
    const lines = this.tests.flatMap((t) => t.logErrors.filter((e) => !e.expected).map((e) => ({ service: e.service, line: e.line, test: t.id, file: t.file })))
    if (lines.length === 0) return
    const groups = groupLines(lines, (s) => this.init.errorPatterns?.[s] ?? [])
    const shown = groups.slice(0, SUMMARY_GROUPS)
    const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`
    out(`\nrig: ${plural(lines.length, 'unexpected log line')} in ${plural(new Set(lines.map((l) => l.test)).size, 'test')}, most frequent first${groups.length > shown.length ? ` (${shown.length} of ${groups.length} kinds)` : ''}:`)
    for (const g of shown) out(`  ${g.count}× in ${plural(g.tests.size, 'test')}, ${plural(g.files.size, 'file')}  ${g.service}: ${g.example.length > 160 ? `${g.example.slice(0, 160)}…` : g.example}`)
    out(`If they are expected, allow them in rig's options (in one file's allowIn when only that file logs them):\n${allowSnippet(shown)}`)
  }

  /**
   * Prints replay commands and writes the report, once. Synchronous, so that it also completes
   * from a Ctrl-C handler before the runner exits.
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
    this.logSummary(out)
    const report: RunReport = {
      version: 1,
      startedAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
      seed: this.init.seed,
      files: this.files.map((f) => path.relative(this.init.root, f)),
      repro: this.repro(this.files),
      summary: {
        passed: this.tests.filter((t) => t.status === 'passed').length,
        failed: failed.length,
        skipped: this.tests.filter((t) => t.status === 'skipped').length,
        leaks: this.tests.filter((t) => t.leaks.length > 0).length,
        logErrors: this.tests.reduce((n, t) => n + t.logErrors.filter((e) => !e.expected).length, 0),
      },
      ...(this.init.shard ? { shard: this.init.shard } : {}),
      ...((this.init.variant ?? process.env.RIG_VARIANT) ? { variant: this.init.variant ?? process.env.RIG_VARIANT } : {}),
      ...(interrupted ? { interrupted: true } : {}),
      environment: { startMs: Math.round(this.init.session.startMs), attached: this.init.session.attached, services: this.init.session.timeline },
      tests: this.tests,
    }
    if (this.init.options.report.enabled) {
      const dir = this.reportDir()
      const files = writeReportSync(report, dir)
      out(`rig: seed ${this.init.seed}; ${report.summary.leaks} test(s) leaked data, ${report.summary.logErrors} unexpected log error(s)${interrupted ? '; interrupted' : ''}; report: ${path.relative(process.cwd(), files.html) || files.html}`)
    }
  }
}
