// `testrig/vitest`: the plugin for vitest.config.ts and the helpers tests call. The entry is
// light: the node side (starting services) is loaded only inside Vitest's main process, and
// the worker side only touches what a test uses.
// From vitest/config, not vite: it adds Vitest's hooks to the type, and consumers' type
// checks then need only vitest installed.
import type { Plugin } from 'vitest/config'
import type { RigPluginOptions } from './options.ts'
import { allowLeak, clearFaults, expectLog, expectReported, host, service, services, settle, useFixture } from './runtime.ts'

export type { RigPluginOptions } from './options.ts'
export type { RigProvided, ProvidedService } from './provided.ts'
export { host, services, service, allowLeak, expectLog, expectReported, useFixture, clearFaults, settle } from './runtime.ts'

/** The variant of rig.config.ts this run uses (`RIG_VARIANT`, `rig({ variant })`), or undefined: `test.runIf(variant() === 'de')(…)`. */
export function variant(): string | undefined {
  return process.env.RIG_VARIANT || undefined
}

/** The plugin: `plugins: [rig()]` in vitest.config.ts. Also carries the test helpers. */
export interface Rig {
  (options?: RigPluginOptions): Plugin
  /** Declares that the current test leaves data behind on purpose (all stores, or the named ones). */
  allowLeak: typeof allowLeak
  /** Every service back to the network faults of rig.config.ts (also done after each test that set some). */
  clearFaults: typeof clearFaults
  /** Declares a log line the current test expects a service to write (not an error then). */
  expectLog: typeof expectLog
  /** Declares an event the current test expects the app to report to a `sentry()` service (not an error then). */
  expectReported: typeof expectReported
  /** Every service's address, as this worker sees it. */
  services: typeof services
  /** One service, with controls (stop, kill, restart, pause, resume). */
  service: typeof service
  /** One host of rig.config.ts's `hosts`: down/up, partition/heal (undone after the test). */
  host: typeof host
  /** Loads a fixture of rig.config.ts as the baseline of this file's next tests (call it in `beforeAll`). */
  useFixture: typeof useFixture
  /** Waits until the application has no work in flight (queues drained, transactions ended); throws what still moves at the deadline. */
  settle: typeof settle
}

function plugin(options: RigPluginOptions = {}): Plugin {
  let node: Promise<typeof import('./plugin-node.ts')> | undefined
  const load = (): Promise<typeof import('./plugin-node.ts')> => (node ??= import('./plugin-node.ts'))
  const state = { seed: 0 }
  return {
    name: 'testrig',
    async config(config) {
      const { configHook } = await load()
      return configHook(config, options, state)
    },
    async configureVitest(ctx) {
      const { configureHook } = await load()
      await configureHook(ctx, options, state)
    },
  } as Plugin
}

/** The testrig Vitest plugin and test helpers. */
export const rig: Rig = Object.assign(plugin, { allowLeak, clearFaults, expectLog, expectReported, host, services, service, settle, useFixture })
