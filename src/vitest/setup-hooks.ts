// Worker side (registered by src/vitest/setup.ts for each test file): Vitest's hooks around
// every test, over the runner core's test session (src/runner/test-session.ts): before each test
// it takes notes, after each it scans logs, checks and restores data, records both on the test
// for the reporter (`task.meta.rig`), and fails the test when it misbehaved.
//
// The check must see what the suite's own cleanup left, so it runs after every user hook
// whatever `sequence.hooks` is ('stack', the default, runs afterEach hooks in reverse order
// of registration): rig wraps each test in an `aroundEach`, registered first (the plugin puts
// setup.ts before the user's setup files), so it is the outermost one. Its code after
// `runTest()` runs once the test, every afterEach, beforeEach cleanup, fixture teardown,
// onTestFinished handler and inner aroundEach are done. A Vitest without aroundEach (4.0)
// gets an onTestFinished handler registered first, which runs after every afterEach.
import path from 'node:path'
import * as vitest from 'vitest'
import { afterAll, beforeAll, beforeEach, type TestContext } from 'vitest'
import { openTestSession, type TestSession } from '../runner/test-session.ts'
import type { TestMeta } from '../runner/test-meta.ts'
import { exportWorkerVars } from '../runner/worker.ts'
import { rigProvided } from './runtime.ts'

/**
 * Registers rig's hooks for the test file Vitest is running. Called by the setup file, which
 * Vitest runs again for every test file, also in a worker that runs several (`isolate: false`):
 * the published build bundles this module (scripts/build.ts), which Node then loads once per
 * worker, so registering here at import time would reach its first file only.
 */
export function setupFile(): void {
  const provided = rigProvided()
  exportWorkerVars(provided)

  let session: TestSession | undefined
  // With the guard host (Vitest's main process holds the guard), the file's session is asked
  // for while Vitest imports the test file, so its answer is there by the first test; a failure
  // fails the file's beforeAll. Without one, the session (connections, a baseline) opens there.
  const opening = provided.guard.host ? openTestSession(provided) : undefined
  opening?.catch(() => {})

  beforeAll(async () => {
    session = await (opening ?? openTestSession(provided))
  })

  // The file's end: back to the run's baseline (the guard host holds the guard for the run).
  afterAll(async () => {
    await session?.close()
  })

  async function afterTest(ctx: TestContext): Promise<void> {
    if (!session) return
    const name = ctx.task.fullTestName ?? ctx.task.name
    const file = path.relative(process.cwd(), ctx.task.file?.filepath ?? '')
    const verdict = await session.afterTest({ name, file, failed: (ctx.task.result?.state ?? 'pass') === 'fail' })
    ;(ctx.task.meta as { rig?: TestMeta }).rig = { ...verdict.meta, worker: Number(process.env.VITEST_POOL_ID ?? 1) }
    if (verdict.failure) throw new Error(verdict.failure)
  }

  type AroundEach = (fn: (runTest: () => Promise<void>, ctx: TestContext) => Promise<void>) => void
  const aroundEach = (vitest as { aroundEach?: AroundEach }).aroundEach
  if (aroundEach) {
    aroundEach(async (runTest, ctx) => {
      session?.beforeTest()
      await runTest()
      await afterTest(ctx)
    })
  } else {
    beforeEach((ctx) => {
      session?.beforeTest()
      ctx.onTestFinished(() => afterTest(ctx))
    })
  }
}
