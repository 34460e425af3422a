// Playwright Test holds the guard in its runner process for the whole run (the guard host): a
// worker that Playwright replaces after a failed test asks the same guard session as the one
// before it (same PostgreSQL backends), the leak is still blamed on its test, and nothing
// (process, socket, dir) outlives the run. No browser: the tests only reach the database.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { playwrightProject, readReport, runPlaywright } from './playwright-project.ts'

const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})

const FILES = ['a', 'b', 'c', 'd', 'e']

/** One test per file that writes the guard's backends it sees to `guard-<f>.txt`; file `c`'s also leaks a row. */
function spec(f: string): string {
  const leak = f === 'c' ? "\n  await c.query(\"INSERT INTO items (name) VALUES ('left in c')\")" : ''
  return `import fs from 'node:fs'
import pg from 'pg'
import { test } from 'testrig/playwright'

test('${f === 'c' ? 'leaks in c' : `clean in ${f}`}', async () => {
  const c = new pg.Client(process.env.RIG_DB_URL)
  await c.connect()
  const { rows } = await c.query("select coalesce(string_agg(pid::text, ',' order by pid), '') as p from pg_stat_activity where application_name = 'rig-guard' and datname = current_database()")${leak}
  await c.end()
  fs.writeFileSync('guard-${f}.txt', rows[0].p)
})
`
}

test('one guard session serves every worker of the run, also the one after a failure; the leak is its test\'s; nothing is left', { timeout: 420_000 }, async () => {
  const p = playwrightProject({ config: '{ retries: 0 }' })
  projects.push(p)
  for (const f of FILES) p.write(`e2e/${f}.spec.ts`, spec(f))
  const r = await runPlaywright(p)
  expect(r.code, r.output).toBe(1)
  const report = readReport(p)
  expect(report.tests.map((t) => [t.name, t.status, t.leaks]).sort()).toEqual(
    FILES.map((f) => (f === 'c' ? ['leaks in c', 'failed', [{ store: 'postgres db', items: ['public.items +1 row'] }]] : [`clean in ${f}`, 'passed', []])).sort(),
  )
  // Playwright starts a new worker after c's failure: without the host its guard would open new connections.
  const seen = FILES.map((f) => fs.readFileSync(path.join(p.dir, `guard-${f}.txt`), 'utf8').split(',').filter(Boolean))
  const shown = seen.map((s) => s.join(',')).join(' | ')
  expect(seen.every((s) => s.length > 0), shown).toBe(true)
  // A backend of the host's session in every file, d's and e's (the new worker's) included; no more backends than one session holds.
  expect(seen[0]!.filter((pid) => seen.every((s) => s.includes(pid))).length, shown).toBeGreaterThan(0)
  expect(new Set(seen.flat()).size, shown).toBeLessThanOrEqual(2)
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(envDirs(p.dir)).toEqual([])
  const guardDirs = path.join(p.dir, 'tmp/testrig/guard')
  expect(fs.existsSync(guardDirs) ? fs.readdirSync(guardDirs) : []).toEqual([])
})
