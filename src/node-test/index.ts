// `testrig/node-test`: rig in node:test. Importing it (in a test file, or once for every file
// with `node --test --import=testrig/node-test`) registers the hooks around every test of the
// file, and `rig` carries the helpers a test calls. The services come from the run that
// `rigGlobalSetup()` (testrig/node-test/global-setup) published before the files started.
import path from 'node:path'
import { after, before, beforeEach, type TestContext } from 'node:test'
import { bindToRun, recordTest } from '../runner/handoff.ts'
import { openTestSession, type TestSession } from '../runner/test-session.ts'
import { allowLeak, expectLog, expectReported, rigProvided, service, services, useFixture as coreUseFixture } from '../runner/worker.ts'

export type { RigRunnerOptions } from '../runner/options.ts'
export type { TestService } from '../runner/worker.ts'
export { allowLeak, expectLog, expectReported, service, services } from '../runner/worker.ts'

/** This process's test session (the guard's baseline), opened by the first hook that needs it. */
let session: Promise<TestSession> | undefined
const testSession = (): Promise<TestSession> => (session ??= openTestSession(rigProvided()))

/**
 * Loads fixture `name` of rig.config.ts as the baseline of this file's next tests (call it in
 * `before`). node:test runs a file's root `before` hooks without waiting for one another: this
 * waits for rig's baseline itself.
 */
export async function useFixture(name: string): Promise<void> {
  await testSession()
  await coreUseFixture(name)
}

/** The test helpers. */
export const rig = {
  /** Declares that the current test leaves data behind on purpose (all stores, or the named ones). */
  allowLeak,
  /** Declares a log line the current test expects a service to write (not an error then). */
  expectLog,
  /** Declares an event the current test expects the app to report to a `sentry()` service (not an error then). */
  expectReported,
  /** Every service's address, as this process sees it. */
  services,
  /** One service, with controls (stop, kill, restart, pause, resume). */
  service,
  /** Loads a fixture of rig.config.ts as the baseline of this file's next tests (call it in `before`). */
  useFixture,
}

const MISSING =
  'testrig services are not available in this test: run node --test with --test-global-setup=<a module exporting rigGlobalSetup() from testrig/node-test/global-setup> (see docs/node-test.md)'

type AfterHook = Parameters<TestContext['after']>[0]

/**
 * The hooks, once per process. rig's check must come after every hook of the user's: it is
 * registered in `beforeEach` as the test's own `after` hook, which node:test runs after every
 * `afterEach`, and the test's other `after` hooks (registered later, in the test) are run by it
 * first.
 */
function register(): void {
  // node:test numbers the processes that run files from 1 (NODE_TEST_WORKER_ID).
  const run = bindToRun(MISSING, () => Number(process.env.NODE_TEST_WORKER_ID) || 1)
  before(async () => {
    await testSession()
  })
  beforeEach(async (ctx) => {
    // A test's context (beforeEach runs for tests only); `passed` is missing from @types/node.
    const t = ctx as TestContext & { passed: boolean }
    const s = await testSession()
    s.beforeTest()
    const own = t.after.bind(t)
    const userHooks: AfterHook[] = []
    t.after = (fn: AfterHook) => void userHooks.push(fn)
    own(async () => {
      let first: unknown
      for (const fn of userHooks) {
        try {
          await (fn as (c: TestContext) => unknown)(t)
        } catch (err) {
          first ??= err
        }
      }
      // The check runs even when a hook failed: the test's data is still put back.
      const file = t.filePath ?? ''
      const verdict = await s.afterTest({ name: t.fullName, file: path.relative(process.cwd(), file), failed: !t.passed || first !== undefined })
      if (run) recordTest(run, { file, name: t.fullName, meta: verdict.meta })
      if (first !== undefined) throw first
      if (verdict.failure) throw checkFailure(verdict.failure)
    })
  })
  after(async () => {
    await (await session)?.close()
  })
}

/** A test rig failed: the message is the whole story (rig's own stack would only hide it). */
function checkFailure(message: string): Error {
  const err = new Error(message)
  err.stack = `Error: ${message}`
  return err
}

// One registration per process, however many files import this module.
const KEY = Symbol.for('testrig.node-test')
const g = globalThis as { [KEY]?: boolean }
if (!g[KEY]) {
  g[KEY] = true
  register()
}
