// The plugin's bad inputs, each in a throw-away project run by a real `vitest run`: no
// rig.config.ts, a service that dies mid-run, Ctrl-C during a run, a file that throws at import.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { envDirs, FIXTURES, leftovers, makeProject, NODE, REPO, type Project } from '../support/project.ts'

const VITEST = path.join(REPO, 'node_modules/vitest/vitest.mjs')
let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

/** A project using the plugin (no shuffle, so "later tests" are later), with `config` as rig.config.ts. */
function pluginProject(config: string | undefined): Project {
  const p = makeProject(config ?? '')
  if (config === undefined) fs.rmSync(path.join(p.dir, 'rig.config.ts'))
  for (const dep of ['vitest', 'pg']) fs.symlinkSync(path.join(REPO, 'node_modules', dep), path.join(p.dir, 'node_modules', dep))
  p.write('vitest.config.ts', "import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'] } })\n")
  return p
}

interface Run {
  code: number | null
  output: string
}

function vitest(p: Project, options: { onOutput?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [VITEST, 'run'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const on = (d: string): void => {
      output += d
      options.onOutput?.(output, child)
    }
    child.stdout.setEncoding('utf8').on('data', on)
    child.stderr.setEncoding('utf8').on('data', on)
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50))
}

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

  test('a service that dies mid-run fails the test that was running with its last log lines, and later tests fast', async () => {
    project = pluginProject(fragileConfig)
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
    const r = await new Promise<{ code: number | null }>((resolve) => {
      const child = spawn(NODE, [VITEST, 'run'], { cwd: project!.dir, env: { ...process.env, RIG_ORDER: 'order.json', RIG_TMP_DIR: path.join(project!.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, stdio: 'ignore' })
      child.on('close', (code) => resolve({ code }))
    })
    expect(r.code).toBe(0)
    expect(JSON.parse(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')).files).toEqual(['test/d.test.ts', 'test/b.test.ts', 'test/c.test.ts', 'test/a.test.ts'])
  })
})
