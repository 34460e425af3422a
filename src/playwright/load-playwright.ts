// @playwright/test is an optional peer: loaded when testrig/playwright is, with an error that
// says what to install when it is missing. Synchronous (`require`), so a CommonJS project's
// test files can load this module too.
import { createRequire } from 'node:module'
import { RigError } from '../errors.ts'

const require = createRequire(import.meta.url)

/** @playwright/test, the one the project installed. */
export function loadPlaywright(resolve: (id: string) => unknown = require): typeof import('@playwright/test') {
  try {
    return resolve('@playwright/test') as typeof import('@playwright/test')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes('@playwright/test')) {
      throw new RigError('RIG_PLAYWRIGHT_MISSING', 'testrig/playwright runs in Playwright Test, which is not installed: npm install -D @playwright/test (no browser download is needed for Chromium: see docs/playwright.md)', { cause: err, exitCode: 2 })
    }
    throw err
  }
}
