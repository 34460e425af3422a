// The test runners `rig init` knows: how to tell a project uses one, how tests are then run,
// and how rig joins it. Vitest's config is edited in place; for Jest and node:test the lines to
// add are printed (their adapters are `testrig/jest` and `testrig/node-test`).
import fs from 'node:fs'
import path from 'node:path'
import type { ProjectFacts } from './inspect-project.ts'
import { addRigPlugin, hasRigPlugin, NEW_VITEST_CONFIG, PLUGIN_IMPORT, VITEST_CONFIGS } from './vitest-config.ts'
import { readProjectFile, writeProjectFile } from './write-file.ts'

/** What joining a runner did. */
export interface RunnerOutcome {
  /** A file written or edited, with what happened to it. */
  changed?: { file: string; action: 'created' | 'edited' | 'unchanged' }
  /** Lines the user adds by hand, with where they go. */
  instructions?: string[]
}

/** One test runner. */
export interface Runner {
  name: 'vitest' | 'jest' | 'node-test'
  /** Whether the project's package.json says it uses this runner. */
  detect(facts: ProjectFacts): boolean
  /** How the tests are run afterwards. */
  testCommand: string
  /** Adds rig to the runner's setup, or says how. */
  join(facts: ProjectFacts): RunnerOutcome
}

function joinVitest(facts: ProjectFacts): RunnerOutcome {
  const existing = VITEST_CONFIGS.map((n) => path.join(facts.dir, n)).find((f) => fs.existsSync(f))
  if (!existing) {
    const file = path.join(facts.dir, facts.esm ? 'vitest.config.ts' : 'vitest.config.mts')
    writeProjectFile(file, NEW_VITEST_CONFIG, { replace: false })
    return { changed: { file, action: 'created' } }
  }
  const text = readProjectFile(existing) ?? ''
  if (hasRigPlugin(text)) return { changed: { file: existing, action: 'unchanged' } }
  const edited = addRigPlugin(text)
  if (edited === undefined) {
    return { instructions: [`add to ${path.basename(existing)}:`, `  ${PLUGIN_IMPORT}`, '  plugins: [rig()],   // in the exported config'] }
  }
  writeProjectFile(existing, edited, { replace: true })
  return { changed: { file: existing, action: 'edited' } }
}

/** Jest: rig's preset spread into the config (testrig/jest, docs/jest.md). */
function jestLines(esm: boolean): string[] {
  return [
    'spread rig\'s preset into jest.config.js (your own options after it):',
    ...(esm ? ["  import { rig } from 'testrig/jest'", '  export default { ...rig.preset() }'] : ["  const { rig } = require('testrig/jest')", '  module.exports = { ...rig.preset() }']),
    'install its test environment if you do not have it:',
    '  npm install --save-dev jest-environment-node',
    `testrig is ES modules: Jest runs ${esm ? 'test files' : 'test files (name them .mjs)'} that import it with Node's VM modules:`,
    `  ${JEST_COMMAND}`,
  ]
}

/** How Jest runs ES module tests. */
const JEST_COMMAND = 'NODE_OPTIONS=--experimental-vm-modules npx jest'

/** node:test: a global setup module, rig's reporter, and rig imported by each test file (docs/node-test.md). */
function nodeTestLines(esm: boolean): string[] {
  const setup = esm ? 'rig-setup.js' : 'rig-setup.mjs'
  return [
    `create ${setup} (outside the test folder):`,
    "  import { rigGlobalSetup } from 'testrig/node-test/global-setup'",
    '  export const { globalSetup, globalTeardown } = rigGlobalSetup()',
    'make package.json\'s "test" script:',
    `  node --test --test-global-setup=${setup} --test-concurrency=1 --test-randomize --test-reporter=spec --test-reporter-destination=stdout --test-reporter=testrig/node-test/reporter --test-reporter-destination=stderr`,
    'and import rig in each test file:',
    "  import { rig } from 'testrig/node-test'",
  ]
}

/** Every runner, in detection order. */
export const RUNNERS: readonly Runner[] = [
  { name: 'vitest', detect: (f) => f.deps.has('vitest'), testCommand: 'npx vitest run', join: joinVitest },
  { name: 'jest', detect: (f) => f.deps.has('jest'), testCommand: JEST_COMMAND, join: (f) => ({ instructions: jestLines(f.esm) }) },
  { name: 'node-test', detect: (f) => /\bnode\b[^&|;]*--test\b/.test(f.scripts.test ?? ''), testCommand: 'npm test', join: (f) => ({ instructions: nodeTestLines(f.esm) }) },
]
