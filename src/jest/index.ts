// `testrig/jest`: rig in Jest. In jest.config: `export default { ...rig.preset() }` (rig's test
// environment, global setup and teardown, file order and reporter); in a test: the helpers
// below. A test runs inside the environment's sandbox, where this module is a copy of its own:
// the helpers reach the environment's through a global it sets.
import { moduleFile } from '../module-file.ts'
import { RigError } from '../errors.ts'
import type { RigRunnerOptions } from '../runner/options.ts'
import type { TestService } from '../runner/worker.ts'

export type { RigRunnerOptions } from '../runner/options.ts'
export type { TestService } from '../runner/worker.ts'

/** The Jest options rig's preset sets; spread it first, your own options after it. */
export interface RigJestPreset {
  testEnvironment: string
  testEnvironmentOptions: { rig: RigRunnerOptions }
  globalSetup: string
  globalTeardown: string
  testSequencer: string
  reporters: (string | [string, Record<string, unknown>])[]
  randomize: boolean
  maxWorkers?: number
}

/** What the environment hands a test (see environment.ts). */
export interface RigJestHelpers {
  allowLeak(...stores: string[]): void
  expectLog(service: string, pattern: RegExp | string): void
  expectReported(pattern: RegExp | string): void
  services(): Record<string, TestService>
  service(name: string): TestService
  useFixture(name: string): Promise<void>
}

/** The global through which the environment hands a test its helpers. */
export const HELPERS = Symbol.for('testrig.jest')

function helpers(): RigJestHelpers {
  const h = (globalThis as { [HELPERS]?: RigJestHelpers })[HELPERS]
  if (!h) throw new RigError('RIG_ADAPTER_MISSING', "testrig services are not available in this test: spread rig.preset() (from testrig/jest) into jest.config (see docs/jest.md)")
  return h
}

/**
 * Jest options that run rig: `export default { ...rig.preset({ … }) }`. Under `isolation:
 * 'shared'` (the default) files run one at a time (`maxWorkers: 1`).
 */
function preset(options: RigRunnerOptions = {}): RigJestPreset {
  return {
    testEnvironment: moduleFile(import.meta.url, './environment.ts'),
    testEnvironmentOptions: { rig: options },
    globalSetup: moduleFile(import.meta.url, './global-setup.ts'),
    globalTeardown: moduleFile(import.meta.url, './global-teardown.ts'),
    testSequencer: moduleFile(import.meta.url, './sequencer.ts'),
    reporters: ['default', moduleFile(import.meta.url, './reporter.ts')],
    // Tests within a file in the order of the run's seed (Jest's --seed); files by rig's sequencer.
    randomize: options.order?.shuffle ?? true,
    ...((options.isolation ?? 'shared') === 'shared' ? { maxWorkers: 1 } : {}),
  }
}

/** Declares that the current test leaves data behind on purpose (all stores, or the named ones). */
export const allowLeak = (...stores: string[]): void => helpers().allowLeak(...stores)
/** Declares a log line the current test expects a service to write (not an error then). */
export const expectLog = (service: string, pattern: RegExp | string): void => helpers().expectLog(service, pattern)
/** Declares an event the current test expects the app to report to a `sentry()` service (not an error then). */
export const expectReported = (pattern: RegExp | string): void => helpers().expectReported(pattern)
/** Every service's address, as this worker sees it. */
export const services = (): Record<string, TestService> => helpers().services()
/** One service, with controls (stop, kill, restart, pause, resume). */
export const service = (name: string): TestService => helpers().service(name)
/** Loads a fixture of rig.config.ts as the baseline of this file's next tests (call it in `beforeAll`). */
export const useFixture = (name: string): Promise<void> => helpers().useFixture(name)

/** The preset and the test helpers. */
export const rig = { preset, allowLeak, expectLog, expectReported, services, service, useFixture }
