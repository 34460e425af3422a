// The Playwright Test fixtures: per worker, the test session on the run the global setup
// published (the guard's baseline) and a watch on the worker's browser; per test, the same
// checks as in every runner (dead services, service logs, the guard) and the browser's errors.
// `_rigTest` is set up before any fixture a test asks for and torn down after its afterEach
// hooks and after the contexts it opened closed, so its check comes last.
import path from 'node:path'
import type { Browser, BrowserContext, LaunchOptions, TestInfo, TestType, PlaywrightTestArgs, PlaywrightTestOptions, PlaywrightWorkerArgs, PlaywrightWorkerOptions } from '@playwright/test'
import { RigError } from '../errors.ts'
import { recordTest, type RunHandoff } from '../runner/handoff.ts'
import { openTestSession, type TestSession } from '../runner/test-session.ts'
import { services, type TestService } from '../runner/worker.ts'
import { browserFailure, BrowserWatch, TestBrowserErrors } from './browser-errors.ts'
import { resolveBrowserOptions, type RigBrowserOptions } from './browser-options.ts'
import { withTrust } from './launch-trust.ts'
import { ownOrigins } from './own-origins.ts'
import { recordedName, testName } from './test-names.ts'

/** The running test's declarations about the browser (reset before each test). */
export const expectedConsole: (string | RegExp)[] = []

export const MISSING = "testrig services are not available in this test: withRig()'s global setup did not run (wrap the Playwright config in withRig() from testrig/playwright, see docs/playwright.md)"

/** What a worker holds for its tests. */
export interface RigWorker {
  run: RunHandoff
  session: TestSession
  watch: BrowserWatch
}

/** Fixtures rig adds to every test. */
export interface RigTestFixtures {
  /** Every service's address, as this worker sees it (`RIG_<NAME>_*` are in process.env too). */
  services: Record<string, TestService>
  /** The browser error check of this project (`use: { rigBrowser: { … } }`). */
  rigBrowser: RigBrowserOptions
  _rigTest: void
}

/** Worker fixtures rig adds. */
export interface RigWorkerFixtures {
  /**
   * Chromium trusts rig's CA when the environment serves HTTPS (a private NSS database as its
   * `HOME`, for this launch only; needs `certutil`). `false`: the machine's trust alone.
   * @default true
   */
  rigTrustCA: boolean
  _rigWorker: RigWorker
}

/** An error whose message is the whole story (rig's own stack would only hide it). */
function failure(message: string): Error {
  const err = new Error(message)
  err.stack = `Error: ${message}`
  return err
}

/** The part of Playwright's client instrumentation rig listens to (what Playwright Test's own artifacts fixture uses). */
interface Instrumentation {
  addListener(l: { runAfterCreateBrowserContext(c: BrowserContext): Promise<void> }): void
  removeListener(l: object): void
}

/**
 * Watches every context this worker's Playwright creates during the test, also in a browser the
 * test launches itself (`playwright.chromium.launch()`, `launchPersistentContext`); returns the
 * function that stops. Without the instrumentation (a Playwright that dropped it), the fixtures'
 * browser is still watched.
 */
function watchLaunched(playwright: unknown, errors: TestBrowserErrors): (() => void) | undefined {
  const inst = (playwright as { _instrumentation?: Partial<Instrumentation> })._instrumentation
  if (typeof inst?.addListener !== 'function' || typeof inst.removeListener !== 'function') return undefined
  const listener = { runAfterCreateBrowserContext: async (c: BrowserContext) => errors.watch(c) }
  inst.addListener(listener)
  return () => inst.removeListener?.(listener)
}

type Base = TestType<PlaywrightTestArgs & PlaywrightTestOptions, PlaywrightWorkerArgs & PlaywrightWorkerOptions>

/** `base` (Playwright's `test`) with rig's fixtures; `run()` is the run this worker was handed. */
export function rigFixtures(base: Base, run: () => RunHandoff | undefined): TestType<PlaywrightTestArgs & PlaywrightTestOptions & RigTestFixtures, PlaywrightWorkerArgs & PlaywrightWorkerOptions & RigWorkerFixtures> {
  return base.extend<RigTestFixtures, RigWorkerFixtures>({
    _rigWorker: [
      // eslint-disable-next-line no-empty-pattern
      async ({}, use) => {
        const handoff = run()
        if (!handoff) throw new RigError('RIG_ADAPTER_MISSING', MISSING)
        const session = await openTestSession(handoff.provided)
        try {
          await use({ run: handoff, session, watch: new BrowserWatch() })
        } finally {
          await session.close()
        }
      },
      { scope: 'worker', auto: true, title: 'rig environment' },
    ],
    rigTrustCA: [true, { scope: 'worker', option: true }],
    // Every Chromium launched with these options trusts rig's CA: the fixtures' browser, and one a
    // test launches itself with `playwright.chromium.launch()` (Playwright's default options).
    launchOptions: [
      async ({ launchOptions, browserName, connectOptions, rigTrustCA, _rigWorker }: { launchOptions: LaunchOptions; browserName: string; connectOptions: unknown; rigTrustCA: boolean; _rigWorker: RigWorker }, use: (o: LaunchOptions) => Promise<void>) => {
        await use(withTrust(launchOptions, { browserName, connectOptions, rigTrustCA }, _rigWorker.run.provided))
      },
      { scope: 'worker' },
    ],
    browser: [
      async ({ browser, _rigWorker }: { browser: Browser; _rigWorker: RigWorker }, use: (b: Browser) => Promise<void>) => {
        _rigWorker.watch.addBrowser(browser)
        await use(browser)
      },
      { scope: 'worker' },
    ],
    context: [
      async ({ context, _rigWorker }: { context: BrowserContext; _rigWorker: RigWorker }, use: (c: BrowserContext) => Promise<void>) => {
        await use(context)
        // Before Playwright closes it: what its pages still had queued is this test's.
        await _rigWorker.watch.running?.drain(context)
      },
      // Named in the report's steps (and in bench/playwright.bench.ts): rig's part of the context's teardown.
      { scope: 'test', title: 'rig browser drain' },
    ],
    rigBrowser: [{}, { option: true }],
    services: async ({ _rigWorker }, use) => {
      void _rigWorker
      await use(services())
    },
    _rigTest: [
      async ({ _rigWorker, rigBrowser, baseURL, playwright }, use, testInfo: TestInfo) => {
        const { session, watch, run: handoff } = _rigWorker
        const name = testName(testInfo.titlePath.slice(1))
        expectedConsole.length = 0
        session.beforeTest()
        const o = resolveBrowserOptions(rigBrowser)
        const errors = o.enabled ? new TestBrowserErrors(o, ownOrigins(handoff.provided, [baseURL, ...o.origins])) : undefined
        if (errors) watch.startTest(errors)
        const launched = errors ? watchLaunched(playwright, errors) : undefined
        try {
          await use()
        } finally {
          await errors?.drain()
          launched?.()
          watch.endTest()
        }
        const browserErrors = errors?.entries(expectedConsole) ?? []
        const verdict = await session.afterTest({ name, file: path.relative(process.cwd(), testInfo.file), failed: testInfo.errors.length > 0 })
        const meta = browserErrors.length > 0 ? { ...verdict.meta, browserErrors } : verdict.meta
        recordTest(handoff, { file: testInfo.file, name: recordedName(testInfo.project.name, name), meta })
        const problems = [browserFailure(name, browserErrors), verdict.failure].filter((p): p is string => p !== undefined)
        if (problems.length > 0) throw failure(problems.join('\n\n'))
      },
      { auto: true, title: 'rig checks' },
    ],
  }) as never
}
