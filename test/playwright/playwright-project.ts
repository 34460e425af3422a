// Throw-away projects for the Playwright adapter: rig.config.ts with PostgreSQL and the test
// site (site.mjs), a playwright.config.ts wrapped in withRig(), and Playwright Test run as a
// real subprocess with Debian's Chromium.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { RunReport } from '../../src/report/model.ts'
import { makeProject, NODE, REPO, type Project } from '../support/project.ts'

export const PLAYWRIGHT_CLI = path.join(REPO, 'node_modules/@playwright/test/cli.js')

/** PostgreSQL and the site over it. */
export const SITE_CONFIG = `import { defineConfig, postgres, command, http } from 'testrig'
export default defineConfig({
  services: {
    db: postgres(),
    web: command({ run: [process.execPath, 'site.mjs'], dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url, PORT: '{port}' }), ready: http('/') }),
  },
})
`

/** A playwright.config.ts: `config` is the object given to withRig, `options` its second argument. */
export function playwrightConfig(config = '{}', options = '{}'): string {
  return `import { defineConfig } from '@playwright/test'
import { withRig } from 'testrig/playwright'
const base = { testDir: 'e2e', timeout: 60_000, expect: { timeout: 20_000 }, use: { baseURL: process.env.RIG_WEB_URL, actionTimeout: 20_000, navigationTimeout: 30_000 } }
const own = ${config}
export default defineConfig(withRig({ ...base, ...own, use: { ...base.use, ...own.use } }, ${options}))
`
}

/** A project with the site, `pg` and Playwright linked from this repository. */
export function playwrightProject(options: { config?: string; rigOptions?: string; isolated?: boolean } = {}): Project {
  const p = makeProject(SITE_CONFIG, options.isolated ? { isolated: true } : {})
  fs.mkdirSync(path.join(p.dir, 'node_modules/@playwright'), { recursive: true })
  if (!options.isolated) {
    fs.symlinkSync(path.join(REPO, 'node_modules/@playwright/test'), path.join(p.dir, 'node_modules/@playwright/test'))
    fs.symlinkSync(path.join(REPO, 'node_modules/pg'), path.join(p.dir, 'node_modules/pg'))
  }
  p.write('site.mjs', fs.readFileSync(path.join(import.meta.dirname, 'site.mjs'), 'utf8'))
  p.write('playwright.config.ts', playwrightConfig(options.config, options.rigOptions))
  return p
}

export interface Ran {
  code: number | null
  output: string
}

/** Runs `args` with this repository's Node in the project; the environment is this process's minus a test runner's own variables. Never rejects. */
export function runNode(p: Project, args: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Promise<Ran> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST_|PLAYWRIGHT|PW_|RIG_|NODE_OPTIONS$)/.test(k)))
  return new Promise((resolve) => {
    const child = spawn(NODE, args, { cwd: p.dir, env: { ...base, NO_COLOR: '1', FORCE_COLOR: '0', RIG_TMP_DIR: path.join(p.dir, 'tmp'), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]`
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** `playwright test` in the project. */
export const runPlaywright = (p: Project, args: string[] = [], env: Record<string, string> = {}): Promise<Ran> => runNode(p, [PLAYWRIGHT_CLI, 'test', ...args], env)

/** The project's report.json. */
export function readReport(p: Project): RunReport {
  return JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8')) as RunReport
}
