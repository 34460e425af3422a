// The dependency graph: normalised `dependsOn`, unknown references and cycles. Names come from
// the user: maps have no prototype and lookups are own-property checks, so a dependency named
// "toString" or "constructor" is just an unknown service.
import { suggest } from '../config/suggest.ts'
import { ConfigError } from '../errors.ts'
import type { DependencyCondition, DependsOn } from '../services/service-kind.ts'

/** `dependsOn` in one shape: dependency name → condition (a map without prototype). */
export function normaliseDependsOn(d: DependsOn | undefined): Record<string, DependencyCondition> {
  const out: Record<string, DependencyCondition> = Object.create(null)
  if (!d) return out
  if (Array.isArray(d)) for (const n of d as readonly string[]) out[n] = 'ready'
  else Object.assign(out, d)
  return out
}

const CONDITIONS: readonly string[] = ['started', 'ready', 'completed']

/** Checks references and conditions and throws on a cycle, naming it. Returns a start order. */
export function checkGraph(deps: Readonly<Record<string, Record<string, DependencyCondition>>>): string[] {
  const names = Object.keys(deps)
  for (const [name, d] of Object.entries(deps)) {
    for (const [dep, cond] of Object.entries(d)) {
      if (!Object.hasOwn(deps, dep)) {
        const s = suggest(dep, names)
        throw new ConfigError('RIG_CONFIG_UNKNOWN_DEPENDENCY', `service "${name}" depends on "${dep}", which is not a service in this config${s ? ` — did you mean "${s}"?` : ''} (services: ${names.join(', ')})`)
      }
      if (dep === name) throw new ConfigError('RIG_CONFIG_CYCLE', `service "${name}" depends on itself`)
      if (!CONDITIONS.includes(cond)) {
        throw new ConfigError('RIG_CONFIG_INVALID', `service "${name}": dependsOn.${dep} must be one of ${CONDITIONS.join(', ')}, got ${JSON.stringify(cond)}`)
      }
    }
  }
  const order: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (n: string, path: string[]): void => {
    const s = state.get(n)
    if (s === 'done') return
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(n)), n]
      throw new ConfigError('RIG_CONFIG_CYCLE', `dependency cycle: ${cycle.join(' → ')}. Remove one of these dependsOn entries.`)
    }
    state.set(n, 'visiting')
    for (const dep of Object.keys(deps[n] ?? {})) visit(dep, [...path, n])
    state.set(n, 'done')
    order.push(n)
  }
  for (const n of names) visit(n, [])
  return order
}
