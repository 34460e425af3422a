import type { EnvState } from '../env/state.ts'
import { maskPassword } from '../services/credentials.ts'
import { criticalChain, formatChain } from '../env/timeline.ts'
import type { Output } from './output.ts'

/** Renders rows as aligned columns. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
}

/** Prints the services table and the critical chain of a running environment (passwords masked: a terminal is seen by others). */
export function printServices(out: Output, state: Pick<EnvState, 'services' | 'timeline' | 'startMs'>): void {
  const rows: string[][] = [['SERVICE', 'KIND', 'STATUS', 'URL', 'PID', 'READY']]
  for (const [name, s] of Object.entries(state.services)) {
    // A proxied service is reached through its proxy (RIG_<NAME>_URL): that is the address shown.
    const url = s.proxy ? `${maskPassword(s.proxy.url)} (proxy)` : maskPassword(s.url)
    rows.push([name, s.provider && s.provider !== 'process' ? `${s.kind} (${s.provider})` : s.kind, s.status, url || '-', s.pid ? String(s.pid) : '-', s.readyMs === null ? '-' : `${s.readyMs} ms`])
  }
  const [head, ...body] = columns(rows)
  out.print(out.s.dim(head ?? ''))
  for (const line of body) out.print(line)
  const chain = criticalChain(state.timeline)
  if (chain.length > 0) out.print(out.s.dim(`ready in ${Math.round(state.startMs)} ms; critical chain: ${formatChain(chain)}`))
}

/** The `--json` shape of `rig status` and `rig up --detach --json`. */
export function servicesJson(state: Pick<EnvState, 'services' | 'startMs'> & Partial<EnvState>): Record<string, unknown> {
  return {
    running: true,
    ...(state.pid ? { pid: state.pid } : {}),
    startMs: Math.round(state.startMs),
    services: Object.fromEntries(
      Object.entries(state.services).map(([n, s]) => [n, { kind: s.kind, provider: s.provider, status: s.status, url: s.url, host: s.host, port: s.port, pid: s.pid, readyMs: s.readyMs, env: s.env, logFile: s.logFile, ...(s.proxy ? { proxy: { url: s.proxy.url, host: s.proxy.host, port: s.proxy.port } } : {}) }]),
    ),
  }
}
