// JUnit XML for CI systems (GitLab, Jenkins, GitHub annotations). Their parsers differ, so this
// sticks to the subset all of them read: testsuites > testsuite (one per file) > testcase,
// with <failure>, <skipped/>, <properties> and <system-out>.
import { escapeXml } from './escape.ts'
import type { RunReport, TestEntry } from './model.ts'

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3)

/** Leaks and log errors as plain lines, for a failure body or `<system-out>`. */
function findings(test: TestEntry): string[] {
  const lines: string[] = test.notSettled ? [test.notSettled] : []
  for (const leak of test.leaks) {
    lines.push(`Leaked data in ${leak.store}:`, ...leak.items.map((i) => `  ${i}`))
  }
  if (test.leaks.length > 0 && test.restoredWith) lines.push(`  (cleaned with ${test.restoredWith})`)
  for (const log of test.logErrors) {
    lines.push(`Log error from ${log.service}${log.expected ? ' (expected)' : ''}: ${log.line}`)
  }
  if (test.logErrorsCut) lines.push(`… ${test.logErrorsCut} more log error line(s), in the services' logs`)
  return lines
}

/** The headline CI shows: the first error, or what else failed the test. */
function failureMessage(test: TestEntry): string {
  const first = test.errors[0]?.split('\n')[0]
  if (first) return first
  if (test.leaks.length > 0) return `Test left data behind in ${test.leaks.map((l) => l.store).join(', ')}`
  const unexpected = test.logErrors.filter((l) => !l.expected)
  if (unexpected.length > 0) return `${unexpected.length} error line(s) in service logs`
  return 'Test failed'
}

function testcase(test: TestEntry): string {
  const attrs = `classname="${escapeXml(test.file, true)}" name="${escapeXml(test.name, true)}" time="${seconds(test.durationMs)}" file="${escapeXml(test.file, true)}"`
  const extra = findings(test)
  const repro = test.repro ? [`Reproduce: ${test.repro}`] : []
  const parts: string[] = []
  if (test.status === 'failed') {
    const body = [...test.errors, ...extra, ...repro].join('\n')
    parts.push(`      <failure message="${escapeXml(failureMessage(test), true)}" type="failure">${escapeXml(body)}</failure>`)
  } else if (test.status === 'skipped') {
    parts.push('      <skipped/>')
  }
  // A passing test can still carry expected log errors or allowed leaks: keep them visible.
  if (test.status !== 'failed' && extra.length > 0) {
    parts.push(`      <system-out>${escapeXml(extra.join('\n'))}</system-out>`)
  }
  if (parts.length === 0) return `    <testcase ${attrs}/>`
  return [`    <testcase ${attrs}>`, ...parts, '    </testcase>'].join('\n')
}

/** Render the run as JUnit XML: one `<testsuite>` per file, in run order. */
export function renderJunit(report: RunReport): string {
  const byFile = new Map<string, TestEntry[]>()
  // Files that ran without tests still get a (empty) suite, so CI lists them.
  for (const file of report.files) byFile.set(file, [])
  for (const test of report.tests) {
    const list = byFile.get(test.file)
    if (list) list.push(test)
    else byFile.set(test.file, [test])
  }
  const count = (tests: TestEntry[], status: TestEntry['status']): number => tests.filter((t) => t.status === status).length
  const properties = [
    '    <properties>',
    `      <property name="seed" value="${report.seed}"/>`,
    `      <property name="repro" value="${escapeXml(report.repro, true)}"/>`,
    '    </properties>',
  ]
  const suites = [...byFile].map(([file, tests]) => {
    const time = tests.reduce((sum, t) => sum + t.durationMs, 0)
    const head = `  <testsuite name="${escapeXml(file, true)}" tests="${tests.length}" failures="${count(tests, 'failed')}" errors="0" skipped="${count(tests, 'skipped')}" time="${seconds(time)}" timestamp="${escapeXml(report.startedAt, true)}" file="${escapeXml(file, true)}">`
    return [head, ...properties, ...tests.map(testcase), '  </testsuite>'].join('\n')
  })
  const t = report.tests
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rig" tests="${t.length}" failures="${count(t, 'failed')}" errors="0" skipped="${count(t, 'skipped')}" time="${seconds(report.durationMs)}" timestamp="${escapeXml(report.startedAt, true)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n')
}
