// Keeps a report's size bounded when most of a large suite fails: a message many tests share
// is kept by the first and referenced by the others, and log excerpts, long lines and long leak
// lists are cut with a note of what was cut and where the whole log is. report.json, junit.xml
// and index.html are all written from the bounded report. The page also leaves out of a test's
// errors what its leaks and log errors show just below (errorForPage).
import type { LeakEntry, LogErrorEntry, RunReport, TestEntry } from './model.ts'

/** How much of each kind of text one test keeps. */
export interface ReportLimits {
  /** Log error lines per test; the rest are counted in `logErrorsCut`. */
  logLines: number
  /** Characters of one log line, error line or leak item. */
  lineChars: number
  /** Lines of one error message. */
  errorLines: number
  /** Leak items per store. */
  leakItems: number
  /** A message at least this long, shared with an earlier test, is referenced instead of repeated. */
  sharedChars: number
}

/** The limits the writers use. */
export const REPORT_LIMITS: ReportLimits = { logLines: 20, lineChars: 1000, errorLines: 60, leakItems: 20, sharedChars: 120 }

/** The prefix of the guard's leak message (`formatLeaks`). */
const LEAK_HEAD = 'Data left behind by '

/** `text` cut to `max` characters, saying how many were cut. */
export function cutLine(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… (${text.length - max} more characters)`
}

function cutLines(text: string, limits: ReportLimits): string {
  const lines = text.split('\n').map((l) => cutLine(l, limits.lineChars))
  if (lines.length <= limits.errorLines) return lines.join('\n')
  return [...lines.slice(0, limits.errorLines), `… ${lines.length - limits.errorLines} more lines`].join('\n')
}

/**
 * The paragraph of an error that is the guard's leak message for the leaks the test already
 * holds: every store line names a store of `leaks`. Those paragraphs say nothing `leaks` does not.
 */
function isOwnLeakMessage(paragraph: string, leaks: readonly LeakEntry[]): boolean {
  if (!paragraph.startsWith(LEAK_HEAD) || leaks.length === 0) return false
  const stores = new Set(leaks.map((l) => l.store))
  const lines = paragraph.split('\n').slice(1)
  return lines.length > 0 && lines.every((l) => /^ {2}[^:]+: /.test(l) && stores.has(l.slice(2, l.indexOf(': '))))
}

/**
 * The log lines of an error that `logErrors` holds (the log scan's failure message) left out,
 * with a note saying where they are.
 */
function withoutOwnLogLines(paragraph: string, logs: readonly LogErrorEntry[]): string {
  if (logs.length === 0 || !paragraph.startsWith('Errors logged by services')) return paragraph
  const own = new Set(logs.map((l) => `  ${l.service}: ${l.line}`))
  const lines = paragraph.split('\n')
  const kept = lines.filter((l) => !own.has(l))
  const dropped = lines.length - kept.length
  if (dropped === 0) return paragraph
  return [kept[0], `  (${dropped} line${dropped === 1 ? '' : 's'}: see below)`, ...kept.slice(1)].join('\n')
}

/** What stands in for the leak message in a test's errors on the page. */
export const LEAKS_SEE_BELOW = 'Data left behind by this test (see below)'

/**
 * A test's error as the page shows it: the guard's leak message for the leaks listed below it,
 * and the log lines its log errors list below it, are not repeated (report.json keeps them).
 */
export function errorForPage(text: string, test: Pick<TestEntry, 'leaks' | 'logErrors'>): string {
  return text
    .split('\n\n')
    .map((p) => (isOwnLeakMessage(p, test.leaks) ? LEAKS_SEE_BELOW : withoutOwnLogLines(p, test.logErrors)))
    .join('\n\n')
}

/** Every limit applied and shared messages referenced; `report` itself is left as it is. */
export function boundReport(report: RunReport, limits: ReportLimits = REPORT_LIMITS): RunReport {
  // The first test (1-based, as the page numbers them) that carried each long message.
  const firstSeen = new Map<string, number>()
  const tests = report.tests.map((t, i): TestEntry => {
    const errors = t.errors.map((text) => {
      if (text.length >= limits.sharedChars) {
        const first = firstSeen.get(text)
        if (first !== undefined) return `Same error as test #${first}: ${cutLine(text.split('\n')[0] ?? '', 100)}`
        firstSeen.set(text, i + 1)
      }
      return cutLines(text, limits)
    })
    const leaks = t.leaks.map((l) => {
      const items = l.items.slice(0, limits.leakItems).map((x) => cutLine(x, limits.lineChars))
      if (l.items.length > limits.leakItems) items.push(`… and ${l.items.length - limits.leakItems} more`)
      return { store: l.store, items }
    })
    const logErrors: LogErrorEntry[] = t.logErrors.slice(0, limits.logLines).map((l) => ({ ...l, line: cutLine(l.line, limits.lineChars) }))
    const cut = t.logErrors.length - logErrors.length
    return { ...t, errors, leaks, logErrors, ...(cut > 0 ? { logErrorsCut: (t.logErrorsCut ?? 0) + cut } : {}) }
  })
  return { ...report, tests }
}
