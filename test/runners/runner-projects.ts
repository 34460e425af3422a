// Throw-away projects that run a small suite under each test runner rig has an adapter for,
// against this repository's sources (node_modules/testrig links to it), with real runner
// subprocesses: `vitest run`, Jest (in ESM mode, the sources' types stripped by a test-only
// transform: Jest strips none) and `node --test`.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { RunReport } from '../../src/report/model.ts'
import { makeProject, NODE, REPO, type Project } from '../support/project.ts'

export type RunnerName = 'vitest' | 'jest' | 'node-test'

const STRIP_TYPES = path.join(import.meta.dirname, 'strip-types-transform.cjs')

/** The config a project uses: a PostgreSQL and the consumer tests' app (an API over it that logs an ERROR at checkout). */
export const SHOP_CONFIG = `import { defineConfig, postgres, command } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    app: command({ run: 'node app.mjs', dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url, PORT: '{port}' }) }),
  },
})
`

/** How each runner imports its test API and rig's helpers, and writes an assertion. */
const DIALECT: Record<RunnerName, { imports: string; eq: (a: string, b: string) => string }> = {
  vitest: { imports: "import { afterEach, describe, expect, test } from 'vitest'\nimport { rig } from 'testrig/vitest'\n", eq: (a, b) => `expect(${a}).toBe(${b})` },
  jest: { imports: "import { afterEach, describe, expect, test } from '@jest/globals'\nimport { rig } from 'testrig/jest'\n", eq: (a, b) => `expect(${a}).toBe(${b})` },
  'node-test': { imports: "import { afterEach, describe, test } from 'node:test'\nimport assert from 'node:assert/strict'\nimport { rig } from 'testrig/node-test'\n", eq: (a, b) => `assert.equal(${a}, ${b})` },
}

/** The consumer tests' three tests, in `runner`'s dialect: one clean, one that leaks a row, one during which the app logs an error. */
export function shopSuite(runner: RunnerName): string {
  const d = DIALECT[runner]
  return `${d.imports}
const app = (route, init) => fetch(\`\${rig.services().app.url}\${route}\`, init)

test('lists the items', async () => {
  ${d.eq('(await app(\'/items\')).status', '200')}
})

test('leaks a row', async () => {
  ${d.eq("(await app('/items', { method: 'POST', body: 'forgotten' })).status", '201')}
})

test('logs an error', async () => {
  ${d.eq("(await app('/checkout', { method: 'POST' })).status", '502')}
  ${d.eq("(await app('/items')).status", '200')}
})
`
}

/** A project for `runner` with `config` as rig.config.ts, the consumer tests' app, and the runner's setup. */
export function runnerProject(runner: RunnerName, options: { config?: string; rigOptions?: string } = {}): Project {
  const p = makeProject(options.config ?? SHOP_CONFIG)
  for (const dep of ['pg', ...(runner === 'vitest' ? ['vitest'] : [])]) fs.symlinkSync(path.join(REPO, 'node_modules', dep), path.join(p.dir, 'node_modules', dep))
  p.write('app.mjs', fs.readFileSync(path.join(REPO, 'test/package/consumer/app.mjs'), 'utf8'))
  const opts = options.rigOptions ?? ''
  if (runner === 'vitest') {
    p.write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig(${opts})], test: { include: ['test/**/*.test.js'] } })\n`)
  } else if (runner === 'jest') {
    p.write('jest.config.js', `import { rig } from 'testrig/jest'\nexport default { ...rig.preset(${opts}), transform: { '\\\\.ts$': ${JSON.stringify(STRIP_TYPES)} } }\n`)
  } else {
    p.write('rig-setup.js', `import { rigGlobalSetup } from 'testrig/node-test/global-setup'\nexport const { globalSetup, globalTeardown } = rigGlobalSetup(${opts})\n`)
  }
  return p
}

/** node --test with rig's global setup and reporter, as docs/node-test.md says. */
export const NODE_TEST_FLAGS = ['--test', '--test-global-setup=rig-setup.js', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=testrig/node-test/reporter', '--test-reporter-destination=stderr']

/** The runner's command in a project (`args` after it). */
export function runnerCommand(runner: RunnerName, args: string[] = []): string[] {
  if (runner === 'vitest') return [NODE, path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', ...args]
  if (runner === 'jest') return [NODE, '--experimental-vm-modules', '--no-warnings', path.join(REPO, 'node_modules/jest/bin/jest.js'), ...args]
  return [NODE, ...NODE_TEST_FLAGS, ...args]
}

export interface Ran {
  code: number | null
  output: string
}

/** Runs `command` in the project with this process's environment minus anything of a test runner or of rig's own run; never rejects. */
export function runIn(p: Project, command: string[], env: Record<string, string> = {}): Promise<Ran> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|JEST_|NODE_TEST|RIG_RUN$|NODE_OPTIONS$)/.test(k)))
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: p.dir, env: { ...base, NO_COLOR: '1', FORCE_COLOR: '0', RIG_TMP_DIR: path.join(p.dir, 'tmp'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** Runs the project's suite with its runner. */
export const runSuite = (p: Project, runner: RunnerName, args: string[] = [], env: Record<string, string> = {}): Promise<Ran> => runIn(p, runnerCommand(runner, args), env)

/** The project's report.json. */
export function readReport(p: Project): RunReport {
  return JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8')) as RunReport
}

/** The replay commands rig printed, in order. */
export function replays(output: string): string[] {
  const section = output.split('rig: replay a failure in the same order:\n')[1] ?? ''
  return [...section.matchAll(/^ {4}(\S.*)$/gm)].map((m) => m[1]!)
}

/**
 * Tests that clean up after themselves in the runner's hooks (a file-level afterEach, a
 * describe block's afterEach, and for node:test the test's own `t.after`), one allowed to leave
 * a row and one that expects the error it makes the app log: none of them may fail. rig's check
 * must come after every one of the user's hooks.
 */
export function hooksSuite(runner: RunnerName): string {
  const d = DIALECT[runner]
  return `${d.imports}import pg from 'pg'

const sql = async (q) => {
  const c = new pg.Client(process.env.RIG_DB_URL)
  await c.connect()
  try {
    return (await c.query(q)).rows
  } finally {
    await c.end()
  }
}
const app = (route, init) => fetch(\`\${rig.services().app.url}\${route}\`, init)

afterEach(async () => {
  await sql("DELETE FROM items WHERE name = 'top'")
})

describe('orders', () => {
  afterEach(async () => {
    await sql("DELETE FROM items WHERE name = 'nested'")
  })
  test('cleaned by the describe block afterEach', async () => {
    await sql("INSERT INTO items (name) VALUES ('nested')")
  })
})

test('cleaned by the file afterEach', async () => {
  await sql("INSERT INTO items (name) VALUES ('top')")
})

test('allowed to leave a row', async () => {
  rig.allowLeak()
  await sql("INSERT INTO items (name) VALUES ('kept')")
})

test('expects the error it causes', async () => {
  rig.expectLog('app', /payment provider refused/)
  ${d.eq("(await app('/checkout', { method: 'POST' })).status", '502')}
  ${d.eq("(await app('/items')).status", '200')}
})
${
  runner === 'node-test'
    ? `
test('cleaned by its own after hook', async (t) => {
  t.after(() => sql("DELETE FROM items WHERE name = 'own'"))
  await sql("INSERT INTO items (name) VALUES ('own')")
})
`
    : ''
}`
}
