// The start-up timeline: when each service started and became ready, and the critical chain
// (the sequence of dependencies that decided the total start time).
import type { ServiceTimeline } from './started-service.ts'

/** A change of roles or network after the start, as the environment recorded it. */
export interface TimelineChange {
  /** ms since the environment started. */
  at: number
  /** Wall time (ISO 8601). */
  time: string
  service: string
  kind: 'role' | 'fault'
  /** e.g. `failover: node 0 killed, node 1 promoted`, `latency 200ms`. */
  text: string
}

/** One link of the critical chain. */
export interface ChainLink {
  service: string
  /** When it became ready (or completed), ms since the start. */
  at: number
  /** Its own share: time from its start to ready. */
  ownMs: number
}

function doneAt(t: ServiceTimeline): number {
  return Math.max(t.readyAt ?? 0, t.completedAt ?? 0)
}

/** The chain of services, root dependency first, that ended last. */
export function criticalChain(timelines: Readonly<Record<string, ServiceTimeline>>): ChainLink[] {
  const entries = Object.entries(timelines)
  if (entries.length === 0) return []
  let [name, t] = entries.reduce((a, b) => (doneAt(b[1]) > doneAt(a[1]) ? b : a))
  const chain: ChainLink[] = []
  for (;;) {
    chain.unshift({ service: name, at: doneAt(t), ownMs: doneAt(t) - (t.startingAt ?? 0) })
    const deps = t.dependsOn.map((d) => [d, timelines[d]] as const).filter((e): e is readonly [string, ServiceTimeline] => e[1] !== undefined)
    if (deps.length === 0) break
    ;[name, t] = deps.reduce((a, b) => (doneAt(b[1]) > doneAt(a[1]) ? b : a))
  }
  return chain
}

/** `db 223 ms → migrate +41 ms → api +102 ms`. */
export function formatChain(chain: readonly ChainLink[]): string {
  return chain.map((l, i) => (i === 0 ? `${l.service} ${Math.round(l.at)} ms` : `${l.service} +${Math.round(l.ownMs)} ms`)).join(' → ')
}
