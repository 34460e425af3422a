// Worker side: what the browser reports during one test, from every page of every context it
// opens: console errors (and warnings when asked), uncaught errors and unhandled rejections,
// failed requests to the system's own origins, crashed pages. Listeners belong to one test and
// are removed at its end, so nothing a page does later is ever put on the next test's account.
import type { Browser, BrowserContext, ConsoleMessage, Page, Request, Response, WebError } from '@playwright/test'
import type { BrowserErrorEntry } from '../report/model.ts'
import { isNoise, matchesAny, type ResolvedBrowserOptions } from './browser-options.ts'

type Found = Omit<BrowserErrorEntry, 'expected'>

/** Errors kept per test: a page that logs in a loop must not fill the report. */
export const MAX_BROWSER_ERRORS = 100

/** How long the drain at the end of a test waits for one page (a hung page must not hang the test). */
const DRAIN_MS = 2000

function pageUrl(page: Page | null | undefined): string {
  try {
    return page?.url() ?? ''
  } catch {
    return ''
  }
}

/** The page a request belongs to ('' for a service worker's). */
function requestPage(r: Request): string {
  try {
    return pageUrl(r.frame().page())
  } catch {
    return ''
  }
}

/** `url:line:col` of the first frame of a stack that names one. */
export function stackSource(stack: string | undefined): string | undefined {
  const m = stack?.match(/\bat (?:[^\n(]*\()?((?:https?|file|blob):[^\s)]+:\d+:\d+)\)?/)
  return m?.[1]
}

function consoleSource(m: ConsoleMessage): string | undefined {
  const l = m.location()
  return l.url ? `${l.url}:${l.lineNumber + 1}:${l.columnNumber + 1}` : undefined
}

/** The browser errors of one test. */
export class TestBrowserErrors {
  private readonly found: { entry: Found; url: string | undefined }[] = []
  private readonly contexts = new Set<BrowserContext>()
  private readonly detachers: (() => void)[] = []
  private readonly o: ResolvedBrowserOptions
  private readonly own: (url: string) => boolean

  constructor(o: ResolvedBrowserOptions, own: (url: string) => boolean) {
    this.o = o
    this.own = own
  }

  private add(entry: Found, url?: string): void {
    if (this.o.ignoreNoise && isNoise(entry, url)) return
    if (this.found.length > MAX_BROWSER_ERRORS) return
    if (this.found.length === MAX_BROWSER_ERRORS) entry = { kind: entry.kind, text: `more browser errors followed; only the first ${MAX_BROWSER_ERRORS} were kept`, page: entry.page }
    this.found.push({ entry, url })
  }

  private onConsole = (m: ConsoleMessage): void => {
    const type = m.type()
    if (type !== 'error' && !(type === 'warning' && this.o.warnings)) return
    const text = m.text()
    // The browser's line for a failed load; the request listeners judge those (own origins only).
    if (/^Failed to load resource:/.test(text)) return
    const source = consoleSource(m)
    this.add({ kind: type === 'error' ? 'console.error' : 'console.warning', text, page: pageUrl(m.page()), ...(source ? { source } : {}) }, m.location().url)
  }

  private onWebError = (e: WebError): void => {
    const err = e.error()
    const source = stackSource(err.stack)
    this.add({ kind: 'pageerror', text: err.message || String(err), page: pageUrl(e.page()), ...(source ? { source } : {}) })
  }

  private onRequestFailed = (r: Request): void => {
    if (!this.own(r.url())) return
    this.add({ kind: 'request', text: `${r.method()} ${r.url()} failed: ${r.failure()?.errorText ?? 'no answer'}`, page: requestPage(r) }, r.url())
  }

  private onResponse = (r: Response): void => {
    const status = r.status()
    if (status < 400 || (status < 500 && !this.o.clientErrors) || !this.own(r.url())) return
    this.add({ kind: 'request', text: `${r.request().method()} ${r.url()} answered ${status} ${r.statusText()}`.trimEnd(), page: requestPage(r.request()) }, r.url())
  }

  private watchPage = (p: Page): void => {
    const crashed = (): void => this.add({ kind: 'crash', text: 'the page crashed (its renderer process died)', page: pageUrl(p) })
    p.on('crash', crashed)
    this.detachers.push(() => p.off('crash', crashed))
  }

  /** Listens to a context and every page it has or opens. */
  watch(context: BrowserContext): void {
    if (this.contexts.has(context)) return
    this.contexts.add(context)
    const on = <T>(event: string, fn: (arg: T) => void): void => {
      ;(context as unknown as { on(e: string, f: (arg: T) => void): void }).on(event, fn)
      this.detachers.push(() => (context as unknown as { off(e: string, f: (arg: T) => void): void }).off(event, fn))
    }
    on('console', this.onConsole)
    on('weberror', this.onWebError)
    on('requestfailed', this.onRequestFailed)
    on('response', this.onResponse)
    on('page', this.watchPage)
    for (const p of context.pages()) this.watchPage(p)
  }

  /**
   * Lets every open page run what is already queued (0 ms timers, events on their way): what
   * a page does before the test's end is this test's, even when the browser reports it late.
   */
  async drain(context?: BrowserContext): Promise<void> {
    const pages = (context ? [context] : [...this.contexts]).flatMap((c) => c.pages()).filter((p) => !p.isClosed())
    await Promise.all(
      pages.map(async (p) => {
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))
        await Promise.race([p.evaluate(() => new Promise<void>((resolve) => setTimeout(resolve, 0))).catch(() => {}), deadline])
        clearTimeout(timer)
      }),
    )
  }

  /** Stops listening. */
  detach(): void {
    for (const d of this.detachers.splice(0)) d()
  }

  /** What was found, each marked expected when `expected` (the test's) or the project's `allow` matches it. */
  entries(expected: readonly (string | RegExp)[]): BrowserErrorEntry[] {
    const patterns = [...expected, ...this.o.allow]
    return this.found.map(({ entry }) => ({ ...entry, expected: matchesAny(entry.text, patterns) }))
  }
}

/** The worker's browsers: every context they create is watched by the running test's collector. */
export class BrowserWatch {
  private readonly browsers = new Set<Browser>()
  private current: TestBrowserErrors | undefined

  addBrowser(b: Browser): void {
    if (this.browsers.has(b)) return
    this.browsers.add(b)
    b.on('context', (c) => this.current?.watch(c))
    if (this.current) for (const c of b.contexts()) this.current.watch(c)
  }

  /** A test starts: `errors` watches every context that exists (made in `beforeAll`) or is made from now on. */
  startTest(errors: TestBrowserErrors): void {
    this.current = errors
    for (const b of this.browsers) for (const c of b.contexts()) errors.watch(c)
  }

  endTest(): void {
    this.current?.detach()
    this.current = undefined
  }

  /** The running test's collector. */
  get running(): TestBrowserErrors | undefined {
    return this.current
  }
}

/** The failure message for unexpected browser errors, or undefined. */
export function browserFailure(testName: string, entries: readonly BrowserErrorEntry[]): string | undefined {
  const unexpected = entries.filter((e) => !e.expected)
  if (unexpected.length === 0) return undefined
  const lines = unexpected.map((e) => `  ${e.kind} on ${e.page || '(no page)'}${e.source ? ` at ${e.source}` : ''}:\n    ${e.text.split('\n').join('\n    ')}`)
  return `Browser errors during "${testName}":\n${lines.join('\n')}\n  (if this test expects them: rig.expectConsole(/…/); for a whole project: use: { rigBrowser: { allow: [/…/] } }, see docs/playwright.md)`
}
