// Variants: validation of the overlays, RIG_VARIANT applied by the config loader (rig up
// --variant on a real service), one suite run per variant through the plugin, and the matrix
// written from their reports and checked against the committed file.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { validateConfig } from '../../src/config/validate.ts'
import { command, postgres } from '../../src/index.ts'
import { applyVariant } from '../../src/variants/variants.ts'
import { FIXTURES, type Project } from '../support/project.ts'
import { pluginProject, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const app = command({ run: ['node', 'server.js'], env: { LOCALE: 'en', PORT: '{port}' } })

describe('variants', () => {
  test('bad overlays are refused before anything starts, naming the variant', () => {
    const base = { services: { db: postgres(), api: app } }
    expect(() => validateConfig({ ...base, variants: { de: { servics: {} } } }, 'rig.config.ts')).toThrow('rig.config.ts: variant "de": unknown key "servics" — did you mean "services"? (allowed: services, env, front)')
    expect(() => validateConfig({ ...base, variants: { de: { services: { apii: { env: {} } } } } }, 'rig.config.ts')).toThrow('variant "de": service "apii" is not in services — did you mean "api"? (services: db, api); a variant changes services, it does not add them')
    expect(() => validateConfig({ ...base, variants: { de: { services: { api: { envv: {} } } } } }, 'rig.config.ts')).toThrow(/variant "de": service "api" \(command\): unknown option "envv".*\(allowed: .*\benv\b/)
    expect(() => validateConfig({ ...base, variants: { de: { services: { db: { port: 70000 } } } } }, 'rig.config.ts')).toThrow('rig.config.ts: variant "de": service "db": port must be an integer from 1 to 65535, got 70000')
    expect(() => validateConfig({ ...base, variants: { de: { env: { LOCALE: 3 } } } }, 'rig.config.ts')).toThrow('variant "de": env.LOCALE must be a string, got 3')
    expect(() => validateConfig({ ...base, variants: { 'de de': {} } }, 'rig.config.ts')).toThrow(/variant "de de": a variant name uses letters/)
    expect(validateConfig({ ...base, variants: { de: { services: { api: { env: { LOCALE: 'de' } } } } } }, 'rig.config.ts')).toEqual(['db', 'api'])
  })

  test('an overlay merges options key by key; a definition replaces the service; an unknown variant says which exist', () => {
    const config = { services: { db: postgres(), api: app }, variants: { de: { services: { api: { env: { LOCALE: 'de' } } } }, pg2: { services: { db: postgres({ settings: { lc_messages: 'C' } }) } } } }
    expect(applyVariant(config, 'de').services.api?.options).toMatchObject({ run: ['node', 'server.js'], env: { LOCALE: 'de', PORT: '{port}' } })
    expect(applyVariant(config, 'pg2').services.db?.options).toMatchObject({ settings: { lc_messages: 'C' } })
    expect(() => applyVariant(config, 'dee')).toThrow('RIG_VARIANT: unknown variant "dee" — did you mean "de"? (variants: de, pg2)')
  })

  test('rig up --variant starts the variant; the suite runs once per variant; rig matrix writes and checks what is tested', async () => {
    project = pluginProject(`import { defineConfig, command, http, redis } from 'testrig'
export default defineConfig({
  services: {
    app: command({ run: [process.execPath, ${JSON.stringify(path.join(FIXTURES, 'echo-server.cjs'))}], env: { PORT: '{port}', LOCALE: 'en' }, ready: http('/health') }),
    cache: redis({ proxy: true }),
  },
  variants: { en: {}, de: { services: { app: { env: { LOCALE: 'de' } } }, env: { EXPECTED: 'de' } } },
})
`)
    const bad = await project.rig(['up', '--variant', 'fr'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/RIG_VARIANT: unknown variant "fr"( — did you mean "\w+"\?)? \(variants: en, de\)/)
    const up = await project.rig(['up', '--detach', '--variant', 'de', '--json'])
    expect(up.code).toBe(0)
    const url = (JSON.parse(up.stdout) as { services: { app: { url: string } } }).services.app.url
    expect(await (await fetch(`${url}/env/LOCALE`)).text()).toBe('de')
    expect((await project.rig(['down'])).code).toBe(0)

    project.write('test/locale.test.ts', `import { test, expect } from 'vitest'
import { services, variant } from 'testrig/vitest'
test('answers in the locale of the variant', async () => { expect(await (await fetch(services().app.url + '/env/LOCALE')).text()).toBe(variant() ?? 'en') })
test.runIf(variant() === 'de')('sees the variant env', () => { expect(process.env.EXPECTED).toBe('de') })
test('is broken in German', () => { expect(variant()).not.toBe('de') })
test('makes the app log', async () => { expect(await (await fetch(services().app.url + '/log/hello')).text()).toBe('logged') })
test('talks to the cache through its proxy', async () => {
  const { createConnection } = await import('node:net')
  const s = createConnection(Number(process.env.RIG_CACHE_PORT), '127.0.0.1')
  s.write('PING\\r\\n')
  // rig's Redis wants a password: any answer shows the bytes went through.
  expect(await new Promise((resolve) => s.once('data', (d) => resolve(String(d))))).toMatch(/^(\\+PONG|-NOAUTH)/)
  s.destroy()
})
`)
    for (const v of ['en', 'de']) {
      const r = await vitest(project, { env: { RIG_VARIANT: v } })
      expect(r.code).toBe(v === 'de' ? 1 : 0)
      const report = JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report', v, 'report.json'), 'utf8')) as { variant: string }
      expect(report.variant).toBe(v)
    }
    const m = await project.rig(['matrix'])
    expect(m.code).toBe(0)
    const md = fs.readFileSync(path.join(project.dir, 'what-is-tested.md'), 'utf8')
    expect(md).toContain('| test | file | en | de | services touched |')
    expect(md).toContain('| answers in the locale of the variant | test/locale.test.ts | ✅ pass | ✅ pass |')
    expect(md).toContain('| sees the variant env | test/locale.test.ts | ⏭ skip | ✅ pass |')
    expect(md).toContain('| is broken in German | test/locale.test.ts | ✅ pass | ❌ fail | — |')
    // Services touched: the one that wrote to its log during the test, the one its proxy carried bytes to; nothing for the others.
    expect(md).toContain('| makes the app log | test/locale.test.ts | ✅ pass | ✅ pass | app |')
    expect(md).toContain('| talks to the cache through its proxy | test/locale.test.ts | ✅ pass | ✅ pass | cache |')
    expect((await project.rig(['matrix', '--check', '--html', 'rig-report/what-is-tested.html'])).code).toBe(0)
    const page = fs.readFileSync(path.join(project.dir, 'rig-report/what-is-tested.html'), 'utf8')
    expect(page).toContain('<a href="en/index.html">en</a>')
    expect(page).toContain('<a href="de/index.html">de</a>')
    // The test failing in one variant comes first, its cell labelled, not only coloured.
    expect(page.indexOf('is broken in German')).toBeLessThan(page.indexOf('answers in the locale of the variant'))
    expect(page).toContain('<td class="cell failed" data-testid="cell" data-cell="fail">✗ fail</td>')
    expect(fs.readFileSync(path.join(project.dir, 'rig-report/de/index.html'), 'utf8')).toContain('<code>app</code>')

    project.write('test/locale.test.ts', fs.readFileSync(path.join(project.dir, 'test/locale.test.ts'), 'utf8').replace("test('is broken in German', () => { expect(variant()).not.toBe('de') })\n", ''))
    expect((await vitest(project, { env: { RIG_VARIANT: 'de' } })).code).toBe(0)
    fs.rmSync(path.join(project.dir, 'rig-report/en'), { recursive: true })
    const stale = await project.rig(['matrix', '--check'])
    expect(stale.code).toBe(1)
    expect(stale.stderr).toContain('what-is-tested.md is stale: run npx rig matrix and commit it')
    expect(stale.stderr).toContain('  - | is broken in German | test/locale.test.ts | ✅ pass | ❌ fail |')
    const none = await project.rig(['matrix', 'nowhere'])
    expect(none.code).toBe(2)
  }, 400_000)
})
