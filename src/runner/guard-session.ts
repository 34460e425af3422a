// Worker side of the guard (runner core): the guard core (src/guard) over every guarded service this worker
// sees, a baseline when the worker starts, and after each test a verdict that honours the
// test's `rig.allowLeak()`.
import { createGuard, type Guard } from '../guard/guard.ts'
import { formatLeaks } from '../guard/format-leaks.ts'
import { type NotSettledError, StoreUnavailableError } from '../guard/errors.ts'
import { DEFAULT_SETTLE_MS } from '../guard/settle/settle-stores.ts'
import type { StoreAdapter } from '../guard/adapter.ts'
import type { Fixtures } from '../guard/fixtures.ts'
import { loadGuardKind, storeKindOf } from '../guard/guard-kind-list.ts'
import type { LeakEntry } from '../report/model.ts'
import { caOf, type ProvidedService, type RigProvided } from './provided.ts'
import { workerUrl } from './worker.ts'

/** What the guard concluded about one test. */
export interface GuardOutcome {
  leaks: LeakEntry[]
  restoredWith?: string
  /** The first line of the "not settled" message, when the application was still working at the deadline. */
  notSettled?: string
  /** Set when the test must fail because of its leaks (or a store that broke). */
  failMessage?: string
  /** Mode 'warn': the leak message, for the test's output instead of a failure. */
  warning?: string
}

/** A test that just ended, as the guard sees it. */
export interface EndedTest {
  /** Full name (describe blocks included). */
  name: string
  /** Path relative to the working directory. */
  file: string
  /**
   * The test already failed (its own assertions or hooks). Its leaks are reported but do not
   * add a second failure; this is also where a store may keep a failed test's data.
   */
  failed: boolean
}

/** The guard for one worker. */
export interface GuardSession {
  /** Settles (waits for the application's work in flight), then checks and restores. */
  check(test: EndedTest, allowed: true | Set<string>): Promise<GuardOutcome>
  /** Waits for the application's work in flight; throws {@link NotSettledError} at the deadline. */
  settle(): Promise<void>
  /** Makes fixture `name` of rig.config.ts the baseline of this file's next tests. */
  useFixture(name: string): Promise<void>
  /** Back to the run's baseline (end of a file that used a fixture). */
  resetFixture(): Promise<void>
  /**
   * Back to the baseline without a verdict: what a test file that never ended (its worker died)
   * left behind. A store rig only watches stays as it is; the others are still put back.
   */
  restore(): Promise<void>
  close(): Promise<void>
}

/** Said under kept data that goes with the environment or its copies at the end of the run. */
const KEPT_GOES = "  (kept data goes with this run's environment or its per-worker copies: to look at it after the run, start the environment with `rig up` and keep the default isolation)"

/** The guard adapter of a service at `url`, for the kinds the guard knows. */
export async function adapterFor(s: ProvidedService, url: string, exclude: string[], queues?: string[]): Promise<StoreAdapter | undefined> {
  return (await loadGuardKind(storeKindOf(s.kind, s.url)))?.store({ name: s.name, url, provider: s.embedded ? 'embedded' : s.startedByRig ? 'process' : 'external', ...caOf(s) }, { exclude, ...(queues ? { queues } : {}) })
}

/** The fixtures of rig.config.ts, read in this worker only when a test asks for one. */
async function fixturesOf(configFile: string): Promise<{ fixtures: Fixtures | undefined; root: string }> {
  const { loadConfig } = await import('../config/load-config.ts')
  const loaded = await loadConfig(configFile)
  return { fixtures: loaded.config.fixtures, root: loaded.root }
}

/**
 * Opens the guard over every guarded service (worker `worker`'s copies: this worker's by
 * default) and records the baseline; undefined when there is nothing to guard.
 */
