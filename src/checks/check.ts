// `check(name, options, fn)`: check files call it at import time; whoever loads the files
// (the CLI, the server, the Vitest adapter) collects what they declared. The collector lives
// on globalThis so a check file importing another copy of this module still registers here.
import type { ProbeStatus } from '../probes/probe.ts'
import { CheckConfigError } from './errors.ts'

/** What a check body receives. */
export interface CheckContext {
  /** Aborted when the check's timeout passes or the run is cancelled: pass it to anything that waits. */
  signal: AbortSignal
  /** process.env plus the target's values. */
  env: Readonly<Record<string, string | undefined>>
  /** Records a warning: the check reports `warn` instead of `pass`. */
  warn(message: string): void
}

/** What a check body may return: nothing (pass), a detail string, `false` (fail) or an outcome. */
export type CheckReturn = void | undefined | string | boolean | { status?: ProbeStatus; detail?: string } | object

/** A check body. It fails by throwing (helpers throw a failure with a reason class). */
export type CheckFn = (ctx: CheckContext) => CheckReturn | Promise<CheckReturn>

/** Options of {@link check}. */
export interface CheckOptions {
  /** Tiers and groups, e.g. `['smoke']`, `['diagnostic']`; `rig check --tag` selects on them. */
  tags?: readonly string[]
  /**
   * Timeout of one run in ms; the body's signal aborts when it passes.
   * @default 5000 (capped by the budget of its tier)
   */
  timeout?: number
  /** Checks that must pass first; when one fails this one reports "blocked by …". */
  dependsOn?: readonly string[]
  /** Checks run when this one fails, shown with it (e.g. a smoke check naming deeper diagnostics). */
  diagnostics?: readonly string[]
  /** The check writes to the system: never run from `rig serve`. */
  writes?: boolean
  /** The check is costly: never run from `rig serve`. */
  expensive?: boolean
  /** How long `rig serve` reuses a result, in ms. @default the server's --ttl */
  ttl?: number
}

/** A declared check. */
export interface CheckDefinition {
  readonly name: string
  readonly options: CheckOptions
  readonly fn: CheckFn
  /** File that declared it, when loaded from a file. */
  readonly file?: string
  /** Set on the stand-in check of a file that failed to import: selected whatever the tags. */
  readonly always?: boolean
}

/** Where `check()` calls go. */
export interface CheckCollector {
  readonly checks: CheckDefinition[]
  /** File being imported, recorded on each check. */
  file?: string
}

const KEY = Symbol.for('testrig.checks.collector')
const holder = globalThis as unknown as Record<symbol, CheckCollector | undefined>

/** Starts collecting `check()` calls into a fresh collector; returns it. */
export function beginCollecting(): CheckCollector {
  const c: CheckCollector = { checks: [] }
  holder[KEY] = c
  return c
}

/** Stops collecting; later `check()` calls go to the default collector again. */
export function endCollecting(): void {
  holder[KEY] = undefined
}

const fallback: CheckCollector = { checks: [] }

/** The checks declared outside any loader (e.g. in a script that calls runChecks itself). */
export function declaredChecks(): readonly CheckDefinition[] {
  return fallback.checks
}

function assertOptions(name: string, o: CheckOptions): void {
  const bad = (what: string): never => {
    throw new CheckConfigError('RIG_CHECK_INVALID', `check "${name}": ${what}`)
  }
  if (o.timeout !== undefined && !(Number.isFinite(o.timeout) && o.timeout > 0)) bad(`timeout must be a positive number of ms, got ${String(o.timeout)}`)
  if (o.ttl !== undefined && !(Number.isFinite(o.ttl) && o.ttl >= 0)) bad(`ttl must be a number of ms ≥ 0, got ${String(o.ttl)}`)
  for (const key of ['tags', 'dependsOn', 'diagnostics'] as const) {
    const v = o[key]
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))) bad(`${key} must be a list of non-empty strings`)
  }
}

/**
 * Declares a health check. Call it at the top level of a `*.check.ts` file.
 *
 * @example
 * check('API answers', { tags: ['smoke'] }, () => expectHttp(`${env.API_URL}/health`, { status: 200 }))
 */
export function check(name: string, options: CheckOptions, fn: CheckFn): CheckDefinition
export function check(name: string, fn: CheckFn): CheckDefinition
export function check(name: string, optionsOrFn: CheckOptions | CheckFn, maybeFn?: CheckFn): CheckDefinition {
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn
  if (typeof name !== 'string' || name.trim() === '') throw new CheckConfigError('RIG_CHECK_INVALID', 'check() needs a non-empty name as its first argument')
  if (typeof fn !== 'function') throw new CheckConfigError('RIG_CHECK_INVALID', `check "${name}" needs a function as its last argument`)
  assertOptions(name, options ?? {})
  const collector = holder[KEY] ?? fallback
  const existing = collector.checks.find((c) => c.name === name)
  if (existing) {
    const where = (f?: string): string => (f ? ` in ${f}` : '')
    throw new CheckConfigError('RIG_CHECK_DUPLICATE', `two checks are named "${name}"${where(existing.file)}${existing.file !== collector.file ? ` and${where(collector.file)}` : ' (twice)'}: names identify checks in results, metrics and --tag runs, so rename one`)
  }
  const def: CheckDefinition = { name, options: options ?? {}, fn, ...(collector.file ? { file: collector.file } : {}) }
  collector.checks.push(def)
  return def
}
