// Worker side: the hooks around every test. Before: note where each service's log ends and
// refuse to run against a service that died. After: scan logs for errors, check and restore
// data, record both on the test for the report, and fail the test when it misbehaved.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { isAlive } from '../env/proc.ts'
import { logOffsets, logTail, scanLogs, type LogOffsets } from './log-scan.ts'
import { current, pids, rigProvided, workerUrl } from './runtime.ts'
import { openGuardSession, type GuardSession } from './guard-session.ts'
import type { TestMeta } from './test-meta.ts'

const provided = rigProvided()
const list = Object.values(provided.services)
for (const [k, v] of Object.entries(provided.vars)) process.env[k] = v
// Under `isolation: 'database'` this worker's clone replaces the shared url.
for (const s of list) if (s.workerUrls) process.env[`RIG_${s.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`] = workerUrl(s)

let guard: GuardSession | undefined
let offsets: LogOffsets = new Map()
/** Services found dead, with the test during which they died. */
const dead = new Map<string, string>()

function deadServices(): string[] {
  return list.filter((s) => {
    const pid = pids.has(s.name) ? pids.get(s.name) : s.pid
    return pid != null && !isAlive(pid)
  }).map((s) => s.name)
}

beforeAll(async () => {
  guard = await openGuardSession(provided)
})

afterAll(async () => {
  await guard?.close()
})

beforeEach(() => {
  current.allowLeak = new Set()
  current.expectedLogs = []
  const down = [...dead.keys()]
  if (down.length > 0) {
    throw new Error(down.map((n) => `service "${n}" is down: it died during "${dead.get(n)}"; later tests cannot run against it. See: rig logs ${n}`).join('\n'))
  }
  offsets = logOffsets(list)
})

afterEach(async (ctx) => {
  const name = ctx.task.fullTestName ?? ctx.task.name
  const file = ctx.task.file?.filepath ?? ''
  const problems: string[] = []
  const newlyDead = deadServices().filter((n) => !dead.has(n))
  for (const n of newlyDead) {
    dead.set(n, name)
    const s = provided.services[n]
    problems.push(`service "${n}" died during this test. Last log lines:\n${logTail(s?.logFile ?? '', 20).map((l) => `    ${l}`).join('\n')}`)
  }
  const logErrors = scanLogs(list, offsets, current.expectedLogs)
  const unexpected = logErrors.filter((e) => !e.expected)
  if (unexpected.length > 0 && provided.logs.failOnError) {
    problems.push(`Errors logged by services during "${name}":\n${unexpected.map((e) => `  ${e.service}: ${e.line}`).join('\n')}\n  (if this test expects them: rig.expectLog('${unexpected[0]?.service}', /…/))`)
  }
  const meta: TestMeta = { leaks: [], logErrors }
  if (guard && newlyDead.length === 0) {
    const outcome = await guard.check({ name, file }, current.allowLeak, (ctx.task.result?.state ?? 'pass') === 'fail')
    meta.leaks = outcome.leaks
    if (outcome.restoredWith) meta.restoredWith = outcome.restoredWith
    if (outcome.failMessage) problems.push(outcome.failMessage)
  }
  ;(ctx.task.meta as { rig?: TestMeta }).rig = meta
  if (problems.length > 0) throw new Error(problems.join('\n\n'))
})
