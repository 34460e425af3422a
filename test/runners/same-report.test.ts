// Every runner adapter gives the same verdicts as the Vitest plugin: the same three tests (one
// clean, one that leaves a row behind, one during which the app logs an error) run under
// Vitest, Jest and node:test against a PostgreSQL and an app rig started; each run fails the
// same two tests with the same messages and writes the same report entries.
import { afterAll, describe, expect, test } from 'vitest'
import type { TestEntry } from '../../src/report/model.ts'
import { leftovers, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { readReport, runnerProject, runSuite, shopSuite, type RunnerName } from './runner-projects.ts'

const RUNNERS: RunnerName[] = ['vitest', 'jest', 'node-test']
const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})

/** What must not differ between runners: everything but timings and the runner's own replay command. */
const comparable = (t: TestEntry): Partial<TestEntry> => ({ id: t.id, file: t.file, name: t.name, status: t.status, errors: t.errors, leaks: t.leaks, logErrors: t.logErrors })

const entries: Partial<Record<RunnerName, Partial<TestEntry>[]>> = {}

describe.each(RUNNERS)('%s', (runner) => {
  test('the leak and the logged error fail their tests, with the messages and report entries of the Vitest plugin', async () => {
    const p = runnerProject(runner)
    projects.push(p)
    p.write('test/shop.test.js', shopSuite(runner))
    const r = await runSuite(p, runner)
    expect(r.code, r.output).toBe(1)
    // Each runner indents a failure its own way; the report below holds the exact messages.
    expect(r.output).toContain('Data left behind by "leaks a row" (test/shop.test.js):')
    expect(r.output).toContain('postgres db: public.items +1 row')
    expect(r.output).toContain('Errors logged by services during "logs an error":')
    expect(r.output).toContain('app: ERROR payment provider refused the card')
    const report = readReport(p)
    expect(report.summary).toEqual({ passed: 1, failed: 2, skipped: 0, leaks: 1, logErrors: 1 })
    expect(report.files).toEqual(['test/shop.test.js'])
    expect(report.environment.services.map((s) => s.service)).toEqual(['db', 'app'])
    for (const t of report.tests) if (t.status === 'failed') expect(t.repro, t.name).toMatch(/test\/shop\.test\.js/)
    entries[runner] = report.tests.map(comparable).sort((a, b) => a.name!.localeCompare(b.name!))
    expect(entries[runner]).toEqual([
      expect.objectContaining({ name: 'leaks a row', status: 'failed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }], logErrors: [] }),
      expect.objectContaining({ name: 'lists the items', status: 'passed', leaks: [], logErrors: [], errors: [] }),
      expect.objectContaining({ name: 'logs an error', status: 'failed', leaks: [], logErrors: [{ service: 'app', line: 'ERROR payment provider refused the card', expected: false }] }),
    ])
    if (runner !== 'vitest' && entries.vitest) expect(entries[runner]).toEqual(entries.vitest)
    expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  }, 180_000)
})
