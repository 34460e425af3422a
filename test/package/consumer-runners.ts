// The test runners the consumer tests install testrig for. Each gets its own fresh project with
// the same app and the same three tests; adding a runner is one entry here and its copy of the
// suite in consumer/<name>/.
import fs from 'node:fs'
import path from 'node:path'
import { locked, type Consumer } from './consumer-project.ts'

/** One runner's consumer project. */
export interface ConsumerRunner {
  /** As `rig init --runner` names it. */
  name: 'vitest' | 'jest' | 'node-test'
  /** Registry packages it needs besides testrig, pg and redis. */
  packages: string[]
  /** package.json scripts besides `start` (e.g. the `test` script `rig init` reads). */
  scripts: Record<string, string>
  /** Writes what `rig init` leaves to the user (its config, when init only prints it) and the suite. */
  setup(project: Consumer): void
  /** Runs the suite. */
  command: [string, ...string[]]
}

/** A file of consumer/, for a project. */
export const consumerFile = (file: string): string => fs.readFileSync(path.join(import.meta.dirname, 'consumer', file), 'utf8')

export const RUNNERS: readonly ConsumerRunner[] = [
  {
    name: 'vitest',
    packages: [locked('vitest')],
    scripts: { test: 'vitest run' },
    // rig init wrote vitest.config.ts with the plugin.
    setup: (p) => p.write('test/shop.test.ts', consumerFile('vitest/shop.spec.ts')),
    command: ['npx', 'vitest', 'run'],
  },
]
