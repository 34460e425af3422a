// `testrig/playwright`: rig in Playwright Test. In playwright.config.ts:
// `export default defineConfig(withRig({ … }))`; in a test: `import { test, expect, rig } from
// 'testrig/playwright'`. Loading it in a Playwright worker binds the core to the run the
// global setup published, and puts the services' `RIG_<NAME>_*` variables in process.env
// before the config and the test files read them.
import { bindToRun } from '../runner/handoff.ts'
import { allowLeak, clearFaults, expectLog, service, services, settle, useFixture, type TestService } from '../runner/worker.ts'
import { expectedConsole, MISSING, rigFixtures } from './fixtures.ts'
import { loadPlaywright } from './load-playwright.ts'

export type { RigRunnerOptions } from '../runner/options.ts'
export type { TestService } from '../runner/worker.ts'
export type { RigBrowserOptions } from './browser-options.ts'
export type { RigTestFixtures, RigWorkerFixtures } from './fixtures.ts'
export { withRig, CHROMIUM_ARGS, type RigPlaywrightOptions } from './config.ts'

const playwright = loadPlaywright()

// Playwright's workers carry TEST_WORKER_INDEX; its main process must not bind (it publishes the run).
const handoff = process.env.TEST_WORKER_INDEX !== undefined ? bindToRun(MISSING, () => Number(process.env.TEST_PARALLEL_INDEX ?? 0) + 1) : undefined

/** Playwright's `test` with rig's fixtures: `services`, the per-test checks, `use.rigBrowser`. */
export const test = rigFixtures(playwright.test, () => handoff)
/** Playwright's `expect`. */
export const expect = playwright.expect

/** Declares browser errors the current test expects (a string matches as a substring): recorded, not failing it. */
function expectConsole(...patterns: (string | RegExp)[]): void {
  expectedConsole.push(...patterns)
}

/** The test helpers, as in every runner's adapter. */
export const rig: {
  expectConsole(...patterns: (string | RegExp)[]): void
  allowLeak(...stores: string[]): void
  expectLog(service: string, pattern: RegExp | string): void
  services(): Record<string, TestService>
  service(name: string): TestService
  useFixture(name: string): Promise<void>
  settle(): Promise<void>
  clearFaults(): Promise<void>
} = { expectConsole, allowLeak, expectLog, services, service, useFixture, settle, clearFaults }
