// The real Sentry SDK for Node (@sentry/node) in an app rig starts, reporting to sentry(): the
// test during which the app reported an exception fails with its type, value and top frames,
// the report lists it, rig.expectReported() allows one, and the app got SENTRY_DSN.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, leftovers, REPO, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined
afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = `import { command, defineConfig, sentry } from 'testrig'
export default defineConfig({
  services: {
    errors: sentry(),
    app: command({ run: [process.execPath, 'app.mjs'], env: { PORT: '{port}' }, dependsOn: ['errors'] }),
  },
})
`

// The app reports what it catches and flushes before it answers, so the event is in before the
// test ends (an SDK sends in the background otherwise).
const app = `import * as Sentry from '@sentry/node'
import http from 'node:http'
Sentry.init({ dsn: process.env.SENTRY_DSN, environment: 'rehearsal', release: 'app@1.2.3' })
function chargeCard(order) {
  throw new TypeError('card declined for order ' + order)
}
function checkout(order) {
  chargeCard(order)
}
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app')
  if (url.pathname === '/checkout') {
    try {
      checkout(Number(url.searchParams.get('order')))
    } catch (err) {
      Sentry.captureException(err)
      await Sentry.flush(10000)
      res.writeHead(500)
      return res.end('failed')
    }
  }
  if (url.pathname === '/warn') {
    Sentry.captureMessage('slow payment provider', 'warning')
    await Sentry.flush(10000)
  }
  res.end('ok')
}).listen(Number(process.env.PORT), '127.0.0.1')
`

const tests = `import { expect, test } from 'vitest'
import { rig } from 'testrig/vitest'
const get = (p) => fetch(rig.service('app').url + p)
test('checkout fails', async () => {
  expect((await get('/checkout?order=7')).status).toBe(500)
})
// (The SDK drops an event identical to the one before: another order.)
test('checkout fails as expected', async () => {
  rig.expectReported(/TypeError: card declined for order 8/)
  expect((await get('/checkout?order=8')).status).toBe(500)
})
test('a warning', async () => {
  expect(await (await get('/warn')).text()).toBe('ok')
})
test('the tests see the DSN', () => {
  expect(process.env.SENTRY_DSN).toMatch(/^http:\\/\\/[0-9a-f]{32}@127\\.0\\.0\\.1:\\d+\\/1$/)
  expect(process.env.RIG_ERRORS_DSN).toBe(process.env.SENTRY_DSN)
})
`

interface ReportTest {
  name: string
  status: string
  errors: string[]
  logErrors: { service: string; line: string; expected: boolean }[]
}

describe('sentry() with @sentry/node', () => {
  test('an exception the app reported fails the test it happened in, with its type, value and frames; expectReported allows one; a warning does not fail', async () => {
    project = pluginProject(config)
    fs.symlinkSync(path.join(REPO, 'node_modules/@sentry'), path.join(project.dir, 'node_modules/@sentry'))
    project.write('app.mjs', app)
    project.write('test/checkout.test.ts', tests)
    const r = await vitest(project)
    const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')) as { tests: ReportTest[] }
    const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
    expect(Object.fromEntries(report.tests.map((t) => [t.name, t.status])), r.output).toEqual({ 'checkout fails': 'failed', 'checkout fails as expected': 'passed', 'a warning': 'passed', 'the tests see the DSN': 'passed' })
    const line = (order: number): RegExp => new RegExp(`^error TypeError: card declined for order ${order} at chargeCard \\(\\S*app\\.mjs:5:9\\) < checkout \\(\\S*app\\.mjs:8:3\\) < \\S+ \\(\\S*app\\.mjs:\\d+:\\d+\\) \\[event [0-9a-f]{8}, environment rehearsal, release app@1\\.2\\.3\\]$`)
    expect(byName['checkout fails']?.logErrors).toEqual([{ service: 'errors', line: expect.stringMatching(line(7)), expected: false }])
    expect(byName['checkout fails']?.errors.join('\n')).toMatch(/Errors logged by services during "checkout fails":\n {2}errors: error TypeError: card declined for order 7 at chargeCard/)
    expect(byName['checkout fails']?.errors.join('\n')).toContain('if this test expects them: rig.expectReported(/…/)')
    expect(byName['checkout fails as expected']?.logErrors).toEqual([{ service: 'errors', line: expect.stringMatching(line(8)), expected: true }])
    expect(byName['a warning']?.logErrors).toEqual([])
    expect(fs.readFileSync(path.join(project.dir, '.rig/logs/errors.log'), 'utf8')).toMatch(/ stdout +warning slow payment provider/)
    expect(r.code).toBe(1)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })
})
