// rig's Jest test environment (set by rig.preset()): Jest's node environment plus the hooks
// around every test. Its events come from Jest itself, after the test's hooks: `test_start`
// before any beforeEach, `test_done` once every afterEach of every describe block ran, so rig's
// check always comes after the user's cleanup.
import path from 'node:path'
import { TestEnvironment as NodeEnvironment } from 'jest-environment-node'
import { bindToRun, recordTest, type RunHandoff } from '../runner/handoff.ts'
import { openTestSession, type TestSession } from '../runner/test-session.ts'
import { allowLeak, expectLog, expectReported, service, services, useFixture } from '../runner/worker.ts'
import { RigError } from '../errors.ts'
import { HELPERS, type RigJestHelpers } from './index.ts'

/** The part of a jest-circus test this environment reads. */
interface CircusTest {
  name: string
  errors: unknown[]
  parent?: { name: string; parent?: unknown }
}
/** The part of jest-circus events this environment reads. */
interface CircusEvent {
  name: string
  test?: CircusTest
}

const ROOT_BLOCK = 'ROOT_DESCRIBE_BLOCK'

/** Names of the describe blocks around a test and its own, joined like Vitest's full names. */
export function fullName(test: CircusTest): string {
  const names = [test.name]
  for (let b = test.parent as CircusTest['parent'] | undefined; b && b.name !== ROOT_BLOCK; b = b.parent as CircusTest['parent']) names.unshift(b.name)
  return names.join(' > ')
}

/** An error whose message is the whole story (rig's own stack would only hide it). */
function failure(message: string): Error {
  const err = new Error(message)
  err.stack = `Error: ${message}`
  return err
}

const MISSING = "testrig services are not available in this test: rig.preset()'s globalSetup did not run (spread rig.preset() from testrig/jest into jest.config, see docs/jest.md)"

export default class RigEnvironment extends NodeEnvironment {
  private readonly run: RunHandoff | undefined
  private readonly testPath: string
  private session: TestSession | undefined

  constructor(...args: ConstructorParameters<typeof NodeEnvironment>) {
    // Before Jest's environment copies process.env for the test: the services' variables.
    const run = bindToRun(MISSING, () => Number(process.env.JEST_WORKER_ID) || 1)
    super(...args)
    this.run = run
    this.testPath = args[1].testPath
    const helpers: RigJestHelpers = { allowLeak, expectLog, expectReported, services, service, useFixture }
    ;(this.global as unknown as Record<symbol, unknown>)[HELPERS] = helpers
  }

  override async setup(): Promise<void> {
    await super.setup()
    if (!this.run) throw new RigError('RIG_ADAPTER_MISSING', MISSING)
    this.session = await openTestSession(this.run.provided)
  }

  override async teardown(): Promise<void> {
    try {
      await this.session?.close()
    } finally {
      await super.teardown()
    }
  }

  async handleTestEvent(event: CircusEvent): Promise<void> {
    const test = event.test
    if (!test || !this.session) return
    if (event.name === 'test_start') {
      try {
        this.session.beforeTest()
      } catch (err) {
        // A service is down: the test does not run (jest-circus skips a test that already has errors).
        test.errors.push(failure((err as Error).message))
      }
    } else if (event.name === 'test_done') {
      const name = fullName(test)
      const verdict = await this.session.afterTest({ name, file: path.relative(process.cwd(), this.testPath), failed: test.errors.length > 0 })
      if (this.run) recordTest(this.run, { file: this.testPath, name, meta: verdict.meta })
      if (verdict.failure) test.errors.push(failure(verdict.failure))
    }
  }
}
