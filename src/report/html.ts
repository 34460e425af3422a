// One self-contained page: inline CSS and script, no network, opens from file://. A
// Content-Security-Policy pins the one script by hash, so even a test name that slipped past
// escaping could not run code, and forbids every fetch.
import { createHash } from 'node:crypto'
import { escapeHtml as h, formatDuration } from './escape.ts'
import { SCRIPT } from './html-script.ts'
import { STYLE } from './html-style.ts'
import { copyable, renderTests } from './html-tests.ts'
import { renderTimeline } from './html-timeline.ts'
import { renderChanges } from './html-changes.ts'
import type { RunReport } from './model.ts'

type Summary = RunReport['summary']

function summaryCards(s: Summary): string {
  const cards: [keyof Summary, string, string][] = [
    ['passed', 'passed', 'passed'],
    ['failed', 'failed', 'failed'],
    ['skipped', 'skipped', 'skipped'],
    ['leaks', 'leaks', 'leaks'],
    ['logErrors', 'log errors', 'logs'],
  ]
  return cards
    .map(([key, label, filter]) => {
      const alarm = (key === 'failed' || key === 'leaks' || key === 'logErrors') && s[key] > 0 ? ' alarm' : ''
      return `<button type="button" class="stat ${filter}${alarm}" data-filter="${filter}" data-testid="summary-${filter}" title="Show only these tests"><span class="value">${s[key]}</span><span class="label">${label}</span></button>`
    })
    .join('')
}

/** Options of {@link renderHtml}. */
export interface HtmlOptions {
  /** Where the tests × variants page is, relative to this page (a variant's report links it). */
  matrix?: string
}

/** The variant this run used, and the page of every variant's results. */
function variantNote(r: RunReport, o: HtmlOptions): string {
  if (r.variant === undefined) return ''
  const link = o.matrix ? ` (<a href="${h(o.matrix)}" data-testid="matrix-link">what is tested in every variant</a>)` : ''
  return ` · variant <b class="mono" data-testid="variant">${h(r.variant)}</b>${link}`
}

function header(r: RunReport, o: HtmlOptions): string {
  const ok = r.summary.failed === 0
  const total = r.tests.length
  const verdict = ok ? `All ${total - r.summary.skipped} tests passed` : `${r.summary.failed} of ${total} tests failed`
  const started = new Date(r.startedAt)
  const when = Number.isNaN(started.getTime()) ? r.startedAt : started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')
  return `<header class="card head ${ok ? 'ok' : 'ko'}" data-testid="header">
<div class="verdict"><span class="dot"></span><div><h1>${h(verdict)}</h1>
<p class="meta">rig run of ${h(when)} · <span data-testid="duration">${formatDuration(r.durationMs)}</span> · seed <b class="mono" data-testid="seed">${r.seed}</b> · ${r.files.length} file${r.files.length === 1 ? '' : 's'}${variantNote(r, o)} · <a href="#timeline">environment ${r.environment.attached ? 'attached' : `ready in ${formatDuration(r.environment.startMs)}`}</a></p></div></div>
<div class="stats" id="summary" data-testid="summary">${summaryCards(r.summary)}</div>
<div class="repro"><div class="repro-label">Replay this run in the same order</div>${copyable(r.repro, 'repro')}</div>
</header>`
}

function files(r: RunReport): string {
  if (r.files.length === 0) return ''
  const items = r.files.map((f) => `<li class="mono">${h(f)}</li>`).join('')
  return `<section class="card" id="files" data-testid="files"><details><summary><h2>Files in run order (${r.files.length})</h2></summary><ol>${items}</ol></details></section>${shards(r)}`
}

/** A merged report's shards (`rig report merge`): each one's duration, files and counts. */
function shards(r: RunReport): string {
  if (!r.shards?.length) return ''
  const rows = r.shards.map((s) => `<tr><td>${s.index ? `${s.index}/${s.count}` : '—'}</td><td>${formatDuration(s.durationMs)}</td><td>${s.files.length}</td><td>${s.summary.passed}</td><td>${s.summary.failed}</td></tr>`).join('')
  return `<section class="card" id="shards" data-testid="shards"><h2>Shards (${r.shards.length})</h2><table><thead><tr><th>shard</th><th>duration</th><th>files</th><th>passed</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table></section>`
}

const cspHash = (code: string): string => `'sha256-${createHash('sha256').update(code).digest('base64')}'`

/** Render the report as one self-contained HTML page. */
export function renderHtml(report: RunReport, options: HtmlOptions = {}): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src ${cspHash(SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`
  const title = `${report.summary.failed === 0 ? '✓' : '✗'} rig report · ${report.summary.passed} passed, ${report.summary.failed} failed`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<title>${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(report, options)}
${renderTests(report.tests, new Map(report.environment.services.flatMap((s) => (s.logFile ? [[s.service, s.logFile] as const] : []))))}
${renderChanges(report)}
${renderTimeline(report.environment)}
${files(report)}
<footer class="muted">report.json and junit.xml sit next to this page · format version ${report.version}</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}
