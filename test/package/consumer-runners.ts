// The test runners the consumer tests install testrig for. Each gets its own fresh project with
// the same app and the same three tests; adding a runner is one entry here and its copy of the
// suite in consumer/<name>/.
import fs from 'node:fs'
import path from 'node:path'
import { locked, type Consumer } from './consumer-project.ts'

/** One runner's consumer project. */
export interface ConsumerRunner {
  /** As `rig init --runner` names it. */
  name: 'vitest' | 'jest' | 'node-test' | 'playwright'
  /** Registry packages it needs besides testrig, pg and redis. */
  packages: string[]
  /** package.json scripts besides `start` (e.g. the `test` script `rig init` reads). */
  scripts: Record<string, string>
  /** Writes what `rig init` leaves to the user (its config, when init only prints it) and the suite. */
  setup(project: Consumer): void
  /** Runs the suite. */
  command: [string, ...string[]]
}

/** The `test` script rig init prints for node:test. */
const NODE_TEST_SCRIPT = 'node --test --test-global-setup=rig-setup.js --test-concurrency=1 --test-randomize --test-reporter=spec --test-reporter-destination=stdout --test-reporter=testrig/node-test/reporter --test-reporter-destination=stderr'

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
  {
    name: 'jest',
    packages: [locked('jest'), locked('jest-environment-node')],
    // What docs/jest.md says: testrig is ES modules, which Jest runs behind Node's flag.
    scripts: { test: 'NODE_OPTIONS=--experimental-vm-modules jest' },
    // rig init printed the config lines.
    setup: (p) => {
      p.write('jest.config.js', "import { rig } from 'testrig/jest'\n\nexport default { ...rig.preset() }\n")
      p.write('test/shop.test.js', consumerFile('jest/shop.spec.js'))
    },
    command: ['npm', 'test'],
  },
  {
    name: 'node-test',
    packages: [],
    // rig init recognises node:test by this script, then prints the one below.
    scripts: { test: 'node --test' },
    setup: (p) => {
      p.write('rig-setup.js', "import { rigGlobalSetup } from 'testrig/node-test/global-setup'\n\nexport const { globalSetup, globalTeardown } = rigGlobalSetup()\n")
      const pkg = JSON.parse(fs.readFileSync(path.join(p.dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
      pkg.scripts.test = NODE_TEST_SCRIPT
      p.write('package.json', JSON.stringify(pkg, null, 2))
      p.write('test/shop.test.js', consumerFile('node-test/shop.spec.js'))
    },
    command: ['npm', 'test'],
  },
  {
    name: 'playwright',
    // Playwright Test alone: Chromium is Debian's (/usr/bin/chromium), no browser download.
    packages: [locked('@playwright/test')],
    scripts: { test: 'playwright test' },
    // What docs/playwright.md says: the config wrapped in withRig().
    setup: (p) => {
      p.write('playwright.config.ts', "import { defineConfig } from '@playwright/test'\nimport { withRig } from 'testrig/playwright'\n\nexport default defineConfig(withRig({ testDir: 'e2e' }))\n")
      p.write('e2e/shop.spec.ts', consumerFile('playwright/shop.spec.ts'))
    },
    command: ['npx', 'playwright', 'test'],
  },
]
