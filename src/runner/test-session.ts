// Worker side of the core: the session around every test of one worker. Before a test: reset
// its declarations, refuse to run against a service that died, note where each service's log
// ends. After it: detect services that died, scan the logs for errors, check and restore the
// guarded stores, and say what to record and whether the test must fail. An adapter calls
// these from its runner's hooks; it registers nothing itself.
import path from 'node:path'
import { isAlive } from '../env/proc.ts'
import type { EndedTest, GuardOutcome, GuardSession } from './guard-session.ts'
import { remoteGuardSession, type RemoteGuardSession } from './guard-client.ts'
import { linesWritten, logOffsets, logTail, scanLogs, type LogOffsets } from './log-scan.ts'
import { exitedIn, type EnvironmentStatus, type ProvidedService, type RigProvided } from './provided.ts'
import type { TestMeta } from './test-meta.ts'
import { changedByTest, controlRequest, current, fixtures, pids, settling, workerId } from './worker.ts'
import { ownCopies } from './worker-copies.ts'

export type { EndedTest } from './guard-session.ts'

/** Services found dead in this worker, with the test during which they died (they stay down for later files). */
const dead = new Map<string, string>()

/** What the session concluded about one test. */
export interface TestVerdict {
  /** Record it with the test's result (the report reads it). */
  meta: TestMeta
  /** When set, the adapter fails the test with it (service died, unexpected log errors, leaks). */
  failure?: string
}

/** The per-test session of one worker (one test file at a time). */
export interface TestSession {
  /** Before each test (after the user's before-hooks or before them: it only takes notes). Throws when a service the tests need is down. */
  beforeTest(): void
  /**
   * After each test, once every user after-hook ran. `test.failed`: the test's outcome so far
   * (a failed test's leaks are reported without a second failure).
   */
  afterTest(test: EndedTest): Promise<TestVerdict>
  /** End of a test file: back to the run's baseline; the guard's connections closed (or the guard host told). */
  close(): Promise<void>
}

/** The status of the environment behind `socket`; undefined when it does not answer. */
const statusAt = (socket: string): Promise<EnvironmentStatus | undefined> => controlRequest<EnvironmentStatus>(socket, 'GET', '/status', 5000).catch(() => undefined)

