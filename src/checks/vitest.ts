// The same check files as Vitest tests, one test per check: `await defineCheckTests()` at the
// top of a test file. Kept apart from index.ts so importing `testrig/checks` never loads Vitest.
import path from 'node:path'
import { test } from 'vitest'
import type { CheckDefinition } from './check.ts'
import { prepareChecks } from './prepare.ts'
import type { CheckResult } from './result.ts'
import { DEFAULT_CHECK_TIMEOUT_MS, runChecks } from './runner.ts'
import { selectChecks, validateGraph } from './select.ts'

/** Options of {@link defineCheckTests}. */
export interface CheckTestsOptions {
  /** Project root (where rig.checks.ts and checks/ are). @default process.cwd() */
  root?: string
  /** Check file globs, relative to root. @default from rig.checks.ts, else checks/**\/*.check.ts */
  include?: readonly string[]
  /** Only checks with these tags (and their dependencies). */
  tags?: readonly string[]
  /** Target from rig.checks.ts; without one, a running `rig up` environment's RIG_* vars are used. */
  target?: string
}

/** Dependencies before dependents, so a dependent's test sees its dependency's result. */
function ordered(checks: readonly CheckDefinition[]): CheckDefinition[] {
  const byName = new Map(checks.map((c) => [c.name, c]))
  const out: CheckDefinition[] = []
  const seen = new Set<string>()
  const visit = (c: CheckDefinition): void => {
    if (seen.has(c.name)) return
    seen.add(c.name)
    for (const d of c.options.dependsOn ?? []) {
      const dep = byName.get(d)
      if (dep) visit(dep)
    }
    out.push(c)
  }
  for (const c of checks) visit(c)
  return out
}

function describeFailure(r: CheckResult): string {
  const diag = (r.diagnostics ?? []).map((d) => `\n  diagnostic "${d.name}": ${d.status}${d.reason ? ` [${d.reason}]` : ''} ${d.detail ?? ''}`).join('')
  return `[${r.reason ?? 'error'}] ${r.detail ?? 'failed'}${diag}`
}

/**
 * Declares one Vitest test per check of the project. A failing check fails its test with the
 * reason class in the message; a check blocked by a failed dependency is skipped.
 *
 * @example
 * // test/health.test.ts
 * import { defineCheckTests } from 'testrig/checks/vitest'
 * await defineCheckTests({ tags: ['smoke'] })
 */
export async function defineCheckTests(options: CheckTestsOptions = {}): Promise<void> {
  const root = path.resolve(options.root ?? process.cwd())
  const { project, target } = await prepareChecks(root, { ...(options.include ? { include: options.include } : {}), ...(options.target ? { target: options.target } : {}) })
  validateGraph(project.checks)
  const selected = ordered(selectChecks(project.checks, options.tags))
  const known = new Map<string, CheckResult>()
  const config = project.config
  for (const c of selected) {
    const timeout = c.options.timeout ?? config.defaultTimeout ?? DEFAULT_CHECK_TIMEOUT_MS
    test(
      c.name,
      async (ctx) => {
        const report = await runChecks(project.checks, { names: [c.name], known, tiers: {}, ...(config.defaultTimeout !== undefined ? { defaultTimeout: config.defaultTimeout } : {}), ...(target.name ? { target: target.name } : {}) })
        const r = report.results[0] as CheckResult
        known.set(c.name, r)
        if (r.status === 'blocked' || r.status === 'skipped') return ctx.skip(r.detail)
        if (r.status === 'fail') throw new Error(describeFailure(r))
      },
      // Vitest's own timeout must not fire before the check's, nor its diagnostics'.
      timeout + Math.max(0, ...(c.options.diagnostics ?? []).map((d) => project.checks.find((k) => k.name === d)?.options.timeout ?? DEFAULT_CHECK_TIMEOUT_MS)) + 2000,
    )
  }
}
