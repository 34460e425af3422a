// Jest and node:test hold the guard in the runner's main process for the whole run (the guard
// host): every test file of a run sees the same guard connections (the same PostgreSQL
// backends), where each file opened its own before (and still does with RIG_GUARD_HOST=off); a
// leak is still blamed on the test that made it, and nothing (process, socket, dir) outlives
// the run.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { readReport, runnerProject, runSuite, type RunnerName } from './runner-projects.ts'

const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})

/** A PostgreSQL whose table a one-shot task creates (no app: nothing else connects). */
const CONFIG = `import { defineConfig, postgres, command } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    migrate: command({ run: 'node migrate.mjs', oneShot: true, dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url }) }),
  },
})
`
const MIGRATE = "import pg from 'pg'\nconst c = new pg.Client(process.env.DATABASE_URL)\nawait c.connect()\nawait c.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)')\nawait c.end()\n"
const FILES = ['a', 'b', 'c', 'd', 'e']

/**
 * One test per file that writes the backends of the guard's connections it sees (pg_stat_activity,
 * application_name 'rig-guard') to `guard-<f>.txt`; file `c`'s test also leaks a row.
 */
function guardFile(runner: RunnerName, f: string): string {
  const imports = runner === 'jest' ? "import { test } from '@jest/globals'\n" : "import { test } from 'node:test'\nimport 'testrig/node-test'\n"
  const leak = f === 'c' ? "\n  await c.query(\"INSERT INTO items (name) VALUES ('left in c')\")" : ''
  return `${imports}import fs from 'node:fs'
import pg from 'pg'

test('${f === 'c' ? 'leaks in c' : `clean in ${f}`}', async () => {
  const c = new pg.Client(process.env.RIG_DB_URL)
  await c.connect()
  const { rows } = await c.query("select coalesce(string_agg(pid::text, ',' order by pid), '') as p from pg_stat_activity where application_name = 'rig-guard' and datname = current_database()")${leak}
  await c.end()
  fs.writeFileSync('guard-${f}.txt', rows[0].p)
})
`
}

/** The guard backends each file saw. */
const guardPids = (p: Project): string[][] => FILES.map((f) => fs.readFileSync(path.join(p.dir, `guard-${f}.txt`), 'utf8').split(',').filter(Boolean))

/**
 * One session for the run: a backend every file saw, and no more backends in all than one
 * session holds (its second connection opens lazily, after the first file), whatever the number of files.
 */
function expectOneSession(seen: string[][]): void {
  const shown = seen.map((s) => s.join(',')).join(' | ')
  expect(seen.every((s) => s.length > 0), shown).toBe(true)
  expect(seen[0]!.filter((pid) => seen.every((s) => s.includes(pid))).length, shown).toBeGreaterThan(0)
  expect(new Set(seen.flat()).size, shown).toBeLessThanOrEqual(2)
}

/** What a run leaves in the project's rig temp root: environments and guard host dirs. */
function nothingLeftIn(p: Project): Promise<void> {
  return (async () => {
    expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    expect(envDirs(p.dir)).toEqual([])
    expect(fs.existsSync(path.join(p.dir, 'tmp/testrig/guard')) ? fs.readdirSync(path.join(p.dir, 'tmp/testrig/guard')) : []).toEqual([])
  })()
}

describe.each(['jest', 'node-test'] as const)('%s adapter: the guard host', (runner) => {
  test('one guard session serves every file of the run (per file with RIG_GUARD_HOST=off); the leak is still its test\'s; nothing is left', async () => {
    const p = runnerProject(runner, { config: CONFIG })
    projects.push(p)
    p.write('migrate.mjs', MIGRATE)
    for (const f of FILES) p.write(`test/${f}.test.js`, guardFile(runner, f))
    const expectLeakInC = (): void => {
      const report = readReport(p)
      expect(report.tests.map((t) => [t.name, t.status, t.leaks]).sort()).toEqual(
        FILES.map((f) => (f === 'c' ? ['leaks in c', 'failed', [{ store: 'postgres db', items: ['public.items +1 row'] }]] : [`clean in ${f}`, 'passed', []])).sort(),
      )
    }

    const hosted = await runSuite(p, runner)
    expect(hosted.code, hosted.output).toBe(1)
    expectLeakInC()
    // The host's session, opened at the first file, in every file.
    expectOneSession(guardPids(p))
    await nothingLeftIn(p)

    // The per-file path: each file's guard opens connections of its own.
    const perFile = await runSuite(p, runner, [], { RIG_GUARD_HOST: 'off' })
    expect(perFile.code, perFile.output).toBe(1)
    expectLeakInC()
    const own = guardPids(p)
    const shown = own.map((s) => s.join(',')).join(' | ')
    expect(own.every((s) => s.length > 0), shown).toBe(true)
    // No backend seen by two files: each file's own connections.
    expect(new Set(own.flat()).size, shown).toBe(own.flat().length)
    await nothingLeftIn(p)
  }, 300_000)
})

test('a RIG_GUARD_HOST that is neither on nor off stops the run before anything starts, saying what to set', async () => {
  const p = runnerProject('node-test', { config: CONFIG })
  projects.push(p)
  p.write('migrate.mjs', MIGRATE)
  p.write('test/a.test.js', guardFile('node-test', 'a'))
  const r = await runSuite(p, 'node-test', [], { RIG_GUARD_HOST: 'maybe' })
  expect(r.code).not.toBe(0)
  expect(r.output).toContain('RIG_GUARD_HOST="maybe" is neither on nor off: unset it')
  expect(r.output).toContain('or set RIG_GUARD_HOST=off')
  await nothingLeftIn(p)
}, 60_000)
