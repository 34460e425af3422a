// `testrig/node-test/global-setup`: the module `node --test --test-global-setup=…` loads, in the
// main process, before any test file runs. It starts the environment (or attaches to the one
// `rig up` left running) once for the whole run and publishes it to the processes node:test
// starts for the files; the teardown stops it.
import os from 'node:os'
import { RigError } from '../errors.ts'
import { resolveOptions, type RigRunnerOptions } from '../runner/options.ts'
import { resolveSeed } from '../runner/order.ts'
import { openPublishedRun, type PublishedRun } from '../runner/publish-run.ts'

export type { RigRunnerOptions } from '../runner/options.ts'

/** The two functions node:test's global setup module exports. */
export interface RigGlobalSetup {
  globalSetup(): Promise<void>
  globalTeardown(): Promise<void>
}

/** The value of a node flag (`--flag=v` or `--flag v`) in `args`; `''` for a flag without value. */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  let found: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? ''
    if (a.startsWith(`${flag}=`)) found = a.slice(flag.length + 1)
    else if (a === flag) found = args[i + 1] !== undefined && !args[i + 1]!.startsWith('-') ? args[i + 1] : ''
  }
  return found
}

/** The node flags of this run: the command line's, then NODE_OPTIONS'. */
export function nodeFlags(): string[] {
  return [...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), ...process.execArgv]
}

/** How many test files node:test runs at once in this run. */
export function testConcurrency(args: readonly string[]): number {
  if (flagValue(args, '--test-isolation') === 'none' || flagValue(args, '--experimental-test-isolation') === 'none') return 1
  const given = flagValue(args, '--test-concurrency')
  if (given === 'true') return Math.max(os.availableParallelism() - 1, 1)
  if (given !== undefined && Number.isInteger(Number(given))) return Math.max(Number(given), 1)
  return Math.max(os.availableParallelism() - 1, 1)
}

/**
 * The global setup of a node:test run with rig:
 * `export const { globalSetup, globalTeardown } = rigGlobalSetup({ … })`.
 */
export function rigGlobalSetup(options: RigRunnerOptions = {}): RigGlobalSetup {
  let run: PublishedRun | undefined
  return {
    async globalSetup() {
      const o = resolveOptions(options)
      const flags = nodeFlags()
      const workers = testConcurrency(flags)
      if (o.isolation === 'shared' && workers > 1) {
        throw new RigError(
          'RIG_NODE_TEST_CONCURRENCY',
          `rig: node:test would run ${workers} test files at once against one shared environment, so a leak could not be blamed on the test that caused it: add --test-concurrency=1 to node --test (or use rigGlobalSetup({ isolation: 'database' }) for a copy of each database per process)`,
          { exitCode: 2 },
        )
      }
      const seed = Number(flagValue(flags, '--test-random-seed'))
      run = await openPublishedRun(o, { root: process.cwd(), workers, seed: Number.isInteger(seed) && seed > 0 ? seed : resolveSeed(o.order.seed) })
    },
    async globalTeardown() {
      await run?.close()
      run = undefined
    },
  }
}
