// Worker side: the hooks around every test. Before: note where each service's log ends and
// refuse to run against a service that died. After: scan logs for errors, check and restore
// data, record both on the test for the report, and fail the test when it misbehaved.
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { controlRequest } from '../env/control-client.ts'
import { varName } from '../env/environment.ts'
import { isAlive } from '../env/proc.ts'
import { logOffsets, logTail, scanLogs, type LogOffsets } from './log-scan.ts'
import { current, fixtures, pids, rigProvided, workerUrl } from './runtime.ts'
import { openGuardSession, type GuardSession } from './guard-session.ts'
import type { TestMeta } from './test-meta.ts'

const provided = rigProvided()
const list = Object.values(provided.services)
for (const [k, v] of Object.entries(provided.vars)) process.env[k] = v
// Under `isolation: 'database'` this worker's clone replaces the shared url.
for (const s of list) if (s.workerUrls) process.env[varName(s.name, 'URL')] = workerUrl(s)

let guard: GuardSession | undefined
let offsets: LogOffsets = new Map()
/** Services found dead, with the test during which they died. */
const dead = new Map<string, string>()

/** Services that exited unexpectedly. A gone pid is confirmed with the environment, since a one-shot task that completed is gone too. */
async function deadServices(): Promise<string[]> {
  const gone = list.filter((s) => {
    const pid = pids.has(s.name) ? pids.get(s.name) : s.pid
    return pid != null && !isAlive(pid) && !dead.has(s.name)
  })
  if (gone.length === 0 || !provided.controlSocket) return gone.map((s) => s.name)
  const status = await controlRequest<{ services: Record<string, { status: string; pid: number | null }> }>(provided.controlSocket, 'GET', '/status', 5000).catch(() => undefined)
  return gone
    .filter((s) => {
      const now = status?.services[s.name]
      if (now && now.status !== 'exited' && now.status !== 'failed') pids.set(s.name, now.pid)
      return !now || now.status === 'exited' || now.status === 'failed'
    })
    .map((s) => s.name)
}

beforeAll(async () => {
  guard = await openGuardSession(provided)
  const session = guard
  fixtures.use = session ? (name) => session.useFixture(name) : undefined
})

afterAll(async () => {
  // The next file in this worker starts from the run's baseline, whatever this one loaded.
  try {
    await guard?.resetFixture()
  } finally {
    await guard?.close()
  }
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
  const file = path.relative(process.cwd(), ctx.task.file?.filepath ?? '')
  const problems: string[] = []
  const newlyDead = await deadServices()
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
