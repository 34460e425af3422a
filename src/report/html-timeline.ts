// The environment's start-up as a Gantt chart in plain HTML/CSS: one row per service, bars
// positioned in percent so the chart fits any width without a charting library.
import { criticalChain, formatChain } from '../env/timeline.ts'
import { escapeHtml as h, formatDuration } from './escape.ts'
import type { RunReport, TimelineEntry } from './model.ts'

type Environment = RunReport['environment']

const endOf = (s: TimelineEntry): number | undefined => s.completedAt ?? s.readyAt

/** Round tick step (1, 2 or 5 × 10^k ms) giving about six gridlines. */
function tickStep(span: number): number {
  const raw = span / 6
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)))
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? pow * 10
}

function deps(s: TimelineEntry): string {
  return s.dependsOn.length === 0 ? '<span class="muted">no dependencies</span>' : `after ${s.dependsOn.map((d) => `<b>${h(d)}</b>`).join(', ')}`
}

function row(s: TimelineEntry, span: number, critical: Set<string>, grid: string): string {
  const pct = (ms: number): string => `${((ms / span) * 100).toFixed(2)}%`
  const start = s.startingAt
  const end = endOf(s)
  const copy = s.worker === undefined ? '' : ` · worker ${s.worker}'s copy`
  const label = `<div class="tl-label"><b>${h(s.service)}</b><span class="muted">${h(s.kind)} · ${h(s.provider)}${copy}</span></div>`
  const depCell = `<div class="tl-deps" data-testid="timeline-deps">${deps(s)}</div>`
  let track: string
  if (start === undefined || end === undefined) {
    const why = start === undefined ? 'already running, not started by this run' : 'did not become ready'
    track = `<div class="tl-track">${grid}<span class="tl-note">${why}</span></div>`
  } else {
    const oneShot = s.completedAt !== undefined
    // The lighter head is the time before the process existed (copying a data dir, spawning).
    const spawned = s.startedAt !== undefined && s.startedAt > start && s.startedAt < end ? s.startedAt : undefined
    const head = spawned === undefined ? '' : `<span class="tl-prep" style="width:${(((spawned - start) / Math.max(end - start, 1)) * 100).toFixed(2)}%"></span>`
    const title = [
      `${s.service}${copy}: starting at ${formatDuration(start)}`,
      spawned === undefined ? '' : `, spawned at ${formatDuration(spawned)}`,
      `, ${oneShot ? 'completed' : 'ready'} at ${formatDuration(end)} (${formatDuration(end - start)})`,
    ].join('')
    const cls = ['tl-bar', oneShot ? 'oneshot' : '', critical.has(s.service) && s.worker === undefined ? 'critical' : ''].filter(Boolean).join(' ')
    track = `<div class="tl-track">${grid}<div class="${cls}" data-testid="timeline-bar" style="left:${pct(start)};width:max(3px,${pct(end - start)})" title="${h(title)}">${head}</div><span class="tl-time" style="left:${pct(end)}">${formatDuration(end - start)}</span></div>`
  }
  return `<div class="tl-row" data-service="${h(s.service)}"${s.worker === undefined ? '' : ` data-worker="${s.worker}"`}>${label}${track}${depCell}</div>`
}

/** Render the start-up timeline section. */
export function renderTimeline(env: Environment): string {
  const services = [...env.services].sort((a, b) => (a.startingAt ?? Infinity) - (b.startingAt ?? Infinity) || a.service.localeCompare(b.service))
  const head = `<h2>Environment start-up</h2>`
  if (services.length === 0) {
    return `<section id="timeline" data-testid="timeline" class="card">${head}<p class="muted">No services.</p></section>`
  }
  const timed = services.filter((s) => s.startingAt !== undefined && endOf(s) !== undefined)
  const last = Math.max(env.startMs, ...timed.map((s) => endOf(s) ?? 0), 1)
  // Headroom on the right keeps the duration label of the last bar inside the chart.
  const span = last * 1.14
  const step = tickStep(last)
  const ticks: number[] = []
  for (let t = 0; t <= last; t += step) ticks.push(t)
  const grid = ticks.map((t) => `<i class="tl-grid" style="left:${((t / span) * 100).toFixed(2)}%"></i>`).join('')
  const axis = ticks.map((t) => `<span style="left:${((t / span) * 100).toFixed(2)}%">${formatDuration(t)}</span>`).join('')
  // Workers' copies (`isolation: 'stack'`) start after the environment: not on its critical path.
  const chain = criticalChain(Object.fromEntries(timed.filter((s) => s.worker === undefined).map((s) => [s.service, s])))
  const critical = new Set(chain.map((l) => l.service))
  const what = env.attached
    ? 'Attached to an environment that was already running (rig up): start-up was not part of this run.'
    : `Ready in <b>${formatDuration(env.startMs)}</b>${chain.length > 0 ? ` · critical path: <span class="mono">${h(formatChain(chain))}</span>` : ''}`
  return `<section id="timeline" data-testid="timeline" class="card">${head}
<p class="sub">${what}</p>
<div class="tl" role="img" aria-label="Start-up timeline of ${services.length} services">
<div class="tl-row tl-axis-row"><div></div><div class="tl-axis">${axis}</div><div></div></div>
${services.map((s) => row(s, span, critical, grid)).join('\n')}
</div>
<p class="legend"><span class="key prep"></span>preparing (before the process runs) <span class="key ready"></span>starting until ready <span class="key oneshot"></span>one-shot until it completed <span class="key critical"></span>on the critical path</p>
</section>`
}
