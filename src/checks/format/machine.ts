// Machine formats of a report: JSON, JUnit XML and TAP 14. Each keeps the failure reason class
// (JSON `reason`, JUnit `type`, TAP `reason:` in the YAML block) so a CI dashboard can group on it.
import type { CheckReport, CheckResult } from '../result.ts'

const round = (ms: number): number => Math.round(ms * 10) / 10

function rounded(r: CheckResult): CheckResult {
  return { ...r, durationMs: round(r.durationMs), ...(r.diagnostics ? { diagnostics: r.diagnostics.map(rounded) } : {}) }
}

/** The report as JSON (durations to 0.1 ms). */
export function formatJson(report: CheckReport): string {
  return JSON.stringify({ ...report, durationMs: round(report.durationMs), results: report.results.map(rounded) }, null, 2) + '\n'
}

/** Escapes text for XML attributes and content, dropping characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

function diagnosticsText(r: CheckResult): string {
  return (r.diagnostics ?? []).map((d) => `\ndiagnostic "${d.name}": ${d.status}${d.reason ? ` [${d.reason}]` : ''}${d.detail ? ` ${d.detail}` : ''}`).join('')
}

/** JUnit XML: one testcase per check; failures carry `type="<reason>"`; blocked and skipped are `<skipped>`. */
export function formatJunit(report: CheckReport): string {
  const c = report.counts
  const secs = (ms: number): string => (ms / 1000).toFixed(3)
  const cases = report.results.map((r) => {
    const open = `    <testcase name="${xmlEscape(r.name)}" classname="${xmlEscape(r.file ?? 'checks')}" time="${secs(r.durationMs)}"`
    if (r.status === 'fail') {
      const msg = r.detail ?? 'failed'
      return `${open}>\n      <failure type="${r.reason ?? 'error'}" message="${xmlEscape(msg)}">${xmlEscape(`[${r.reason ?? 'error'}] ${msg}${diagnosticsText(r)}`)}</failure>\n    </testcase>`
    }
    if (r.status === 'blocked' || r.status === 'skipped') return `${open}>\n      <skipped message="${xmlEscape(r.detail ?? r.status)}"/>\n    </testcase>`
    if (r.status === 'warn') return `${open}>\n      <system-out>${xmlEscape(`warn: ${r.detail ?? ''}`)}</system-out>\n    </testcase>`
    return `${open}/>`
  })
  const attrs = `tests="${report.results.length}" failures="${c.fail}" errors="0" skipped="${c.blocked + c.skipped}" time="${secs(report.durationMs)}"`
  const name = `rig check${report.target ? ` (${report.target})` : ''}`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(name)}" ${attrs}>`,
    `  <testsuite name="${xmlEscape(name)}" ${attrs} timestamp="${report.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

const yamlString = (s: string): string => JSON.stringify(s)
const oneLine = (s: string): string => s.replace(/[\r\n#\\]+/g, ' ')

/** TAP version 14: failures carry a YAML block with `reason`; blocked and skipped are `# SKIP`. */
export function formatTap(report: CheckReport): string {
  const lines = ['TAP version 14', `1..${report.results.length}`]
  report.results.forEach((r, i) => {
    const n = i + 1
    const name = oneLine(r.name)
    if (r.status === 'blocked' || r.status === 'skipped') lines.push(`ok ${n} - ${name} # SKIP ${oneLine(r.detail ?? r.status)}`)
    else if (r.status === 'fail') {
      lines.push(`not ok ${n} - ${name}`, '  ---', `  reason: ${r.reason ?? 'error'}`, `  message: ${yamlString(r.detail ?? 'failed')}`, `  durationMs: ${round(r.durationMs)}`)
      if (r.diagnostics?.length) {
        lines.push('  diagnostics:')
        for (const d of r.diagnostics) lines.push(`    - name: ${yamlString(d.name)}`, `      status: ${d.status}`, ...(d.reason ? [`      reason: ${d.reason}`] : []), ...(d.detail ? [`      message: ${yamlString(d.detail)}`] : []))
      }
      lines.push('  ...')
    } else lines.push(`ok ${n} - ${name}${r.status === 'warn' ? ` # warn: ${oneLine(r.detail ?? '')}` : ''}`)
  })
  return lines.join('\n') + '\n'
}
