// `rig bisect` when there is no report to start from (--run runs the suite itself), and on
// reports it cannot bisect: nothing failed in it, not a rig report, the failing test gone from
// the suite since it was written.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { leftovers, type Project } from '../support/project.ts'
import { ECHO_CONFIG, pluginProject, until, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})

const header = "import { test, expect } from 'vitest'\nimport fs from 'node:fs'\nimport { services } from 'testrig/vitest'\n"

/** A project whose runs start by emptying uploads/, as many suites' global setup does. */
function uploadsProject(): Project {
  const p = pluginProject(ECHO_CONFIG)
  p.write('test/global-setup.ts', "import fs from 'node:fs'\nexport default () => { fs.rmSync('uploads', { recursive: true, force: true }) }\n")
  p.write('vitest.config.ts', "import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] } })\n")
  p.write('test/a.test.ts', `${header}test('shows the profile', async () => { expect((await fetch(services().app.url + '/health')).ok).toBe(true) })\ntest('uploads an avatar', () => { fs.mkdirSync('uploads', { recursive: true }); fs.writeFileSync('uploads/avatar.png', 'x') })\n`)
  p.write('test/b.test.ts', `${header}test('starts with no uploads', () => { expect(fs.existsSync('uploads') ? fs.readdirSync('uploads') : []).toEqual([]) })\n`)
  return p
}

describe('rig bisect: where it starts from', () => {
  test('--run: no report yet; it runs the suite, takes its first failure and finds the polluter', async () => {
    project = uploadsProject()
    expect(fs.existsSync(path.join(project.dir, 'rig-report'))).toBe(false)
    const r = await project.rig(['bisect', '--run'], { timeoutMs: 600_000 })
    expect(r.stderr).toContain('rig bisect: running the suite to find an order-dependent failure…')
    expect(r.stderr).toMatch(/"starts with no uploads" \(test\/b\.test\.ts\) failed after 2 tests/)
    expect(r.stdout).toContain('polluted by "uploads an avatar" (test/a.test.ts)\n')
    expect(r.code).toBe(0)
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 600_000)

  test('bad input: a report in which nothing failed, a file that is not a rig report, a failing test gone from the suite since the report', async () => {
    project = uploadsProject()
    const report = path.join(project.dir, 'rig-report/report.json')
    fs.mkdirSync(path.dirname(report), { recursive: true })
    fs.writeFileSync(report, JSON.stringify({ version: 1, seed: 7, files: ['test/a.test.ts'], tests: [{ id: 'test/a.test.ts > shows the profile', file: 'test/a.test.ts', name: 'shows the profile', status: 'passed', durationMs: 3, errors: [], leaks: [], logErrors: [] }] }))
    let r = await project.rig(['bisect'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('no test failed in rig-report/report.json: nothing to bisect (name one with --test NAME)')

    fs.writeFileSync(path.join(project.dir, 'other.json'), '{"stats": {}}')
    r = await project.rig(['bisect', '--report', 'other.json'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/other\.json is not a rig report \(no "tests" and "seed"\)/)

    expect((await vitest(project)).code).toBe(1)
    // The failing test is renamed after the run: the report names a test the suite no longer has.
    project.write('test/b.test.ts', fs.readFileSync(path.join(project.dir, 'test/b.test.ts'), 'utf8').replace('starts with no uploads', 'starts empty'))
    r = await project.rig(['bisect'], { timeoutMs: 300_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('"starts with no uploads" (test/b.test.ts) did not run in the replay: was it renamed or removed since the report was written? Run the suite again and bisect its new report')
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 600_000)
})
