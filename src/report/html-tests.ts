// The tests table: one row per test in run order, and a details row with what failed it.
// Rows carry data-* attributes so the page script filters and sorts without any embedded data.
import { errorForPage } from './bound.ts'
import { escapeHtml as h, formatDuration } from './escape.ts'
import type { TestEntry, TestStatus } from './model.ts'

const STATUS_LABEL: Record<TestStatus, string> = { passed: 'passed', failed: 'failed', skipped: 'skipped' }

/** A command with a copy button; the script copies the `<code>` text next to it. */
export function copyable(command: string, testid: string): string {
  return `<div class="cmd" data-testid="${testid}"><code>${h(command)}</code><button type="button" class="copy" data-copy>Copy</button></div>`
}

function leaks(test: TestEntry): string {
  if (test.leaks.length === 0) return ''
  const stores = test.leaks.map(
    (l) => `<div class="leak" data-testid="leak"><div class="leak-store">${h(l.store)}</div><ul class="mono">${l.items.map((i) => `<li>${h(i)}</li>`).join('')}</ul></div>`,
  )
  const cleaned = test.restoredWith ? `<p class="muted">Cleaned afterwards with <b>${h(test.restoredWith)}</b>, so later tests started clean.</p>` : ''
  return `<h4>Data left behind</h4>${stores.join('')}${cleaned}`
}

/** Service name → its whole log, for the note under a cut excerpt. */
export type LogFiles = ReadonlyMap<string, string>

function cutNote(test: TestEntry, logFiles: LogFiles): string {
  const n = test.logErrorsCut ?? 0
  if (n === 0) return ''
  const files = [...new Set(test.logErrors.map((l) => l.service))].flatMap((s) => (logFiles.has(s) ? [`<code>${h(logFiles.get(s) ?? '')}</code>`] : []))
  const where = files.length > 0 ? `; the whole log: ${files.join(', ')}` : ''
  return `<p class="muted" data-testid="log-cut">${n} more error line${n === 1 ? '' : 's'} not shown${where}</p>`
}

function logErrors(test: TestEntry, logFiles: LogFiles): string {
  if (test.logErrors.length === 0) return ''
  const byService = new Map<string, TestEntry['logErrors']>()
  for (const l of test.logErrors) byService.set(l.service, [...(byService.get(l.service) ?? []), l])
  const groups = [...byService].map(([service, lines]) => {
    const items = lines.map(
      (l) =>
        `<li class="log-error${l.expected ? ' expected' : ''}" data-testid="log-error" data-expected="${l.expected}">${l.expected ? '<span class="tag">expected</span>' : '<span class="tag bad">unexpected</span>'}<code>${h(l.line)}</code></li>`,
    )
    return `<div class="log-service"><div class="leak-store">${h(service)}</div><ul>${items.join('')}</ul></div>`
  })
  return `<h4>Service log errors</h4>${groups.join('')}${cutNote(test, logFiles)}`
}

function faults(test: TestEntry): string {
  if (!test.faults?.length) return ''
  return `<h4>Network faults it set</h4><ul class="mono" data-testid="faults">${test.faults.map((f) => `<li>${h(f)}</li>`).join('')}</ul><p class="muted">Removed after the test.</p>`
}

function browserErrors(test: TestEntry): string {
  if (!test.browserErrors?.length) return ''
  const items = test.browserErrors.map(
    (e) =>
      `<li class="log-error${e.expected ? ' expected' : ''}" data-testid="browser-error" data-expected="${e.expected}">${e.expected ? '<span class="tag">expected</span>' : '<span class="tag bad">unexpected</span>'}<span class="tag">${h(e.kind)}</span><code>${h(e.text)}</code><div class="muted mono">${h(e.page || '(no page)')}${e.source ? ` · ${h(e.source)}` : ''}</div></li>`,
  )
  return `<h4>Browser errors</h4><ul>${items.join('')}</ul>`
}

function artifacts(test: TestEntry): string {
  if (!test.artifacts?.length) return ''
  const links = test.artifacts.map((a) => `<li><a href="${h(a.path.split('/').map(encodeURIComponent).join('/'))}" data-testid="artifact">${h(a.name)}</a> <span class="muted mono">${h(a.path)}</span></li>`)
  return `<h4>Saved by the test runner</h4><ul data-testid="artifacts">${links.join('')}</ul>`
}

function roles(test: TestEntry): string {
  if (!test.roles?.length) return ''
  return `<h4>Roles it changed</h4><ul class="mono" data-testid="roles">${test.roles.map((r) => `<li>${h(r)}</li>`).join('')}</ul><p class="muted">Roles stay as the test left them.</p>`
}

function details(test: TestEntry, logFiles: LogFiles): string {
  const errors = test.errors.length === 0 ? '' : `<h4>Errors</h4>${test.errors.map((e) => `<pre class="error">${h(errorForPage(e, test))}</pre>`).join('')}`
  const repro = test.repro ? `<h4>Replay this test</h4>${copyable(test.repro, 'test-repro')}` : ''
  const moving = test.notSettled ? `<h4>Still working at the check</h4><pre class="error" data-testid="not-settled">${h(test.notSettled)}</pre>` : ''
  const body = errors + moving + leaks(test) + logErrors(test, logFiles) + browserErrors(test) + faults(test) + roles(test) + artifacts(test) + repro
  const reached = test.touched?.length ? `<p class="muted" data-testid="touched">Services it reached (wrote to their logs, or were sent bytes through rig's proxy): ${test.touched.map((s) => `<code>${h(s)}</code>`).join(', ')}</p>` : ''
  return (body || '<p class="muted">Nothing to report: no errors, no leaks, no log errors.</p>') + reached
}

