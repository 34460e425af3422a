// Setups the Playwright adapter cannot work with are refused before any test runs, each with
// a message that says what to do, and nothing is left running.
import { afterAll, describe, expect, test } from 'vitest'
import { envDirs, leftovers, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { playwrightConfig, playwrightProject, runNode, runPlaywright } from './playwright-project.ts'

const projects: Project[] = []
afterAll(async () => {
  for (const p of projects) await p.dispose()
})
function project(options: Parameters<typeof playwrightProject>[0] = {}): Project {
  const p = playwrightProject(options)
  projects.push(p)
  p.write('e2e/one.spec.ts', "import { test, expect } from 'testrig/playwright'\ntest('opens the site', async ({ page }) => {\n  await page.goto('/')\n  await expect(page.locator('h1')).toHaveText('ok')\n})\n")
  return p
}
const nothingLeft = async (p: Project): Promise<void> => {
  expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
  expect(envDirs(p.dir)).toEqual([])
}

describe('testrig/playwright refuses', { timeout: 300_000 }, () => {
  test('to load without Playwright Test installed, naming the package', async () => {
    const p = project({ isolated: true })
    const r = await runNode(p, ['--input-type=module', '-e', "await import('testrig/playwright')"])
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('testrig/playwright runs in Playwright Test, which is not installed: npm install -D @playwright/test')
  })

  test('a browser path with no browser, saying how to install Debian’s chromium or set the path', async () => {
    const p = project()
    const r = await runPlaywright(p, [], { RIG_CHROMIUM: '/nonexistent/chromium' })
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('no browser at /nonexistent/chromium (project "")')
    expect(r.output).toContain('`apt-get install chromium`')
    expect(r.output).toContain('use.launchOptions.executablePath')
    expect(r.output).not.toContain('environment ready')
    await nothingLeft(p)
  })

  test('two projects with the same name', async () => {
    const p = project({ config: "{ projects: [{ name: 'desktop' }, { name: 'desktop', use: { viewport: { width: 400, height: 800 } } }] }" })
    const r = await runPlaywright(p)
    expect(r.code).not.toBe(0)
    expect(r.output).toContain('two Playwright projects are named "desktop": give each project a name of its own')
    await nothingLeft(p)
  })

  test('several workers on one shared environment', async () => {
    const p = project()
    const r = await runPlaywright(p, ['--workers=2'])
    expect(r.code).not.toBe(0)
    expect(r.output).toContain("Playwright would run 2 workers at once against one shared environment")
    expect(r.output).toContain("withRig(config, { isolation: 'database' })")
    await nothingLeft(p)
  })

  test('a test of testrig/playwright in a config without withRig()', async () => {
    const p = project()
    p.write('playwright.config.ts', playwrightConfig().replace(/withRig\((.*), \{\}\)\)/, '$1)'))
    const r = await runPlaywright(p)
    expect(r.code).not.toBe(0)
    expect(r.output).toContain("withRig()'s global setup did not run (wrap the Playwright config in withRig() from testrig/playwright")
    await nothingLeft(p)
  })
})
