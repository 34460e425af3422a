// Several variants in one `vitest run` (`rig({ variants })`, `RIG_VARIANT=en,de`): one Vitest
// project per variant, each against its own environment started with its variant's options
// and env, each with its report in rig-report/<variant>/, and the tests × variants page the
// run keeps beside them, linked from each variant's HTML report.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { FIXTURES, REPO, envDirs, leftovers, type Project } from '../support/project.ts'
import { pluginProject, until, vitest } from '../support/vitest-project.ts'
import { variantSelection } from '../../src/variants/select-variants.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const config = `import { defineConfig, command, http, redis } from 'testrig'
export default defineConfig({
  services: {
    app: command({ run: [process.execPath, ${JSON.stringify(path.join(FIXTURES, 'echo-server.cjs'))}], env: { PORT: '{port}', LOCALE: 'en' }, ready: http('/health') }),
    cache: redis(),
  },
  variants: { en: {}, de: { services: { app: { env: { LOCALE: 'de' } } }, env: { EXPECTED: 'de' } }, fr: { services: { app: { env: { LOCALE: 'fr' } } } } },
})
`

const suite = `import { test, expect } from 'vitest'
import { services, variant } from 'testrig/vitest'
import { createClient } from 'redis'
const get = async (p: string) => (await fetch(services().app.url + p)).text()
test('answers in the locale of the variant', async () => { expect(await get('/env/LOCALE')).toBe(variant()) })
test('the app and the test see only their variant env', async () => {
  expect(await get('/env/EXPECTED')).toBe(variant() === 'de' ? 'de' : '')
  expect(process.env.EXPECTED ?? '').toBe(variant() === 'de' ? 'de' : '')
})
test.runIf(variant() === 'de')('formats prices with a decimal comma', () => {})
test('is broken in German', () => { expect(variant()).not.toBe('de') })
test('each variant has its own cache', async () => {
  const c = createClient({ url: services().cache.url })
  await c.connect()
  try {
    // The other variant's test ran before or after this one, against its own Redis.
    expect(await c.incr('visits')).toBe(1)
    await c.del('visits')
  } finally {
    await c.quit()
  }
})
`

interface Report {
  variant?: string
  seed: number
  repro: string
  tests: { name: string; status: string; repro?: string }[]
}
const read = (p: Project, dir: string): Report => JSON.parse(fs.readFileSync(path.join(p.dir, dir, 'report.json'), 'utf8'))

describe('several variants in one run', () => {
  test('the selection: RIG_VARIANT (one name, or several separated by commas) wins over the option; a bad option says what to give', () => {
    expect(variantSelection(['en', 'de'], undefined)).toEqual({ several: true, names: ['en', 'de'] })
    expect(variantSelection(true, '')).toEqual({ several: true, names: 'all' })
    expect(variantSelection(['en', 'de'], 'de')).toEqual({ several: false, name: 'de' })
    expect(variantSelection(undefined, ' fr, en ,fr')).toEqual({ several: true, names: ['fr', 'en'] })
    expect(variantSelection(undefined, undefined)).toEqual({ several: false, name: undefined })
    expect(() => variantSelection([] as string[], undefined)).toThrow("rig({ variants }) must be true (every variant of rig.config.ts) or a non-empty list of variant names, e.g. ['en', 'de'], got []")
  })

  test("rig({ variants }) runs the suite once per variant, each against its own environment; each report is tagged and links the run's tests × variants page", async () => {
    project = pluginProject(config, "{ order: { shuffle: false }, variants: ['en', 'de'] }")
    fs.symlinkSync(path.join(REPO, 'node_modules', 'redis'), path.join(project.dir, 'node_modules', 'redis'))
    project.write('test/locale.test.ts', suite)
    const r = await vitest(project)
    expect(r.code).toBe(1)
    const en = read(project, 'rig-report/en')
    const de = read(project, 'rig-report/de')
    expect(en.variant).toBe('en')
    expect(de.variant).toBe('de')
    // One seed for the run: every variant's files and tests in the order it prints.
    expect(de.seed).toBe(en.seed)
    expect(r.output).toContain(`rig: seed ${en.seed} (replay this order: RIG_SEED=${en.seed} npx vitest run)`)
    const status = (rep: Report): Record<string, string> => Object.fromEntries(rep.tests.map((t) => [t.name, t.status]))
    expect(status(en)).toEqual({ 'answers in the locale of the variant': 'passed', 'the app and the test see only their variant env': 'passed', 'formats prices with a decimal comma': 'skipped', 'is broken in German': 'passed', 'each variant has its own cache': 'passed' })
    expect(status(de)).toEqual({ 'answers in the locale of the variant': 'passed', 'the app and the test see only their variant env': 'passed', 'formats prices with a decimal comma': 'passed', 'is broken in German': 'failed', 'each variant has its own cache': 'passed' })
    // A failure replays in its own variant.
    expect(de.tests.find((t) => t.name === 'is broken in German')?.repro).toMatch(/^RIG_SEED=\d+ RIG_VARIANT=de npx vitest run test\/locale\.test\.ts/)
    expect(de.repro).toMatch(/^RIG_SEED=\d+ RIG_VARIANT=de npx vitest run/)
    // No report of its own for the run as a whole: the variants' reports and the page beside them.
    expect(fs.existsSync(path.join(project.dir, 'rig-report/report.json'))).toBe(false)
    const page = fs.readFileSync(path.join(project.dir, 'rig-report/what-is-tested.html'), 'utf8')
    expect(page).toContain('<a href="en/index.html">en</a>')
    expect(page).toContain('<a href="de/index.html">de</a>')
    expect(page).toContain('is broken in German')
    expect(page.indexOf('is broken in German')).toBeLessThan(page.indexOf('answers in the locale of the variant'))
    const html = fs.readFileSync(path.join(project.dir, 'rig-report/de/index.html'), 'utf8')
    expect(html).toContain('variant <b class="mono" data-testid="variant">de</b> (<a href="../what-is-tested.html" data-testid="matrix-link">what is tested in every variant</a>)')
    // Each variant's services logged to their own files.
    expect(fs.readdirSync(path.join(project.dir, '.rig/logs')).sort()).toEqual(['de', 'en'])
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
    // rig matrix reads the same reports: the Markdown a team commits.
    const m = await project.rig(['matrix', '--stdout'])
    expect(m.code).toBe(0)
    expect(m.stdout).toContain('| formats prices with a decimal comma | test/locale.test.ts | ⏭ skip | ✅ pass | — |')
  }, 400_000)

  test("a run attaches to rig up's environment only when it runs the same variant", async () => {
    project = pluginProject(config, "{ order: { shuffle: false }, variants: ['en', 'de'] }")
    project.write('test/locale.test.ts', `import { test, expect } from 'vitest'\nimport { services, variant } from 'testrig/vitest'\ntest('answers in the locale of the variant', async () => { expect(await (await fetch(services().app.url + '/env/LOCALE')).text()).toBe(variant() ?? 'en') })\n`)
    expect((await project.rig(['up', '--detach', '--variant', 'de'])).code).toBe(0)
    try {
      const both = await vitest(project)
      expect(both.code).toBe(0)
      expect(both.output).toContain('runs variant "de", this run variant "en": starting this run\'s own')
      expect(both.output).toContain('using the environment started by rig up')
      const attached = (v: string): boolean => (JSON.parse(fs.readFileSync(path.join(project!.dir, 'rig-report', v, 'report.json'), 'utf8')) as { environment: { attached: boolean } }).environment.attached
      expect(attached('de')).toBe(true)
      expect(attached('en')).toBe(false)
      // A run without a variant does not take the "de" environment either.
      project.write('vitest.config.ts', "import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'] } })\n")
      const none = await vitest(project)
      expect(none.output).toContain('runs variant "de", this run none: starting this run\'s own')
      expect(none.code).toBe(0)
    } finally {
      expect((await project.rig(['down'])).code).toBe(0)
    }
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 400_000)

  test('RIG_VARIANT=a,b selects several (it wins over the option); an unknown one stops the run before anything starts', async () => {
    project = pluginProject(config, "{ order: { shuffle: false }, variants: ['en', 'de'] }")
    project.write('test/locale.test.ts', `import { test, expect } from 'vitest'\nimport { services, variant } from 'testrig/vitest'\ntest('answers in the locale of the variant', async () => { expect(await (await fetch(services().app.url + '/env/LOCALE')).text()).toBe(variant()) })\n`)
    const bad = await vitest(project, { env: { RIG_VARIANT: 'fr,dee' } })
    expect(bad.code).not.toBe(0)
    expect(bad.output).toContain('RIG_VARIANT: unknown variant "dee" — did you mean "de"? (variants: en, de, fr)')
    expect(envDirs(project.dir)).toEqual([])
    expect(fs.existsSync(path.join(project.dir, 'rig-report'))).toBe(false)

    const r = await vitest(project, { env: { RIG_VARIANT: 'fr,en' } })
    expect(r.code).toBe(0)
    expect(r.output).toMatch(/rig: seed \d+ \(replay this order: RIG_SEED=\d+ RIG_VARIANT=fr,en npx vitest run\)/)
    expect(read(project, 'rig-report/fr').tests.map((t) => t.status)).toEqual(['passed'])
    expect(read(project, 'rig-report/en').tests.map((t) => t.status)).toEqual(['passed'])
    expect(fs.existsSync(path.join(project.dir, 'rig-report/de'))).toBe(false)
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 400_000)
})
