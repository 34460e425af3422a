// Which checks a run covers: validate the graph (unknown names, cycles) once, then select by
// tag, pulling in what the selected checks depend on so "blocked by" means something.
import type { CheckDefinition } from './check.ts'
import { CheckConfigError } from './errors.ts'

/** Throws when a check names an unknown dependency or diagnostic, or when they form a cycle. */
export function validateGraph(checks: readonly CheckDefinition[]): void {
  const byName = new Map(checks.map((c) => [c.name, c]))
  for (const c of checks) {
    for (const key of ['dependsOn', 'diagnostics'] as const) {
      for (const n of c.options[key] ?? []) {
        if (!byName.has(n)) throw new CheckConfigError('RIG_CHECK_UNKNOWN_REF', `check "${c.name}" lists "${n}" in ${key}, but no check has that name${suggest(n, [...byName.keys()])}`)
        if (n === c.name) throw new CheckConfigError('RIG_CHECK_CYCLE', `check "${c.name}" lists itself in ${key}`)
      }
    }
  }
  // Depth-first search over dependsOn + diagnostics: either kind of edge makes a check wait on another.
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') throw new CheckConfigError('RIG_CHECK_CYCLE', `checks wait on each other in a cycle: ${[...path.slice(path.indexOf(name)), name].join(' → ')}; remove one dependsOn/diagnostics entry`)
    state.set(name, 'visiting')
    const c = byName.get(name)
    for (const n of [...(c?.options.dependsOn ?? []), ...(c?.options.diagnostics ?? [])]) visit(n, [...path, name])
    state.set(name, 'done')
  }
  for (const c of checks) visit(c.name, [])
}

function suggest(name: string, known: readonly string[]): string {
  const close = known.find((k) => k.toLowerCase() === name.toLowerCase() || k.toLowerCase().includes(name.toLowerCase()))
  return close ? ` (did you mean "${close}"?)` : ''
}

/** Every tag used by `checks`, sorted. */
export function knownTags(checks: readonly CheckDefinition[]): string[] {
  return [...new Set(checks.flatMap((c) => c.options.tags ?? []))].sort()
}

/**
 * The checks with any of `tags` (all checks when none given), plus their dependencies.
 * An unknown tag is an error: a typo must not turn into "0 checks, all green".
 */
export function selectChecks(checks: readonly CheckDefinition[], tags: readonly string[] = []): CheckDefinition[] {
  const all = knownTags(checks)
  for (const t of tags) {
    if (!all.includes(t)) throw new CheckConfigError('RIG_CHECK_UNKNOWN_TAG', `no check has the tag "${t}"${suggest(t, all)}; tags in use: ${all.join(', ') || '(none)'}`)
  }
  if (tags.length === 0) return [...checks]
  const byName = new Map(checks.map((c) => [c.name, c]))
  const picked = new Set<string>()
  const add = (c: CheckDefinition): void => {
    if (picked.has(c.name)) return
    picked.add(c.name)
    for (const d of c.options.dependsOn ?? []) {
      const dep = byName.get(d)
      if (dep) add(dep)
    }
  }
  for (const c of checks) if (c.always || (c.options.tags ?? []).some((t) => tags.includes(t))) add(c)
  return checks.filter((c) => picked.has(c.name))
}
