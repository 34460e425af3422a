// What counts as a browser error, per project (`use: { rigBrowser: {…} }`), with every default
// here, and the browser-native noise that never counts.
import type { BrowserErrorEntry } from '../report/model.ts'

/** Options of the browser error check, set per project in `use.rigBrowser`. */
export interface RigBrowserOptions {
  /**
   * Check the browser at all: console errors, uncaught errors, failed requests, crashes.
   * @default true
   */
  enabled?: boolean
  /**
   * `console.warn` fails a test too.
   * @default false
   */
  warnings?: boolean
  /**
   * A 4xx answer from the system's own origins fails a test too (5xx and network errors always do).
   * @default false
   */
  clientErrors?: boolean
  /**
   * Errors no test of this project fails on: a string matches as a substring of the message,
   * e.g. `[/ResizeObserver loop/, 'third-party widget']`. They are recorded as expected.
   */
  allow?: (string | RegExp)[]
  /**
   * Origins whose failed requests count, besides every service's HTTP address, its
   * `RIG_<NAME>_PUBLIC_URL` and `baseURL`, e.g. `['http://auth.example.test']`.
   */
  origins?: string[]
  /**
   * Ignore what the browser itself logs on its own: a missing favicon, extension messages,
   * requests aborted by a navigation. See docs/playwright.md.
   * @default true
   */
  ignoreNoise?: boolean
}

/** The options with defaults. */
export type ResolvedBrowserOptions = Required<RigBrowserOptions>

/** Fills in defaults. */
export function resolveBrowserOptions(o: RigBrowserOptions | undefined): ResolvedBrowserOptions {
  return { enabled: o?.enabled ?? true, warnings: o?.warnings ?? false, clientErrors: o?.clientErrors ?? false, allow: o?.allow ?? [], origins: o?.origins ?? [], ignoreNoise: o?.ignoreNoise ?? true }
}

/** Pages and scripts that belong to the browser, not to the system. */
const BROWSER_URL = /^(chrome|chrome-extension|chrome-untrusted|devtools|edge|moz-extension|about):/

/** A browser error that is the browser's own noise, not the system's. */
export function isNoise(e: Omit<BrowserErrorEntry, 'expected'>, url: string | undefined): boolean {
  if (url !== undefined && /\/favicon\.ico(\?|$)/.test(url)) return true
  if (e.source && BROWSER_URL.test(e.source)) return true
  if (/^(Unchecked runtime\.lastError|Extension context invalidated)/.test(e.text)) return true
  // A navigation cancels the page's requests still in flight; nothing failed.
  if (e.kind === 'request' && /net::ERR_ABORTED/.test(e.text)) return true
  return false
}

/** Whether `text` matches one of `patterns` (a string as a substring). */
export function matchesAny(text: string, patterns: readonly (string | RegExp)[]): boolean {
  return patterns.some((p) => (typeof p === 'string' ? text.includes(p) : new RegExp(p.source, p.flags.replace('g', '')).test(text)))
}
