// What the server answers: application/health+json (draft-inadarei-api-health-check),
// Prometheus text, and a self-contained HTML dashboard (no scripts or styles from elsewhere).
import type { ProbeStatus } from '../../probes/probe.ts'
import { xmlEscape } from '../format/machine.ts'
import { overallStatus } from '../result.ts'
import type { ServedResult } from './service.ts'

/** The body of `GET /health`: status only, or with one entry per check when `detailed`. */
export function healthJson(results: readonly ServedResult[], detailed: boolean, partial: boolean): { status: ProbeStatus; [k: string]: unknown } {
  const shown = results.filter((r) => r.status !== 'skipped')
  const status = overallStatus(shown)
  if (!detailed) return { status }
  const checks: Record<string, unknown[]> = {}
  for (const r of shown) {
    const st = r.status === 'blocked' ? 'fail' : r.status
    checks[r.name] = [
      {
        status: st,
        time: r.time,
        observedValue: Math.round(r.durationMs * 10) / 10,
        observedUnit: 'ms',
        // The draft asks to omit output on pass; failures and warnings carry the evidence.
        ...(st !== 'pass' && r.detail ? { output: r.detail } : {}),
        ...(r.reason && r.status === 'fail' ? { reason: r.reason } : {}),
        ...(r.blockedBy ? { blockedBy: r.blockedBy } : {}),
        ...(r.diagnostics ? { diagnostics: r.diagnostics.map((d) => ({ name: d.name, status: d.status, ...(d.reason ? { reason: d.reason } : {}), ...(d.detail ? { output: d.detail } : {}) })) } : {}),
        ageMs: r.ageMs,
        tags: r.tags,
      },
    ]
  }
  return { status, description: 'rig checks', ...(partial ? { notes: ['partial: some checks were still running at the request deadline'] } : {}), checks }
}

const label = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

/** Prometheus text exposition format 0.0.4. */
export function metricsText(results: readonly ServedResult[]): string {
  const shown = results.filter((r) => r.status !== 'skipped')
  const out: string[] = []
  const family = (name: string, help: string, value: (r: ServedResult) => number | undefined): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const r of shown) {
      const v = value(r)
      if (v !== undefined) out.push(`${name}{check="${label(r.name)}"${r.status === 'fail' && r.reason ? `,reason="${r.reason}"` : ''}} ${v}`)
    }
  }
  family('rig_check_success', '1 when the check passed or warned, 0 when it failed or was blocked.', (r) => (r.status === 'pass' || r.status === 'warn' ? 1 : 0))
  family('rig_check_warn', '1 when the check passed with a warning.', (r) => (r.status === 'warn' ? 1 : 0))
  family('rig_check_duration_seconds', 'Duration of the last run of the check.', (r) => r.durationMs / 1000)
  family('rig_check_last_run_timestamp_seconds', 'Unix time the last run of the check finished.', (r) => Date.parse(r.time) / 1000)
  family('rig_check_age_seconds', 'Age of the result served.', (r) => r.ageMs / 1000)
  out.push('# HELP rig_checks_status Overall status: 1 pass, 0.5 warn, 0 fail.', '# TYPE rig_checks_status gauge')
  const s = overallStatus(shown)
  out.push(`rig_checks_status ${s === 'pass' ? 1 : s === 'warn' ? 0.5 : 0}`)
  return out.join('\n') + '\n'
}

const COLOURS: Record<string, string> = { pass: '#1a7f37', warn: '#9a6700', fail: '#cf222e', blocked: '#cf222e', skipped: '#6e7781' }

/** A small page that reloads itself every `refreshSeconds`; detailed rows only when allowed. */
export function dashboardHtml(results: readonly ServedResult[], detailed: boolean, refreshSeconds: number): string {
  const status = overallStatus(results.filter((r) => r.status !== 'skipped'))
  const e = xmlEscape
  const rows = detailed
    ? results
        .map((r) => `<tr><td><b style="color:${COLOURS[r.status]}">${r.status}</b></td><td>${e(r.name)}</td><td>${e(r.tags.join(', '))}</td><td>${r.reason && r.status === 'fail' ? e(r.reason) : ''}</td><td>${Math.round(r.durationMs)} ms</td><td>${Math.round(r.ageMs / 1000)} s</td><td>${e(r.detail ?? '')}</td></tr>`)
        .join('\n')
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>rig checks: ${status}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#1f2328}h1{color:${COLOURS[status]}}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}td:last-child{font-family:monospace;white-space:pre-wrap}</style>
</head><body><h1>${status}</h1>
${detailed ? `<table><tr><th>status</th><th>check</th><th>tags</th><th>reason</th><th>duration</th><th>age</th><th>detail</th></tr>\n${rows}\n</table>` : '<p>Details need a token (Authorization: Bearer).</p>'}
<p><small>refreshes every ${refreshSeconds} s · ${new Date().toISOString()}</small></p>
</body></html>
`
}