function flags(test: TestEntry): string {
  const out: string[] = []
  const leakItems = test.leaks.reduce((n, l) => n + l.items.length, 0)
  if (leakItems > 0) out.push(`<span class="flag leak-flag" title="data this test left behind">leaked ${leakItems} item${leakItems === 1 ? '' : 's'}</span>`)
  const unexpected = test.logErrors.filter((l) => !l.expected).length
  const expected = test.logErrors.length - unexpected
  if (unexpected > 0) out.push(`<span class="flag log-flag" title="error lines in service logs">${unexpected} log error${unexpected === 1 ? '' : 's'}</span>`)
  if (expected > 0) out.push(`<span class="flag expected-flag" title="declared with rig.expectLog">${expected} expected</span>`)
  const browser = test.browserErrors?.filter((e) => !e.expected).length ?? 0
  if (browser > 0) out.push(`<span class="flag log-flag" title="errors its browser pages reported" data-testid="browser-flag">${browser} browser error${browser === 1 ? '' : 's'}</span>`)
  return out.join('')
}

function body(test: TestEntry, index: number, maxMs: number, open: boolean, logFiles: LogFiles): string {
  const [suite, name] = splitName(test.name)
  const width = maxMs > 0 ? Math.max(1, Math.round((test.durationMs / maxMs) * 100)) : 0
  const attrs = [
    `class="test ${test.status}"`,
    `data-status="${test.status}"`,
    `data-leaks="${test.leaks.length > 0}"`,
    `data-logs="${test.logErrors.length > 0}"`,
    `data-order="${index}"`,
    `data-duration="${test.durationMs}"`,
  ].join(' ')
  return `<tbody ${attrs}>
<tr class="row" data-testid="test-row" tabindex="0" aria-expanded="${open}">
<td class="num">${index + 1}</td>
<td><span class="status ${test.status}" data-testid="test-status">${STATUS_LABEL[test.status]}</span></td>
<td class="name"><span class="chev" aria-hidden="true"></span>${suite ? `<span class="suite">${h(suite)} › </span>` : ''}<span class="title" data-testid="test-name">${h(name)}</span>${flags(test)}</td>
<td class="file mono">${h(test.file)}</td>
<td class="dur"><i class="dur-bar" style="width:${width}%"></i><span>${formatDuration(test.durationMs)}</span></td>
</tr>
<tr class="details" data-testid="test-details"${open ? '' : ' hidden'}><td class="num"></td><td colspan="4">${details(test, logFiles)}</td></tr>
</tbody>`
}

/** `a > b > test` → [`a › b`, `test`]: the test's own name stands out from its suites. */
function splitName(full: string): [string, string] {
  const parts = full.split(' > ')
  const name = parts.pop() ?? full
  return [parts.join(' › '), name]
}

/** Render the tests section: filters, search and the table. Failures start expanded. */
export function renderTests(tests: readonly TestEntry[], logFiles: LogFiles = new Map()): string {
  const count = (pred: (t: TestEntry) => boolean): number => tests.filter(pred).length
  const filters: [string, string, number][] = [
    ['all', 'All', tests.length],
    ['failed', 'Failed', count((t) => t.status === 'failed')],
    ['passed', 'Passed', count((t) => t.status === 'passed')],
    ['skipped', 'Skipped', count((t) => t.status === 'skipped')],
    ['leaks', 'With leaks', count((t) => t.leaks.length > 0)],
    ['logs', 'With log errors', count((t) => t.logErrors.length > 0)],
  ]
  const buttons = filters
    .map(([key, label, n]) => `<button type="button" class="filter" data-filter="${key}" data-testid="filter-${key}" aria-pressed="${key === 'all'}">${label} <span class="n">${n}</span></button>`)
    .join('')
  const maxMs = Math.max(0, ...tests.map((t) => t.durationMs))
  // Expanding every failure of a badly broken run would bury the table; the first few suffice.
  let toOpen = 10
  const rows = tests.map((t, i) => body(t, i, maxMs, t.status === 'failed' && toOpen-- > 0, logFiles))
  return `<section id="tests" data-testid="tests" class="card">
<h2>Tests</h2>
<div class="toolbar"><div class="filters" role="group" aria-label="Filter by status">${buttons}</div>
<input type="search" id="search" data-testid="search" placeholder="Search names, files, errors…" aria-label="Search tests">
<button type="button" id="toggle-all" data-testid="toggle-all">Expand all</button></div>
<table class="tests">
<thead><tr><th class="num" data-sort="order">#</th><th data-sort="status">Status</th><th data-sort="name">Test</th><th data-sort="file">File</th><th class="dur" data-sort="duration">Duration</th></tr></thead>
${rows.join('\n')}
</table>
<p class="shown muted" data-testid="shown">${tests.length} of ${tests.length} tests shown</p>
<p class="empty muted" data-testid="empty" hidden>No test matches this filter.</p>
</section>`
}
