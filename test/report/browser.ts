// Launches Debian's Chromium through playwright-core for the report's browser test. Playwright's
// own browser download cannot work offline, so the system package is the one supported path.
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'

/** Debian's `chromium` package; `RIG_CHROMIUM` points elsewhere (e.g. a macOS Chrome). */
export const CHROMIUM = process.env.RIG_CHROMIUM || '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A browser context on a fresh profile; `close()` shuts the browser and removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. The HTML report is checked in a real browser: install it with \`apt-get install chromium\` (Debian/Ubuntu).`)
  }
  let playwright: typeof import('playwright-core')
  try {
    playwright = await import('playwright-core')
  } catch (err) {
    throw new Error('playwright-core is missing: it drives Chromium for the HTML report test. Run `npm install` (it is a devDependency).', { cause: err })
  }
  const profile = await mkdtemp(join(tmpdir(), 'rig-chromium-'))
  try {
    const context = await playwright.chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    })
    return {
      context,
      close: async () => {
        await context.close()
        await rm(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    await rm(profile, { recursive: true, force: true })
    throw err
  }
}
