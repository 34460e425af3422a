// Runs checks in parallel with bounded concurrency. Each check gets its own timeout and
// AbortSignal (through runProbe); a check waits for its dependencies and reports "blocked by"
// when one failed; a failing check runs its diagnostics and carries their results.
import { runProbe, type Probe, type ProbeResult } from '../probes/probe.ts'
import type { CheckDefinition, CheckReturn } from './check.ts'
import { withScope, type CheckScope } from './context.ts'
import { env } from './env.ts'
import { CheckConfigError } from './errors.ts'
import { toReport, type CheckReport, type CheckResult } from './result.ts'
import { selectChecks, validateGraph } from './select.ts'
import { Semaphore } from './semaphore.ts'

/** Default timeout of a check without one, in ms. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5000
/** Default number of checks running at once. */
export const DEFAULT_CONCURRENCY = 16

/** A tier: checks with this tag share a time budget counted from the start of the run. */
export interface Tier {
  /** ms; caps each check's timeout, and checks still queued when it is spent time out. */
  budget: number
}

/** Options of {@link runChecks}. */
export interface RunOptions {
  /** Only checks with one of these tags (plus their dependencies). @default all */
  tags?: readonly string[]
  /** @default 16 */
  concurrency?: number
  /** @default 5000 */
  defaultTimeout?: number
  /** Budgets per tag, e.g. `{ smoke: { budget: 2000 } }`. */
  tiers?: Readonly<Record<string, Tier>>
  /** Cancels the run: running checks are aborted, queued ones time out at once. */
  signal?: AbortSignal
  /** Results to reuse instead of running those checks (the server's cache). */
  known?: ReadonlyMap<string, CheckResult>
  /** Says why a check must not run here (e.g. `it writes`), or undefined to run it. */
  refuse?: (check: CheckDefinition) => string | undefined
  /** Run exactly these checks (no tag selection); their dependencies come from `known` or run too. */
  names?: readonly string[]
  /** Called as each check (or diagnostic) finishes, for live output and caches. */
  onResult?: (result: CheckResult) => void
  /** Target name, recorded in the report. */
  target?: string
}

function normalise(out: CheckReturn, scope: CheckScope): Partial<ProbeResult> | void {
  const result: Partial<ProbeResult> = {}
  if (out === false) return { status: 'fail', detail: 'the check returned false' }
  if (typeof out === 'string') result.detail = out
  else if (out && typeof out === 'object') {
    // Only an explicit outcome counts: a helper's return value (a response, rows) is not one.
    const o = out as { status?: unknown; detail?: unknown }
    if (o.status === 'pass' || o.status === 'warn' || o.status === 'fail') result.status = o.status
    if (typeof o.detail === 'string') result.detail = o.detail
  }
  if (result.status === 'fail') return result
  if (scope.warnings.length > 0) return { status: 'warn', detail: [...scope.warnings, ...(result.detail ? [result.detail] : [])].join('; ') }
  if (result.detail === undefined && scope.notes.length > 0) result.detail = scope.notes.join('; ')
  return result
}

/** A check as a probe, so it gets runProbe's timeout, abort and error classification. */
function asProbe(c: CheckDefinition): Probe {
  return {
    name: c.name,
    async run(ctx) {
      const scope: CheckScope = { signal: ctx.signal, warnings: [], notes: [] }
      const out = await withScope(scope, () => c.fn({ signal: ctx.signal, env, warn: (m) => void scope.warnings.push(m) }))
      return normalise(out, scope)
    },
  }
}

function unknownName(name: string): never {
  throw new CheckConfigError('RIG_CHECK_UNKNOWN_REF', `no check is named "${name}"`)
}

function base(c: CheckDefinition): Pick<CheckResult, 'name' | 'tags' | 'file'> {
  return { name: c.name, tags: [...(c.options.tags ?? [])], ...(c.file ? { file: c.file } : {}) }
}

