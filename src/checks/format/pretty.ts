// Human output of `rig check`: one line per check, the reason class in brackets, diagnostics
// indented under the check that triggered them, and a summary line.
import type { CheckReport, CheckResult, CheckStatus } from '../result.ts'

/** Colouring the pretty format uses; identity functions give plain text. */
export interface Paint {
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  dim(s: string): string
  bold(s: string): string
}

const plain: Paint = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s }

const MARK: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', blocked: '-', skipped: '○' }

/** Duration as `12 ms` or `1.02 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

/** One line (plus diagnostics) for a result. */
export function prettyResult(r: CheckResult, paint: Paint = plain, indent = ''): string[] {
  const colour = r.status === 'pass' ? paint.green : r.status === 'warn' ? paint.yellow : r.status === 'fail' ? paint.red : paint.dim
  const reason = r.reason && r.status === 'fail' ? ` ${paint.red(`[${r.reason}]`)}` : ''
  const time = r.status === 'blocked' || r.status === 'skipped' ? '' : `  ${paint.dim(formatMs(r.durationMs))}`
  const lines = [`${indent}${colour(MARK[r.status])} ${r.name}${time}${reason}${r.detail ? `  ${r.status === 'pass' ? paint.dim(r.detail) : r.detail}` : ''}`]
  if (r.diagnostics?.length) {
    lines.push(`${indent}    ${paint.dim('diagnostics:')}`)
    for (const d of r.diagnostics) lines.push(...prettyResult(d, paint, `${indent}    `))
  }
  return lines
}

/** The summary line: `20 checks: 18 passed, 1 failed, 1 blocked in 1.02 s`. */
export function summaryLine(report: CheckReport, paint: Paint = plain): string {
  const c = report.counts
  const parts = [
    c.pass ? paint.green(`${c.pass} passed`) : '',
    c.warn ? paint.yellow(`${c.warn} warned`) : '',
    c.fail ? paint.red(`${c.fail} failed`) : '',
    c.blocked ? paint.red(`${c.blocked} blocked`) : '',
    c.skipped ? paint.dim(`${c.skipped} skipped`) : '',
  ].filter(Boolean)
  const target = report.target ? ` (target ${report.target})` : ''
  return `${paint.bold(`${report.results.length} checks`)}: ${parts.join(', ')} in ${formatMs(report.durationMs)}${target}`
}

/** The whole report, for a terminal. */
export function formatPretty(report: CheckReport, paint: Paint = plain): string {
  return [...report.results.flatMap((r) => prettyResult(r, paint)), '', summaryLine(report, paint)].join('\n') + '\n'
}