export async function openGuardSession(p: RigProvided, worker?: number): Promise<GuardSession | undefined> {
  if (p.guard.mode === 'off') return undefined
  const stores: StoreAdapter[] = []
  for (const s of Object.values(p.services)) {
    const a = s.guarded ? await adapterFor(s, workerUrl(s, worker), p.guard.exclude, p.guard.settle?.queues[s.name]) : undefined
    if (a) stores.push(a)
  }
  if (stores.length === 0) return undefined
  const { timeoutMs, skip } = p.guard.settle ?? { timeoutMs: DEFAULT_SETTLE_MS, skip: [] }
  const guard: Guard = createGuard({ stores, mode: p.guard.mode, strategy: p.guard.strategy, allowClean: p.guard.allowCleaning, keepOnFailure: p.guard.keepOnFailure ?? false, settle: { timeoutMs, skip } })
  await guard.baseline(p.guard.baselines)
  let fixturesRead = false
  return {
    async check(test, allowed) {
      // Work the application still has in flight would land during the next test: wait for it
      // first. The test fails for it; the late work gets one more deadline to finish before the
      // check restores, so it does not land in the next test. (A PostgreSQL store waited for
      // alone looks and checks in one round trip.)
      const { settled, report } = await guard.settleAndCheck(test.name, test.file, { failed: test.failed, allowed })
      const leaked = report.stores.filter((s) => s.status === 'leaked')
      const leaks: LeakEntry[] = leaked.map((s) => ({ store: `${s.kind} ${s.store}`, items: s.changes.filter((c) => c.leak).map((c) => c.text) }))
      // "delete (triggers)": the restore, and how the store found what to restore.
      const strategies = [...new Set(report.stores.flatMap((s) => (s.restore ? [s.detection ? `${s.restore.strategy} (${s.detection})` : s.restore.strategy] : [])))]
      const outcome: GuardOutcome = { leaks, ...(strategies.length > 0 ? { restoredWith: strategies.join(', ') } : {}), ...(settled.error ? { notSettled: settled.error.message.split('\n')[0] } : {}) }
      // Problems that are not this test's fault (a store that went away) are still worth a failure.
      const problems = report.errors.map((e) => e.message)
      const blamed = leaked.filter((s) => !(allowed === true || allowed.has(s.store)))
      const message = formatLeaks(test.name, test.file, blamed)
      if (message && report.mode === 'fail' && !test.failed) outcome.failMessage = message
      else if (message && report.mode === 'warn') outcome.warning = message
      const kept = report.stores.flatMap((s) => (s.kept?.where ? [`  ${s.kind} ${s.store}: ${s.kept.where}`] : []))
      const goes = p.guard.keptOutlivesRun ? [] : [KEPT_GOES]
      // A test that failed on its own gets no leak message: where its data went is said apart
      // (the leak message names it per store).
      if (kept.length > 0 && test.failed) outcome.failMessage = ['rig kept what this test left:', ...kept, ...goes].join('\n')
      else if (kept.length > 0 && outcome.failMessage) outcome.failMessage = [outcome.failMessage, ...goes].join('\n')
      if (problems.length > 0) outcome.failMessage = [outcome.failMessage, ...problems].filter(Boolean).join('\n')
      // Not settled comes first: what it names explains the leaks that may follow.
      const unsettled = [...(settled.error && !test.failed ? [settled.error.message] : []), ...settled.errors.filter((e) => !(e instanceof StoreUnavailableError)).map((e) => e.message)]
      if (unsettled.length > 0) outcome.failMessage = [...unsettled, outcome.failMessage].filter(Boolean).join('\n')
      return outcome
    },
    async settle() {
      const r = await guard.settle()
      if (r.error) throw r.error
      const broken = r.errors.find((e) => !(e instanceof StoreUnavailableError))
      if (broken) throw broken
    },
    async useFixture(name) {
      if (!fixturesRead) {
        // Fixture definitions hold functions: they come from rig.config.ts, not from the main process.
        const { fixtures, root } = await fixturesOf(p.configFile)
        guard.setFixtures(fixtures ?? {}, root)
        fixturesRead = true
      }
      await guard.useFixture(name)
    },
    async resetFixture() {
      await guard.resetFixture()
    },
    async restore() {
      await guard.restore({ cleanableOnly: true })
    },
    async close() {
      await guard.close()
    },
  }
}
