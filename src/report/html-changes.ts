// The run's timeline of roles and faults: every role change and network fault, in the order
// the tests ran, each under the test that made it.
import type { RunReport } from './model.ts'
import { escapeHtml as h } from './escape.ts'

/** The "Roles and faults" section; empty when no test changed either. */
export function renderChanges(r: RunReport): string {
  const rows = r.tests.flatMap((t) => [...(t.faults ?? []).map((f) => ({ t, kind: 'fault', text: f })), ...(t.roles ?? []).map((x) => ({ t, kind: 'role', text: x }))])
  if (rows.length === 0) return ''
  const body = rows.map((x) => `<tr data-testid="change"><td>${h(x.t.name)}</td><td>${x.kind}</td><td class="mono">${h(x.text)}</td></tr>`).join('')
  return `<section class="card" id="changes" data-testid="changes"><h2>Roles and faults</h2><p class="muted">In the order the tests ran. Faults were removed after each test; roles stayed.</p><table><thead><tr><th>test</th><th>what</th><th>change</th></tr></thead><tbody>${body}</tbody></table></section>`
}
