// The HTML report in a real headless Chromium, opened from file:// as a person would.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunReport } from '../../src/report/model.ts'
import { writeReport } from '../../src/report/write-report.ts'
import { launchChromium } from './browser.ts'
import { SCRIPT_NAME, sampleReport } from './fixture.ts'

describe('index.html in Chromium', () => {
  const report: RunReport = sampleReport()
  let dir = ''
  let url = ''
  let junit = ''
  let browser: { context: BrowserContext; close: () => Promise<void> } | undefined
  let page: Page
  const requests: string[] = []
  const consoleErrors: string[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rig-report-html-'))
    const paths = await writeReport(report, dir)
    url = pathToFileURL(paths.html).href
    junit = await readFile(paths.junit, 'utf8')
    browser = await launchChromium()
    page = await browser.context.newPage()
    page.on('request', (r) => requests.push(r.url()))
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
    await page.goto(url, { waitUntil: 'load' })
  })

  afterAll(async () => {
    await browser?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const byId = (id: string) => page.locator(`[data-testid="${id}"]`)
  const visibleRows = () => page.locator('[data-testid="test-row"]:visible')

  it('shows the header, summary, repro command, timeline and tests', async () => {
    for (const id of ['header', 'summary', 'repro', 'seed', 'timeline', 'tests', 'search']) {
      await expect.poll(() => byId(id).first().isVisible(), { message: id }).toBe(true)
    }
    expect(await byId('summary-passed').innerText()).toContain('5')
    expect(await byId('summary-failed').innerText()).toContain('2')
    expect(await byId('summary-leaks').innerText()).toContain('1')
    expect(await byId('summary-logs').innerText()).toContain('3')
    expect(await byId('seed').innerText()).toBe('4127733')
    expect(await byId('repro').locator('code').innerText()).toBe(report.repro)
  })

  it('draws one timeline bar per service with its dependencies', async () => {
    expect(await byId('timeline-bar').count()).toBe(4)
    for (const bar of await byId('timeline-bar').all()) {
      const box = await bar.boundingBox()
      expect(box?.width).toBeGreaterThan(2)
    }
    const api = page.locator('.tl-row[data-service="api"]')
    expect(await api.locator('[data-testid="timeline-deps"]').innerText()).toBe('after db, redis, migrate')
  })

  it('lists every test, failures expanded with their errors, leaks and log errors', async () => {
    expect(await byId('test-row').count()).toBe(report.tests.length)
    expect(await visibleRows().count()).toBe(report.tests.length)
    const details = page.locator('[data-testid="test-details"]:visible')
    expect(await details.count()).toBe(2)
    expect(await page.locator('[data-testid="leak"]:visible').count()).toBe(2)
    expect(await page.locator('[data-testid="log-error"]:visible').count()).toBe(2)
    expect(await details.first().innerText()).toContain("AssertionError: expected 'open' to be 'closed'")
  })

  it('expands a passing test on click and marks its expected log error', async () => {
    const row = byId('test-row').nth(3)
    await row.click()
    expect(await row.getAttribute('aria-expanded')).toBe('true')
    const log = page.locator('tbody.test').nth(3).locator('[data-testid="log-error"]')
    await expect.poll(() => log.isVisible()).toBe(true)
    expect(await log.getAttribute('data-expected')).toBe('true')
    expect(await log.innerText()).toContain('expected')
    await row.click()
    expect(await log.isVisible()).toBe(false)
  })

  it('filters by status and by the summary cards', async () => {
    await byId('filter-failed').click()
    expect(await visibleRows().count()).toBe(2)
    expect(await page.locator('tbody.test:visible [data-testid="test-status"]').allInnerTexts()).toEqual(['failed', 'failed'])
    await byId('filter-skipped').click()
    expect(await visibleRows().count()).toBe(1)
    await byId('summary-logs').click()
    expect(await visibleRows().count()).toBe(2)
    expect(await byId('shown').innerText()).toBe('2 of 8 tests shown')
    await byId('filter-all').click()
    expect(await visibleRows().count()).toBe(8)
  })

  it('filters by a text search, and says when nothing matches', async () => {
    await byId('search').fill('billing.test')
    expect(await visibleRows().count()).toBe(3)
    await byId('search').fill('no such test')
    expect(await visibleRows().count()).toBe(0)
    expect(await byId('empty').isVisible()).toBe(true)
    await byId('search').fill('')
    expect(await visibleRows().count()).toBe(8)
  })

  it('sorts by duration', async () => {
    await page.locator('th[data-sort="duration"]').click()
    const first = await byId('test-row').first().locator('[data-testid="test-name"]').innerText()
    expect(first).toBe('refunds a cancelled rental')
    await page.locator('th[data-sort="order"]').click()
  })

  it('sorts by name and by file, read from the rows', async () => {
    const names = (): Promise<string[]> => byId('test-row').locator('[data-testid="test-name"]').allInnerTexts()
    await page.locator('th[data-sort="name"]').click()
    expect((await names()).slice(0, 3)).toEqual(['invoices in EUR with French labels', 'refunds a cancelled rental', 'the worker charges a finished rental'])
    await page.locator('th[data-sort="file"]').click()
    expect((await byId('test-row').locator('td.file').allInnerTexts()).slice(0, 3)).toEqual(['test/billing.test.ts', 'test/billing.test.ts', 'test/billing.test.ts'])
    await page.locator('th[data-sort="order"]').click()
  })

  it('copies the repro command', async () => {
    const button = byId('repro').locator('button')
    await button.click()
    await expect.poll(() => button.innerText()).toMatch(/Copied|Ctrl\+C/)
  })

  it('shows hostile text as text and never runs it', async () => {
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined()
    expect(await page.locator('script').count()).toBe(1)
    expect(await page.locator('img').count()).toBe(0)
    expect(await byId('test-name').nth(2).innerText()).toBe(SCRIPT_NAME)
  })

  it('parses junit.xml with the browser XML parser', async () => {
    const result = await page.evaluate((xml) => {
      // tsconfig has no DOM lib: declare the part of DOMParser this callback uses in the page.
      type Doc = { querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } }
      const { DOMParser } = globalThis as unknown as { DOMParser: new () => { parseFromString(xml: string, type: string): Doc } }
      const doc = new DOMParser().parseFromString(xml, 'application/xml')
      return { error: doc.querySelector('parsererror')?.textContent ?? null, cases: doc.querySelectorAll('testcase').length }
    }, junit)
    expect(result).toEqual({ error: null, cases: report.tests.length })
  })

  it('made no network request and logged no error; screenshot for review', async () => {
    await mkdir('test-results', { recursive: true })
    await byId('search').fill('')
    await page.screenshot({ path: 'test-results/report.png', fullPage: true })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: 'test-results/report-dark.png', fullPage: true })
    expect(requests).toEqual([url])
    expect(consoleErrors).toEqual([])
  })
})
