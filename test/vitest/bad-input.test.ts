// The plugin's bad inputs, each in a throw-away project run by a real `vitest run`: no
// rig.config.ts, a service that dies mid-run, Ctrl-C during a run, a file that throws at import.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, FIXTURES, leftovers, type Project } from '../support/project.ts'
import { pluginProject, until, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const report = (p: Project): { tests: { name: string; status: string; errors: string[] }[] } => JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8'))

const fragileConfig = `import { defineConfig, command, http } from 'testrig'
export default defineConfig({ services: { app: command({ run: ['${process.execPath}', '${path.join(FIXTURES, 'fragile-server.cjs')}'], env: { PORT: '{port}' }, ready: http('/health') }) } })
`

describe('vitest plugin: bad input', () => {
  test('no rig.config.ts: a clear error and a non-zero exit', async () => {
    project = pluginProject(undefined)
    project.write('test/a.test.ts', "import { test } from 'vitest'\ntest('x', () => {})\n")
    const r = await vitest(project)
    expect(r.code).not.toBe(0)
    expect(r.output).toMatch(/no rig\.config\.ts found/)
  })

  // With a guarded store, the guard host's check request also confirms the death (one request after each test).
  test.each([
    ['no store', fragileConfig],
    ['a guarded store', fragileConfig.replace("import { defineConfig, command, http } from 'testrig'", "import { defineConfig, command, http, redis } from 'testrig'").replace('services: { app:', 'services: { cache: redis(), app:')],
  ])('a service that dies mid-run fails the test that was running with its last log lines, and later tests fast (%s)', async (_, config) => {
    project = pluginProject(config)
    project.write(
      'test/a.test.ts',
      `import { test } from 'vitest'
import { services } from 'testrig/vitest'
test('kills the app', async () => { await fetch(services().app.url + '/die') ; await new Promise((r) => setTimeout(r, 300)) })
test('runs after it', async () => { await fetch(services().app.url + '/health') })
`,
    )
    const r = await vitest(project)
    expect(r.code).toBe(1)
    const tests = report(project).tests
    const killer = tests.find((t) => t.name === 'kills the app')
    const after = tests.find((t) => t.name === 'runs after it')
    expect(killer?.status).toBe('failed')
    expect(killer?.errors.join('\n')).toMatch(/service "app" died during this test/)
    expect(killer?.errors.join('\n')).toMatch(/fatal: dying on request/)
    expect(after?.status).toBe('failed')
    expect(after?.errors.join('\n')).toMatch(/service "app" is down: it died during "kills the app"/)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })

  test('Ctrl-C during a run: nothing left running, the report still written', async () => {
    project = pluginProject(fragileConfig)
    project.write('test/a.test.ts', "import { test } from 'vitest'\nimport { services } from 'testrig/vitest'\ntest('waits', async () => { console.log('TEST-STARTED'); await fetch(services().app.url + '/slow') }, 60_000)\n")
    let sent = false
    const r = await vitest(project, {
      onOutput: (text, child) => {
        if (!sent && text.includes('TEST-STARTED')) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(r.code).not.toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')).interrupted).toBe(true)
    // Vitest exits at once; the watchdog reaps the services right after.
    await until(() => leftovers(project!.dir).length === 0 && envDirs(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
    expect(envDirs(project.dir)).toEqual([])
  })

  test('a test file that throws at import fails as a file; the other files still run', async () => {
    project = pluginProject(fragileConfig)
    project.write('test/a.test.ts', "throw new Error('broken at import')\n")
    project.write('test/b.test.ts', "import { test } from 'vitest'\ntest('still runs', () => {})\n")
    const r = await vitest(project)
    expect(r.code).toBe(1)
    const tests = report(project).tests
    expect(tests.find((t) => t.name === 'still runs')?.status).toBe('passed')
    const broken = tests.find((t) => t.name === '(file)')
    expect(broken?.status).toBe('failed')
    expect(broken?.errors.join('\n')).toMatch(/broken at import/)
    expect(leftovers(project.dir)).toEqual([])
  })
})

describe('vitest plugin: order', () => {
  test('RIG_ORDER replays the file order of an earlier run', async () => {
    project = pluginProject(fragileConfig)
    for (const n of ['a', 'b', 'c', 'd']) project.write(`test/${n}.test.ts`, `import { test } from 'vitest'\ntest('${n}', () => {})\n`)
    project.write('order.json', JSON.stringify(['test/d.test.ts', 'test/b.test.ts', 'test/c.test.ts', 'test/a.test.ts']))
    const r = await vitest(project, { env: { RIG_ORDER: 'order.json' } })
    expect(r.code).toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')).files).toEqual(['test/d.test.ts', 'test/b.test.ts', 'test/c.test.ts', 'test/a.test.ts'])
  })
})
