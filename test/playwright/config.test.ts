// The Playwright adapter's pure parts: what withRig() adds to a config, which requests are the
// system's, what is noise, where an error comes from, how a failure is replayed.
import { describe, expect, test } from 'vitest'
import { isNoise, matchesAny } from '../../src/playwright/browser-options.ts'
import { browserFailure, stackSource } from '../../src/playwright/browser-errors.ts'
import { CHROMIUM_ARGS, withRig } from '../../src/playwright/config.ts'
import { ownOrigins } from '../../src/playwright/own-origins.ts'
import { replayCommand } from '../../src/playwright/reporter.ts'
import { reproCommand } from '../../src/runner/order.ts'
import type { RigProvided } from '../../src/runner/provided.ts'

describe('withRig()', () => {
  test("adds rig's global setup before the user's, its reporter after the user's, one worker and Chromium", () => {
    const c = withRig({ testDir: 'e2e', globalSetup: './mine.ts', reporter: 'line', use: { baseURL: 'http://x', launchOptions: { args: ['--lang=fr'] } } }, { chromium: '/opt/chromium' })
    expect(c.globalSetup).toEqual([expect.stringMatching(/src\/playwright\/global-setup\.ts$/), './mine.ts'])
    expect(c.reporter).toEqual([['line'], [expect.stringMatching(/src\/playwright\/reporter\.ts$/)]])
    expect(c.workers).toBe(1)
    expect(c.use).toEqual({ baseURL: 'http://x', launchOptions: { executablePath: '/opt/chromium', args: [...CHROMIUM_ARGS, '--lang=fr'] } })
  })

  test("keeps a project's own browser, the user's workers under isolation 'database', and Playwright's browser with chromium: false", () => {
    const c = withRig({ workers: 4, projects: [{ name: 'ff', use: { browserName: 'firefox', launchOptions: {} } }, { name: 'chrome', use: { channel: 'chrome', launchOptions: {} } }] }, { isolation: 'database', chromium: '/opt/chromium' })
    expect(c.workers).toBe(4)
    expect(c.projects?.map((p) => p.use)).toEqual([{ browserName: 'firefox', launchOptions: {} }, { channel: 'chrome', launchOptions: {} }])
    expect(withRig({}, { chromium: false }).use).toBeUndefined()
  })

  test('refuses two projects with the same name', () => {
    expect(() => withRig({ projects: [{ name: 'a' }, { name: 'b' }, { name: 'a' }] })).toThrow('two Playwright projects are named "a": give each project a name of its own')
  })
})

describe('the browser check', () => {
  const provided = { services: { api: { url: 'http://127.0.0.1:4100' }, db: { url: 'postgres://u@127.0.0.1:5433/db' } }, vars: { RIG_WEB_PUBLIC_URL: 'http://web.shop.localhost:8080' } } as unknown as RigProvided

  test("the system's origins: its services' HTTP addresses (any loopback name), public URLs, baseURL and extra origins", () => {
    const own = ownOrigins(provided, ['http://localhost:3000', 'https://auth.example.test', undefined])
    expect(own('http://localhost:4100/cars')).toBe(true)
    expect(own('http://[::1]:4100/')).toBe(true)
    expect(own('http://web.shop.localhost:8080/app.js')).toBe(true)
    expect(own('http://127.0.0.1:3000/')).toBe(true)
    expect(own('https://auth.example.test/login')).toBe(true)
    expect(own('http://127.0.0.1:5433/')).toBe(false)
    expect(own('https://cdn.example.com/lib.js')).toBe(false)
    expect(own('data:text/plain,x')).toBe(false)
  })

  test('noise: the favicon, extensions, the browser’s own pages, requests a navigation cancelled', () => {
    expect(isNoise({ kind: 'request', text: 'GET http://x/favicon.ico answered 404', page: '' }, 'http://x/favicon.ico')).toBe(true)
    expect(isNoise({ kind: 'console.error', text: 'x', page: '', source: 'chrome-extension://abc/content.js:1:1' }, undefined)).toBe(true)
    expect(isNoise({ kind: 'console.error', text: 'Unchecked runtime.lastError: The message port closed', page: '' }, undefined)).toBe(true)
    expect(isNoise({ kind: 'request', text: 'GET http://x/api failed: net::ERR_ABORTED', page: '' }, 'http://x/api')).toBe(true)
    expect(isNoise({ kind: 'request', text: 'GET http://x/api failed: net::ERR_CONNECTION_REFUSED', page: '' }, 'http://x/api')).toBe(false)
    expect(isNoise({ kind: 'console.error', text: 'boom', page: '', source: 'http://x/app.js:1:1' }, 'http://x/app.js')).toBe(false)
  })

  test('allow patterns: a string as a substring, a RegExp (a global one too, every time)', () => {
    const g = /boom/g
    expect(matchesAny('a boom here', ['boom'])).toBe(true)
    expect(matchesAny('a boom here', [g])).toBe(true)
    expect(matchesAny('a boom here', [g])).toBe(true)
    expect(matchesAny('nothing', ['boom', /bang/])).toBe(false)
  })

  test("an error's source is its stack's first frame with a location", () => {
    expect(stackSource('Error: x\n    at explode (http://127.0.0.1:4100/throw.js:2:9)\n    at http://127.0.0.1:4100/throw.js:4:1')).toBe('http://127.0.0.1:4100/throw.js:2:9')
    expect(stackSource('Error: x\n    at http://127.0.0.1:4100/app.js:58:72')).toBe('http://127.0.0.1:4100/app.js:58:72')
    expect(stackSource('Error: x')).toBeUndefined()
  })

  test('the failure lists unexpected errors with page and source, and says how to allow them', () => {
    expect(browserFailure('t', [{ kind: 'console.error', text: 'ok', page: 'p', expected: true }])).toBeUndefined()
    expect(browserFailure('rents a car', [{ kind: 'pageerror', text: 'boom', page: 'http://h/', source: 'http://h/app.js:1:2', expected: false }])).toBe(
      'Browser errors during "rents a car":\n  pageerror on http://h/ at http://h/app.js:1:2:\n    boom\n  (if this test expects them: rig.expectConsole(/…/); for a whole project: use: { rigBrowser: { allow: [/…/] } }, see docs/playwright.md)',
    )
  })
})

test('a replay selects the test by the end of its title path, keeping the config and project', () => {
  const replay = replayCommand(['test', '-c', 'pw.config.ts', '--project=chromium', '--workers=1'])
  expect(reproCommand(7, ['/p/e2e/a.spec.ts'], '/p', replay, { test: 'cart > adds (1) item' })).toBe("npx playwright test -c pw.config.ts --project=chromium e2e/a.spec.ts -g ' cart adds \\(1\\) item$'")
})
