// The result model every output (pretty, JSON, JUnit, TAP, health+json, metrics) is built from.
import type { FailureReason, ProbeStatus } from '../probes/probe.ts'

/**
 * Outcome of one check. `blocked`: a dependency failed, so it did not run. `skipped`: it was
 * not allowed to run here (a writing or expensive check asked for over HTTP).
 */
export type CheckStatus = ProbeStatus | 'blocked' | 'skipped'

/** The result of one check in one run. */
export interface CheckResult {
  name: string
  status: CheckStatus
  /** Why it failed: dns, connect, tls, timeout, status, assertion or error. */
  reason?: FailureReason
  /** What was seen, or why it failed. */
  detail?: string
  durationMs: number
  /** When the check finished (ISO 8601): the age of a cached result is measured from here. */
  time: string
  tags: string[]
  file?: string
  /** Names of the failed dependencies, when blocked. */
  blockedBy?: string[]
  /** Diagnostics that ran because this check failed. */
  diagnostics?: CheckResult[]
}

/** A whole run. */
export interface CheckReport {
  /** `fail` when any check failed or was blocked, else `warn` when any warned, else `pass`. */
  status: ProbeStatus
  startedAt: string
  durationMs: number
  /** Target the checks ran against, when one was chosen. */
  target?: string
  results: CheckResult[]
  counts: Record<CheckStatus, number>
}

/** The overall status of a list of results. */
export function overallStatus(results: readonly CheckResult[]): ProbeStatus {
  if (results.some((r) => r.status === 'fail' || r.status === 'blocked')) return 'fail'
  if (results.some((r) => r.status === 'warn')) return 'warn'
  return 'pass'
}

/** How many results have each status. */
export function countStatuses(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, blocked: 0, skipped: 0 }
  for (const r of results) counts[r.status]++
  return counts
}

/** Builds a report from finished results. */
export function toReport(results: CheckResult[], startedAt: Date, durationMs: number, target?: string): CheckReport {
  return { status: overallStatus(results), startedAt: startedAt.toISOString(), durationMs, ...(target ? { target } : {}), results, counts: countStatuses(results) }
}