/** Opens the session: the guard's baseline of every guarded store this worker sees. Call it before the first test of a file. */
export async function openTestSession(given: RigProvided): Promise<TestSession> {
  const provided = ownCopies(given, workerId())
  const list = Object.values(provided.services)
  // The guard's code is loaded only when there is something to guard (and then only the kinds
  // the environment has): a worker pays no import it does not use.
  const guarded = provided.guard.mode !== 'off' && list.some((s) => s.guarded)
  // With a guard host (the runner's main process holds the guard for the whole run), the
  // file's checks are requests to it: no guard code, no connection, no baseline here.
  const host = guarded ? provided.guard.host : undefined
  const guard: GuardSession | undefined = host ? await remoteGuardSession(host, workerId()) : guarded ? await (await import('./guard-session.ts')).openGuardSession(provided) : undefined
  fixtures.use = guard ? (name) => guard.useFixture(name) : undefined
  settling.run = guard ? () => guard.settle() : undefined
  let offsets: LogOffsets = new Map()
  // Bytes sent through each proxy so far: a test during which more went through reached that
  // service. Only when files run one at a time: with parallel workers, another worker's test may have.
  const countProxies = list.some((s) => s.proxy) && !list.some((s) => s.workerUrls) && provided.controlSocket !== undefined
  const status = (): Promise<EnvironmentStatus | undefined> => statusAt(provided.controlSocket as string)
  const sentIn = (st: EnvironmentStatus | undefined): Map<string, number> => new Map(Object.entries(st?.services ?? {}).flatMap(([n, v]) => (v.proxy?.bytesIn !== undefined ? [[n, v.proxy.bytesIn] as const] : [])))
  let sent = countProxies ? sentIn(await status()) : new Map<string, number>()

  /** Services whose process is gone since the last look; a one-shot task that completed is gone too, so the environment confirms. */
  const goneNow = (): ProvidedService[] =>
    list.filter((s) => {
      const pid = pids.has(s.name) ? pids.get(s.name) : s.pid
      return pid != null && !isAlive(pid) && !dead.has(s.name)
    })
  /** Of `gone`, the services that exited unexpectedly, by `statusOf` the environment that runs each; the others' new pids are noted. */
  async function confirmDead(gone: ProvidedService[], statusOf: (socket: string) => Promise<EnvironmentStatus | undefined>): Promise<string[]> {
    const confirmed = await Promise.all(
      gone.map(async (s) => {
        // Each asked of the environment that runs it: a worker's copy is its stack's (`isolation: 'stack'`).
        const socket = s.controlSocket ?? provided.controlSocket
        if (!socket) return true
        const st = await statusOf(socket)
        if (exitedIn(st, s.name)) return true
        pids.set(s.name, st?.services[s.name]?.pid ?? null)
        return false
      }),
    )
    return gone.filter((_, i) => confirmed[i]).map((s) => s.name)
  }
  /** The network back to the config's faults after a test that set some; undefined when it set none (the controls' module is then never loaded). */
  const resetFaults = async (): Promise<{ faults?: NonNullable<TestMeta['faults']>; problem?: string }> => {
    if (changedByTest.faults.length === 0) return {}
    try {
      return { faults: await (await import('../proxy/test-faults.ts')).resetAfterTest(provided.controlSocket) }
    } catch (err) {
      return { problem: `the network faults this test set could not be removed: ${(err as Error).message}` }
    }
  }
  const scanned = list.some((s) => s.errorPatterns.length > 0)
  // A worker's copies (`isolation: 'stack'`) are written by their stack's host.
  const copySockets = [...new Set(list.filter((s) => s.errorPatterns.length > 0 && s.controlSocket).map((s) => s.controlSocket as string))]

  /**
   * After a test, what the log scan and the verdict need: one request to the run's main process
   * when it holds both the guard and the environment (the check's answer carries the status and
   * where each log file ended as the request arrived: the flush before the scan); otherwise the
   * status first (answered once the environment's host read what was in its pipes), then the check.
   */
  async function afterTestState(test: EndedTest, gone: ProvidedService[]): Promise<{ st?: EnvironmentStatus; newlyDead: string[]; ends?: LogOffsets; outcome?: GuardOutcome; faults?: NonNullable<TestMeta['faults']>; faultProblem?: string }> {
    if (guard && 'checkWithStatus' in guard && provided.guard.hostStatus && !gone.some((s) => s.controlSocket)) {
      // Faults are test state: the network is put back before the guard looks at the stores.
      const { faults, problem } = await resetFaults()
      const { status: st, logs, skipped, ...checked } = await (guard as RemoteGuardSession).checkWithStatus(test, current.allowLeak, gone.map((s) => s.name))
      const newlyDead = await confirmDead(gone, async () => st)
      const outcome = skipped || newlyDead.length > 0 ? undefined : { leaks: [], ...checked }
      const ends = logs ? new Map(Object.entries(logs)) : undefined
      return { ...(st ? { st } : {}), newlyDead, ...(ends ? { ends } : {}), ...(outcome ? { outcome } : {}), ...(faults ? { faults } : {}), ...(problem ? { faultProblem: problem } : {}) }
    }
    const statuses = new Map<string, Promise<EnvironmentStatus | undefined>>()
    const statusOf = (socket: string): Promise<EnvironmentStatus | undefined> => statuses.get(socket) ?? (statuses.set(socket, statusAt(socket)).get(socket) as Promise<EnvironmentStatus | undefined>)
    const newlyDead = await confirmDead(gone, statusOf)
    // The environment's host process (the runner's main process, or rig up's) writes each
    // service's output to its log file as it reads it. One request to it, answered once it
    // has read what was already in its pipes: a line a service wrote during the test is in
    // the file before the scan, however loaded the machine.
    const [st] = await Promise.all([provided.controlSocket && (countProxies || scanned) ? statusOf(provided.controlSocket) : undefined, ...copySockets.map(statusOf)])
    // The ends are now: read before the network is put back and the stores checked.
    const ends = logOffsets(list)
    const { faults, problem } = await resetFaults()
    const outcome = guard && newlyDead.length === 0 ? await guard.check(test, current.allowLeak) : undefined
    return { ...(st ? { st } : {}), newlyDead, ends, ...(outcome ? { outcome } : {}), ...(faults ? { faults } : {}), ...(problem ? { faultProblem: problem } : {}) }
  }

  return {
    beforeTest() {
      current.allowLeak = new Set()
      current.expectedLogs = []
      const down = [...dead.keys()]
      if (down.length > 0) {
        throw new Error(down.map((n) => `service "${n}" is down: it died during "${dead.get(n)}"; later tests cannot run against it. See: rig logs ${n}`).join('\n'))
      }
      offsets = logOffsets(list)
    },
    async afterTest(test) {
      const problems: string[] = []
      const { st, newlyDead, ends, outcome, faults, faultProblem } = await afterTestState(test, goneNow())
      for (const n of newlyDead) {
        dead.set(n, test.name)
        const s = provided.services[n]
        problems.push(`service "${n}" died during this test. Last log lines:\n${logTail(s?.logFile ?? '', 20).map((l) => `    ${l}`).join('\n')}`)
      }
      // Read once: the error scan and "what the test reached" both look at these lines.
      const written = linesWritten(list, offsets, ends)
      let logErrors = scanLogs(list, written, current.expectedLogs)
      // The lines the options allow are looked up only when an error line was found.
      if (provided.logs.allow && logErrors.some((e) => !e.expected)) {
        const allowed = (await import('./log-patterns.ts')).allowedIn(provided.logs.allow, path.resolve(test.file))
        logErrors = logErrors.map((e) => (e.expected || !allowed(e.service, e.line) ? e : { ...e, expected: true }))
      }
      const unexpected = logErrors.filter((e) => !e.expected)
      if (unexpected.length > 0 && provided.logs.failOnError) {
        const first = unexpected[0]?.service ?? ''
        const expect = provided.services[first]?.kind === 'sentry' ? 'rig.expectReported(/…/)' : `rig.expectLog('${first}', /…/)`
        const hint = `if this test expects them: ${expect}; if many tests do: logs.allow in rig's options, see the summary at the end of the run`
        problems.push(`Errors logged by services during "${test.name}":\n${unexpected.map((e) => `  ${e.service}: ${e.line}`).join('\n')}\n  (${hint})`)
      }
      const meta: TestMeta = { leaks: [], logErrors }
      // What the test reached: services that logged anything during it, and proxied ones it (or an app it called) sent bytes to.
      const touched = new Set([...written].flatMap(([name, lines]) => (lines.length > 0 ? [name] : [])))
      if (countProxies) {
        const now = sentIn(st)
        for (const [n, c] of now) if (c > (sent.get(n) ?? c)) touched.add(n)
        sent = now
      }
      if (touched.size > 0) meta.touched = [...touched].sort()
      if (faultProblem) problems.push(faultProblem)
      if (faults) meta.faults = faults
      if (changedByTest.roles.length > 0) meta.roles = changedByTest.roles.splice(0)
      if (outcome) {
        if (outcome.warning) process.stderr.write(`rig: warning: ${outcome.warning}\n`)
        meta.leaks = outcome.leaks
        if (outcome.restoredWith) meta.restoredWith = outcome.restoredWith
        if (outcome.notSettled) meta.notSettled = outcome.notSettled
        if (outcome.failMessage) problems.push(outcome.failMessage)
      }
      return problems.length > 0 ? { meta, failure: problems.join('\n\n') } : { meta }
    },
    async close() {
      fixtures.use = undefined
      settling.run = undefined
      // The host puts back the run's baseline itself when told the file ended.
      if (host) return guard?.close()
      // The next file in this worker starts from the run's baseline, whatever this one loaded.
      try {
        await guard?.resetFixture()
      } finally {
        await guard?.close()
      }
    },
  }
}
