import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { failingRun } from '../../bench/lib/failing-run.ts'
import { boundReport, errorForPage, LEAKS_SEE_BELOW, REPORT_LIMITS } from '../../src/report/bound.ts'
import type { RunReport, TestEntry } from '../../src/report/model.ts'
import { renderJson, writeReport } from '../../src/report/write-report.ts'
import { sampleReport } from './fixture.ts'

const entry = (name: string, extra: Partial<TestEntry>): TestEntry => ({ id: `t.ts > ${name}`, file: 't.ts', name, status: 'failed', durationMs: 1, errors: [], leaks: [], logErrors: [], ...extra })
const withTests = (tests: TestEntry[]): RunReport => ({ ...sampleReport(), tests })

describe('boundReport', () => {
  it('on the page, says a leak message once: the error points at the leaks listed below it; report.json keeps it', () => {
    const leaks = [{ store: 'postgres db', items: ['s1 created', 's1.job created'] }, { store: 'redis cache', items: ['1 key added without TTL: bull:q:1'] }]
    const message = 'Data left behind by "works" (t.ts):\n  postgres db: s1 created, s1.job created\n  redis cache: 1 key added without TTL: bull:q:1'
    const test = entry('works', { errors: [`${message}\n\nservice "db" died during this test.`], leaks })
    expect(errorForPage(test.errors[0] as string, test)).toBe(`${LEAKS_SEE_BELOW}\n\nservice "db" died during this test.`)
    expect(boundReport(withTests([test])).tests[0]?.errors).toEqual(test.errors)
    // A leak message naming a store the test's leaks do not hold is shown whole.
    expect(errorForPage(message, { leaks: leaks.slice(0, 1), logErrors: [] })).toBe(message)
  })

  it('keeps a long message shared by many tests with the first and references it from the others', () => {
    const down = `service "db" is down: it died during "first"; later tests cannot run against it. See: rig logs db ${'x'.repeat(100)}`
    const tests = boundReport(withTests(['a', 'b', 'c'].map((n) => entry(n, { errors: [down, 'AssertionError: short'] })))).tests
    expect(tests.map((t) => t.errors[0])).toEqual([down, `Same error as test #1: ${down.slice(0, 100)}… (${down.length - 100} more characters)`, expect.stringMatching(/^Same error as test #1: /)])
    expect(tests[2]?.errors[1]).toBe('AssertionError: short')
  })

  it('cuts log excerpts, long lines, long errors and leak lists, and counts what it cut', () => {
    const logErrors = Array.from({ length: 250 }, (_, i) => ({ service: 'db', line: `ERROR: ${i} ${'y'.repeat(i === 0 ? 5000 : 10)}`, expected: false }))
    const quoted = `Errors logged by services during "storm":\n${logErrors.map((l) => `  db: ${l.line}`).join('\n')}\n  (if this test expects them: rig.expectLog('db', /…/))`
    const items = Array.from({ length: 30 }, (_, i) => `public.t${i} +1 row`)
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')
    const [t] = boundReport(withTests([entry('storm', { logErrors, errors: [quoted, long], leaks: [{ store: 'postgres db', items }] })])).tests
    expect(t?.logErrors).toHaveLength(REPORT_LIMITS.logLines)
    expect(t?.logErrorsCut).toBe(230)
    expect(t?.logErrors[0]?.line).toBe(`ERROR: 0 ${'y'.repeat(991)}… (4009 more characters)`)
    expect(errorForPage(quoted, { leaks: [], logErrors })).toBe(`Errors logged by services during "storm":\n  (250 lines: see below)\n  (if this test expects them: rig.expectLog('db', /…/))`)
    // report.json keeps the message, cut like any other.
    expect(t?.errors[0]?.split('\n')).toHaveLength(REPORT_LIMITS.errorLines + 1)
    expect(t?.errors[1]?.split('\n')).toHaveLength(REPORT_LIMITS.errorLines + 1)
    expect(t?.errors[1]?.split('\n').at(-1)).toBe('… 40 more lines')
    expect(t?.leaks[0]?.items).toHaveLength(21)
    expect(t?.leaks[0]?.items.at(-1)).toBe('… and 10 more')
  })

  it('leaves a report within every limit as it is', () => {
    const r = sampleReport()
    expect(boundReport(r)).toEqual(r)
  })
})

describe('a 1000-test failing run', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('writes bounded files that still say where the whole log is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rig-report-bound-'))
    dirs.push(dir)
    const run = failingRun()
    run.environment.services[0] = { ...(run.environment.services[0] as RunReport['environment']['services'][number]), logFile: '.rig/logs/db.log' }
    const paths = await writeReport(run, dir)
    const json = await readFile(paths.json, 'utf8')
    const html = await readFile(paths.html, 'utf8')
    // The sizes bench/report.bench.ts measured, with room: 1.83 MB and 2.75 MB before.
    expect(json.length).toBeLessThan(1_500_000)
    expect(html.length).toBeLessThan(2_000_000)
    // One test per line: a test's whole entry is one grep away.
    expect(json.split('\n').filter((l) => l.startsWith('    {"id":'))).toHaveLength(1000)
    expect(JSON.parse(json)).toEqual(JSON.parse(renderJson(boundReport(run))))
    expect(html).toContain('180 more error lines not shown; the whole log: <code>.rig/logs/db.log</code>')
    expect(html).not.toContain('Data left behind by &quot;')
  })
})