/**
 * Runs the selected checks and resolves with the report; never throws for a failing check,
 * only for a bad selection (unknown tag) or graph (unknown reference, cycle).
 */
export async function runChecks(all: readonly CheckDefinition[], options: RunOptions = {}): Promise<CheckReport> {
  validateGraph(all)
  const byName = new Map(all.map((c) => [c.name, c]))
  const selected = options.names ? options.names.map((n) => byName.get(n) ?? unknownName(n)) : selectChecks(all, options.tags)
  const sem = new Semaphore(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY))
  const running = new Map<string, Promise<CheckResult>>()
  const startedAt = new Date()
  const t0 = performance.now()

  const ensure = (name: string): Promise<CheckResult> => {
    const known = options.known?.get(name)
    if (known) return Promise.resolve(known)
    let p = running.get(name)
    if (!p) {
      p = execute(byName.get(name) as CheckDefinition).then((r) => {
        options.onResult?.(r)
        return r
      })
      running.set(name, p)
    }
    return p
  }

  const finished = (c: CheckDefinition, r: Omit<CheckResult, 'name' | 'tags' | 'file' | 'time'>): CheckResult => ({ ...base(c), ...r, time: new Date().toISOString() })

  async function execute(c: CheckDefinition): Promise<CheckResult> {
    const refused = options.refuse?.(c)
    if (refused) return finished(c, { status: 'skipped', detail: refused, durationMs: 0 })
    const deps = await Promise.all((c.options.dependsOn ?? []).map(ensure))
    const bad = deps.filter((d) => d.status === 'fail' || d.status === 'blocked' || d.status === 'skipped')
    if (bad.some((d) => d.status === 'skipped')) return finished(c, { status: 'skipped', detail: `depends on ${bad.map((d) => `"${d.name}"`).join(', ')}, which cannot run here`, durationMs: 0 })
    if (bad.length > 0) return finished(c, { status: 'blocked', detail: `blocked by ${bad.map((d) => `"${d.name}"`).join(', ')}`, blockedBy: bad.map((d) => d.name), durationMs: 0 })
    const release = await sem.acquire()
    let result: CheckResult
    try {
      // The tier's budget counts from the start of the run, so time spent queued is spent.
      let timeout = c.options.timeout ?? options.defaultTimeout ?? DEFAULT_CHECK_TIMEOUT_MS
      let tier: string | undefined
      for (const tag of c.options.tags ?? []) {
        const budget = options.tiers?.[tag]?.budget
        if (budget === undefined) continue
        const left = budget - (performance.now() - t0)
        if (left < timeout) [timeout, tier] = [left, tag]
      }
      if (options.signal?.aborted) result = finished(c, { status: 'fail', reason: 'timeout', detail: 'the run was cancelled before this check started', durationMs: 0 })
      else if (timeout <= 0) result = finished(c, { status: 'fail', reason: 'timeout', detail: `the "${tier}" tier's budget of ${options.tiers?.[tier as string]?.budget} ms was spent before this check could start`, durationMs: 0 })
      else {
        const r = await runProbe(asProbe(c), { timeoutMs: Math.ceil(timeout), ...(options.signal ? { signal: options.signal } : {}) })
        const detail = r.reason === 'timeout' && tier ? `${r.detail} (budget of the "${tier}" tier)` : r.detail
        result = finished(c, { status: r.status, ...(r.reason ? { reason: r.reason } : {}), ...(detail !== undefined ? { detail } : {}), durationMs: r.durationMs })
      }
    } finally {
      release()
    }
    if (result.status === 'fail' && (c.options.diagnostics?.length ?? 0) > 0) {
      result.diagnostics = await Promise.all((c.options.diagnostics ?? []).map(ensure))
    }
    return result
  }

  const results = await Promise.all(selected.map((c) => ensure(c.name)))
  return toReport(results, startedAt, performance.now() - t0, options.target)
}
