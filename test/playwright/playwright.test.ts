// The Playwright adapter on a real suite in Debian's Chromium against a site rig starts over
// PostgreSQL: browser errors of every kind fail their test (each such test is marked
// `test.fail()`, so the run is green only when rig did fail it), what is allowed or not the
// system's does not, the guard and the log scan work as in every runner, and the HTML report
// shows the browser errors and links what Playwright saved.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import type { TestEntry } from '../../src/report/model.ts'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { playwrightProject, readReport, runPlaywright } from './playwright-project.ts'

const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})
function project(options: Parameters<typeof playwrightProject>[0] = {}): Project {
  const p = playwrightProject(options)
  projects.push(p)
  return p
}
const nothingLeft = async (p: Project): Promise<void> => {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(envDirs(p.dir)).toEqual([])
}

// A loaded 2-core machine launches Chromium in seconds; a run of 16 browser tests takes minutes.
describe('testrig/playwright', { timeout: 660_000 }, () => {
  test('browser errors fail their test, with page and source; allowed ones and foreign ones do not; guard and log scan run after every test', async () => {
    const p = project({ config: "{ use: { screenshot: 'on', rigBrowser: { allow: [/allowed by the project/] } } }" })
    p.write('e2e/checks.spec.ts', fs.readFileSync(path.join(import.meta.dirname, 'checks.spec.txt'), 'utf8'))
    const r = await runPlaywright(p)
    expect(r.code, r.output).toBe(0)
    const report = readReport(p)
    const byName = new Map<string, TestEntry>(report.tests.map((t) => [t.name, t]))
    const errorsOf = (name: string): NonNullable<TestEntry['browserErrors']> => {
      const t = byName.get(name)
      expect(t, `${name} in ${[...byName.keys()].join(', ')}`).toBeDefined()
      expect(t?.status, name).toBe('passed')
      return t?.browserErrors ?? []
    }
    expect(report.tests).toHaveLength(22)
    expect(errorsOf('a clean page passes')).toEqual([])
    expect(errorsOf('console.error fails the test')).toEqual([{ kind: 'console.error', text: 'boom from the page', page: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/console$/), source: expect.stringMatching(/\/console:1:\d+$/), expected: false }])
    expect(errorsOf('an uncaught error fails the test, with its source')).toEqual([{ kind: 'pageerror', text: 'uncaught in page', page: expect.stringMatching(/\/throw$/), source: expect.stringMatching(/\/throw\.js:2:\d+$/), expected: false }])
    expect(errorsOf('an unhandled rejection fails the test')).toMatchObject([{ kind: 'pageerror', text: 'rejected in page', expected: false }])
    expect(errorsOf('a 5xx answer from the system fails the test')).toMatchObject([{ kind: 'request', text: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/broken answered 503/), page: expect.stringMatching(/\/server-error$/), expected: false }])
    expect(errorsOf('a request to the system that gets no answer fails the test')).toMatchObject([{ kind: 'request', text: expect.stringMatching(/\/api\/hang-up failed: net::ERR_EMPTY_RESPONSE/), expected: false }])
    expect(errorsOf('a 4xx, a foreign origin and warnings do not count')).toEqual([])
    expect(errorsOf('with 4xx counted > a 4xx fails the test')).toMatchObject([{ kind: 'request', text: expect.stringMatching(/\/api\/missing answered 404/) }])
    expect(errorsOf('with 4xx counted > a missing favicon is noise')).toEqual([])
    expect(errorsOf('with warnings counted > console.warn fails the test')).toEqual([{ kind: 'console.warning', text: 'only a warning', page: expect.stringMatching(/\/warn$/), source: expect.stringMatching(/\/warn:1:\d+$/), expected: false }])
    const loop = errorsOf('a page that logs in a loop: the first 100 errors are kept')
    expect(loop).toHaveLength(101)
    expect(loop[99]).toMatchObject({ text: 'error 100 of a loop' })
    expect(loop[100]).toMatchObject({ kind: 'console.error', text: 'more browser errors followed; only the first 100 were kept', expected: false })
    expect(errorsOf('rig.expectConsole allows what the test expects')).toMatchObject([{ kind: 'console.error', text: 'boom from the page', expected: true }])
    expect(errorsOf("the project's allow list allows what every test may see")).toMatchObject([{ kind: 'console.error', expected: true }])
    expect(errorsOf('a context and page the test opens itself are watched')).toMatchObject([{ kind: 'console.error', text: 'boom from the page', expected: false }])
    expect(errorsOf('a browser the test launches itself is watched')).toMatchObject([{ kind: 'pageerror', text: 'uncaught in page', source: expect.stringMatching(/\/throw\.js:2:\d+$/), expected: false }])
    expect(errorsOf('a page that crashes fails the test')).toMatchObject([{ kind: 'crash', expected: false }])
    expect(errorsOf('one page for several tests > an error thrown after the test body ended is its own')).toMatchObject([{ kind: 'pageerror', text: 'thrown after the click', page: expect.stringMatching(/\/late$/) }])
    expect(errorsOf('one page for several tests > and not the next one')).toEqual([])
    // The same checks as in every runner, after every test.
    expect(byName.get('data left behind fails the test')).toMatchObject({ status: 'passed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
    expect(byName.get('an error line in a service log fails the test')).toMatchObject({ status: 'passed', logErrors: [{ service: 'web', line: expect.stringContaining('ERROR the payment provider refused the card'), expected: false }] })
    // A service that dies fails the test it died in, and every later test at once.
    expect(byName.get('a service that dies during a test fails it')).toMatchObject({ status: 'passed', errors: [expect.stringContaining('service "web" died during this test')] })
    expect(byName.get('a test after it fails at once: the service is down')).toMatchObject({ status: 'passed', errors: [expect.stringContaining('service "web" is down: it died during "a service that dies during a test fails it"')] })
    // The failure says what, where, and how to allow it.
    expect(r.output).not.toContain('Browser errors during "a clean page passes"')
    // The HTML report: browser errors next to leaks and log errors; Playwright's screenshot linked from the row.
    const html = fs.readFileSync(path.join(p.dir, 'rig-report/index.html'), 'utf8')
    expect(html).toContain('<h4>Browser errors</h4>')
    expect(html).toContain('uncaught in page')
    const shot = byName.get('console.error fails the test')?.artifacts?.find((a) => a.name === 'screenshot')
    expect(shot?.path).toMatch(/^\.\.\/test-results\/.+\.png$/)
    expect(fs.existsSync(path.join(p.dir, 'rig-report', shot!.path))).toBe(true)
    expect(html).toContain(`href="${shot!.path}"`)
    await nothingLeft(p)
  })

  test('a test rig fails for real: its message lists each error with page and source; the screenshot and trace Playwright keeps on failure are linked from its row', async () => {
    const p = project({ config: "{ use: { screenshot: 'only-on-failure', trace: 'retain-on-failure' } }" })
    p.write(
      'e2e/fails.spec.ts',
      "import { test, expect } from 'testrig/playwright'\ntest('a clean page', async ({ page }) => {\n  await page.goto('/')\n})\ntest('the page logs an error', async ({ page }) => {\n  await page.goto('/console')\n  await expect(page.locator('h1')).toHaveText('ok')\n})\n",
    )
    const r = await runPlaywright(p)
    expect(r.code, r.output).toBe(1)
    expect(r.output).toMatch(/Browser errors during "the page logs an error":\n\s*console\.error on http:\/\/127\.0\.0\.1:\d+\/console at http:\/\/127\.0\.0\.1:\d+\/console:1:\d+:\n\s*boom from the page\n\s*\(if this test expects them: rig\.expectConsole/)
    expect(r.output).toContain("npx playwright test e2e/fails.spec.ts -g ' the page logs an error$'")
    const report = readReport(p)
    const [clean, failed] = report.tests
    expect(clean).toMatchObject({ name: 'a clean page', status: 'passed' })
    expect(clean?.artifacts).toBeUndefined()
    expect(failed).toMatchObject({ name: 'the page logs an error', status: 'failed', browserErrors: [{ kind: 'console.error', text: 'boom from the page' }] })
    expect(failed?.artifacts?.map((a) => a.name).sort()).toEqual(['screenshot', 'trace'])
    const html = fs.readFileSync(path.join(p.dir, 'rig-report/index.html'), 'utf8')
    for (const a of failed?.artifacts ?? []) {
      expect(fs.existsSync(path.join(p.dir, 'rig-report', a.path)), a.path).toBe(true)
      expect(html).toContain(`href="${a.path.split('/').map(encodeURIComponent).join('/')}"`)
    }
    await nothingLeft(p)
  })
})
