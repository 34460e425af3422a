// Worker side of the core: the session around every test of one worker. Before a test: reset
// its declarations, refuse to run against a service that died, note where each service's log
// ends. After it: detect services that died, scan the logs for errors, check and restore the
// guarded stores, and say what to record and whether the test must fail. An adapter calls
// these from its runner's hooks; it registers nothing itself.
import path from 'node:path'
import { controlRequest } from '../env/control-client.ts'
import { isAlive } from '../env/proc.ts'
import type { EndedTest, GuardSession } from './guard-session.ts'
import { remoteGuardSession } from './guard-client.ts'
import { allowedIn } from './log-patterns.ts'
import { linesWritten, logOffsets, logTail, scanLogs, type LogOffsets } from './log-scan.ts'
import type { RigProvided } from './provided.ts'
import type { TestMeta } from './test-meta.ts'
import { changedByTest, current, fixtures, pids, settling, workerId } from './worker.ts'
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

/** What the environment's `GET /status` answers, as far as a test session reads it. */
type Status = { services: Record<string, { status: string; pid: number | null; proxy?: { bytesIn?: number } }> }

/** The status of the environment behind `socket`; undefined when it does not answer. */
const statusAt = (socket: string): Promise<Status | undefined> => controlRequest<Status>(socket, 'GET', '/status', 5000).catch(() => undefined)

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
  const status = (): Promise<Status | undefined> => statusAt(provided.controlSocket as string)
  const sentIn = (st: Status | undefined): Map<string, number> => new Map(Object.entries(st?.services ?? {}).flatMap(([n, v]) => (v.proxy?.bytesIn !== undefined ? [[n, v.proxy.bytesIn] as const] : [])))
  let sent = countProxies ? sentIn(await status()) : new Map<string, number>()

  /** Services that exited unexpectedly. A gone pid is confirmed with the environment, since a one-shot task that completed is gone too. */
  async function deadServices(): Promise<string[]> {
    const gone = list.filter((s) => {
      const pid = pids.has(s.name) ? pids.get(s.name) : s.pid
      return pid != null && !isAlive(pid) && !dead.has(s.name)
    })
    if (gone.length === 0) return []
    // Each asked of the environment that runs it: a worker's copy is its stack's (`isolation: 'stack'`).
    const statuses = new Map<string, Promise<Status | undefined>>()
    const statusOf = (socket: string) => statuses.get(socket) ?? statuses.set(socket, statusAt(socket)).get(socket)
    const confirmed = await Promise.all(
      gone.map(async (s) => {
        const socket = s.controlSocket ?? provided.controlSocket
        if (!socket) return true
        const now = (await statusOf(socket))?.services[s.name]
        if (now && now.status !== 'exited' && now.status !== 'failed') pids.set(s.name, now.pid)
        return !now || now.status === 'exited' || now.status === 'failed'
      }),
    )
    return gone.filter((_, i) => confirmed[i]).map((s) => s.name)
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
      const newlyDead = await deadServices()
      for (const n of newlyDead) {
        dead.set(n, test.name)
        const s = provided.services[n]
        problems.push(`service "${n}" died during this test. Last log lines:\n${logTail(s?.logFile ?? '', 20).map((l) => `    ${l}`).join('\n')}`)
      }
      // The environment's host process (the runner's main process, or rig up's) writes each
      // service's output to its log file as it reads it. One request to it, answered once it
      // has read what was already in its pipes: a line a service wrote during the test is in
      // the file before the scan, however loaded the machine.
      const scanned = list.some((s) => s.errorPatterns.length > 0)
      // A worker's copies (`isolation: 'stack'`) are written by their stack's host: asked too.
      const copies = new Set(list.filter((s) => s.errorPatterns.length > 0 && s.controlSocket).map((s) => s.controlSocket as string))
      const [st] = await Promise.all([provided.controlSocket && (countProxies || scanned) ? status() : undefined, ...[...copies].map(statusAt)])
      // Read once: the error scan and "what the test reached" both look at these lines.
      const written = linesWritten(list, offsets)
      const logErrors = scanLogs(list, written, current.expectedLogs, allowedIn(provided.logs.allow, path.resolve(test.file)))
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
      // Faults are test state: the network is put back before the guard looks at the stores.
      // (The controls' module is loaded only by a test that used one: then it is already there.)
      const faults = changedByTest.faults.length === 0 ? undefined : await (await import('../proxy/test-faults.ts')).resetAfterTest(provided.controlSocket).catch((err: unknown) => {
        problems.push(`the network faults this test set could not be removed: ${(err as Error).message}`)
        return undefined
      })
      if (faults) meta.faults = faults
      if (changedByTest.roles.length > 0) meta.roles = changedByTest.roles.splice(0)
      if (guard && newlyDead.length === 0) {
        const outcome = await guard.check(test, current.allowLeak)
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
