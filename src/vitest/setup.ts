// Worker side: Vitest's hooks around every test, over the runner core's test session
// (src/runner/test-session.ts): before each test it takes notes, after each it scans logs,
// checks and restores data, records both on the test for the reporter (`task.meta.rig`), and
// fails the test when it misbehaved.
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { openTestSession, type TestSession } from '../runner/test-session.ts'
import type { TestMeta } from '../runner/test-meta.ts'
import { exportWorkerVars } from '../runner/worker.ts'
import { rigProvided } from './runtime.ts'

const provided = rigProvided()
exportWorkerVars(provided)

let session: TestSession | undefined

beforeAll(async () => {
  session = await openTestSession(provided)
})

afterAll(async () => {
  await session?.close()
})

beforeEach(() => {
  session?.beforeTest()
})

afterEach(async (ctx) => {
  if (!session) return
  const name = ctx.task.fullTestName ?? ctx.task.name
  const file = path.relative(process.cwd(), ctx.task.file?.filepath ?? '')
  const verdict = await session.afterTest({ name, file, failed: (ctx.task.result?.state ?? 'pass') === 'fail' })
  ;(ctx.task.meta as { rig?: TestMeta }).rig = verdict.meta
  if (verdict.failure) throw new Error(verdict.failure)
})
