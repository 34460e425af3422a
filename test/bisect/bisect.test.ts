// `rig bisect` on real suites run by a real `vitest run`: a car-sharing app whose in-memory
// cache outlives the guard's restore (the polluter the guard saw leave a row), files two tests
// leave behind, two tests that break a third only together, and the bad inputs.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { FIXTURES, NODE, REPO, leftovers, type Project } from '../support/project.ts'
import { ECHO_CONFIG, pluginProject, until, vitest } from '../support/vitest-project.ts'

let project: Project | undefined

afterEach(async () => {
  await project?.dispose()
  project = undefined
})


const read = (p: Project, file = 'rig-report/report.json'): { tests: { name: string; status: string }[] } => JSON.parse(fs.readFileSync(path.join(p.dir, file), 'utf8'))

/** Runs the replay command rig printed, with this repository's Node and Vitest in place of npx. */
function runReplay(p: Project, line: string): { code: number; output: string } {
  const command = line.replace(/^replay: /, '').replace('npx vitest run', `${NODE} ${path.join(REPO, 'node_modules/vitest/vitest.mjs')} run`)
  try {
    return { code: 0, output: execFileSync('sh', ['-c', command], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, encoding: 'utf8', stdio: 'pipe' }) }
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string }
    return { code: e.status, output: e.stdout + e.stderr }
  }
}

/** A test that leaves `file` behind in the project (where no guard looks). */
const writes = (name: string, file: string): string => `test(${JSON.stringify(name)}, () => { fs.mkdirSync(path.dirname(${JSON.stringify(file)}), { recursive: true }); fs.writeFileSync(${JSON.stringify(file)}, 'x') })\n`
const header = "import { test, expect } from 'vitest'\nimport fs from 'node:fs'\nimport path from 'node:path'\n"

describe('rig bisect', () => {
  test('finds the test whose data an app cached, although the guard restored the database; the replay command fails the same way', async () => {
    project = pluginProject(
      `import { defineConfig, postgres, command, http } from 'testrig'
export default defineConfig({ services: {
  db: postgres(),
  app: command({ run: [process.execPath, ${JSON.stringify(path.join(FIXTURES, 'car-app.cjs'))}], dependsOn: ['db'], env: { PORT: '{port}', DATABASE_URL: '{db.url}' }, ready: http('/health') }),
} })
`,
      "{ guard: { mode: 'warn' }, order: { shuffle: false } }",
    )
    const api = "import { test, expect } from 'vitest'\nimport { services } from 'testrig/vitest'\nconst app = () => services().app.url\n"
    project.write('test/a-signup.test.ts', `${api}test('signs up', () => {})\ntest('signs in', async () => { expect((await fetch(app() + '/health')).ok).toBe(true) })\n`)
    project.write('test/b-cars.test.ts', `${api}test('registers a car', async () => { expect((await fetch(app() + '/cars?plate=B-RIG-1', { method: 'POST' })).ok).toBe(true) })\ntest('refuses an empty plate', () => {})\n`)
    project.write('test/c-rentals.test.ts', `${api}test('rents nothing yet', () => {})\n`)
    project.write('test/d-fleet.test.ts', `${api}test('lists an empty fleet', async () => { expect(await (await fetch(app() + '/cars')).json()).toEqual([]) })\n`)
    const run = await vitest(project)
    expect(run.code).toBe(1)
    const before = fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')
    expect(read(project).tests.find((t) => t.name === 'lists an empty fleet')?.status).toBe('failed')

    const r = await project.rig(['bisect'], { timeoutMs: 300_000 })
    expect(r.stderr).toMatch(/"lists an empty fleet" \(test\/d-fleet\.test\.ts\) failed after 5 tests .*the guard saw 1 of them leave data/)
    expect(r.stderr).toMatch(/run +1 +alone +passed/)
    expect(r.stderr).toMatch(/run +2 +after all 5 tests \(recorded order\) +failed/)
    expect(r.stdout).toContain('polluted by "registers a car" (test/b-cars.test.ts) — it left public.cars +1 row')
    expect(r.code).toBe(0)
    // The guess was right: it, then the other four without it.
    expect(r.stderr).toContain('(4 runs)')
    // The user's report is left as it was; the replays wrote theirs elsewhere.
    expect(fs.readFileSync(path.join(project.dir, 'rig-report/report.json'), 'utf8')).toBe(before)
    const line = r.stdout.split('\n').find((l) => l.startsWith('replay: '))
    expect(line).toMatch(/^replay: RIG_SEED=\d+ RIG_TESTS=rig-report\/bisect-replay\.json npx vitest run test\/b-cars\.test\.ts test\/d-fleet\.test\.ts$/)
    const replay = runReplay(project, line as string)
    expect(replay.code).toBe(1)
    // The polluter ran first and passed (Vitest lists a passing test by name only when it is slow, so its file and the guard's warning say so).
    expect(replay.output).toMatch(/✓ test\/b-cars\.test\.ts/)
    expect(replay.output).toMatch(/Data left behind by "registers a car"/)
    expect(replay.output).toMatch(/× lists an empty fleet/)
    expect(replay.output).not.toMatch(/refuses an empty plate|signs in/)
    await until(() => leftovers(project!.dir).length === 0)
    expect(leftovers(project.dir)).toEqual([])
  }, 600_000)

  /** A project whose runs start by emptying uploads/ and flags/, like many suites' global setup. */
  const emptiedAtStart = (): Project => {
    const p = pluginProject(ECHO_CONFIG)
    // Each run starts by emptying the directories the tests write to: what one test leaves
    // there stays for the rest of that run only.
    p.write('test/global-setup.ts', "import fs from 'node:fs'\nexport default () => { for (const d of ['uploads', 'flags']) fs.rmSync(d, { recursive: true, force: true }) }\n")
    p.write('vitest.config.ts', "import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] } })\n")
    return p
  }

  test('two polluters that each leave a file behind are both found', async () => {
    project = emptiedAtStart()
    project.write('test/a.test.ts', `${header}test('shows the profile', () => {})\n${writes('uploads an avatar', 'uploads/avatar.png')}`)
    project.write('test/b.test.ts', `${header}${writes('uploads an invoice', 'uploads/invoice.pdf')}test('lists invoices', () => {})\n`)
    project.write('test/c.test.ts', `${header}test('starts with no uploads', () => { expect(fs.existsSync('uploads') ? fs.readdirSync('uploads') : []).toEqual([]) })\n`)
    expect((await vitest(project)).code).toBe(1)
    const r = await project.rig(['bisect', '--test', 'starts with no uploads'], { timeoutMs: 600_000 })
    expect(r.stdout).toContain('polluted by "uploads an avatar" (test/a.test.ts)\n')
    expect(r.stdout).toContain('polluted by "uploads an invoice" (test/b.test.ts)\n')
    expect(r.code).toBe(0)
  }, 600_000)

  test('two tests that break a third only together are found as one set', async () => {
    project = emptiedAtStart()
    project.write('test/a.test.ts', `${header}${writes('turns the feature flag on', 'flags/beta')}test('shows the profile', () => {})\n`)
    project.write('test/b.test.ts', `${header}test('lists invoices', () => {})\n${writes('enrols the user in beta', 'flags/enrolled')}`)
    project.write('test/c.test.ts', `${header}test('shows the stable checkout', () => { expect(fs.existsSync('flags/beta') && fs.existsSync('flags/enrolled')).toBe(false) })\n`)
    expect((await vitest(project)).code).toBe(1)
    const r = await project.rig(['bisect', '--json'], { timeoutMs: 600_000 })
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as { polluters: { name: string }[][]; replay: string }
    expect(result.polluters.map((set) => set.map((t) => t.name))).toEqual([['turns the feature flag on', 'enrols the user in beta']])
    expect(result.replay).toMatch(/npx vitest run test\/a\.test\.ts test\/b\.test\.ts test\/c\.test\.ts$/)
  }, 600_000)

  test('bad input: no report, a report without the test, a test that fails alone, a failure that does not come back, a flaky test', async () => {
    project = pluginProject(ECHO_CONFIG)
    let r = await project.rig(['bisect'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cannot read .*rig-report\/report\.json \(ENOENT\): run the suite first \(npx vitest run\) or let rig bisect run it \(rig bisect --run\)/)

    project.write('test/a.test.ts', `${header}test('counts', () => { const n = Number(fs.existsSync('count') ? fs.readFileSync('count', 'utf8') : 0) + 1; fs.writeFileSync('count', String(n)); expect(n % 3).not.toBe(0) })\n`)
    project.write('test/b.test.ts', `${header}test('is broken', () => { expect(1).toBe(2) })\ntest('needs the outside', () => { expect(fs.existsSync('outside')).toBe(false) })\n`)
    fs.writeFileSync(path.join(project.dir, 'outside'), '')
    expect((await vitest(project)).code).toBe(1)
    r = await project.rig(['bisect', '--test', 'registers a car'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/rig-report\/report\.json has no test named "registers a car"; the tests that failed in it:\n {2}test\/b\.test\.ts > is broken\n {2}test\/b\.test\.ts > needs the outside/)

    r = await project.rig(['bisect', '--test', 'is broken'], { timeoutMs: 120_000 })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^"is broken" \(test\/b\.test\.ts\) fails on its own: no test before it is to blame\. Replay it: RIG_SEED=\d+ RIG_TESTS=rig-report\/bisect-replay\.json npx vitest run test\/b\.test\.ts/)
    expect(r.stderr).toMatch(/run +1 +alone +failed/)
    expect(r.stderr).not.toMatch(/run +2/)

    fs.rmSync(path.join(project.dir, 'outside'))
    r = await project.rig(['bisect', '--test', 'needs the outside'], { timeoutMs: 120_000 })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/passed after the tests that ran before it, in the recorded order: the failure does not come from them/)

    // A test failing one time in three: its third run failed; the next two pass.
    fs.writeFileSync(path.join(project.dir, 'count'), '2')
    const flaky = await vitest(project)
    expect(flaky.output).toMatch(/× counts/)
    r = await project.rig(['bisect', '--test', 'counts'], { timeoutMs: 120_000 })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/"counts" \(test\/a\.test\.ts\) passed after the tests that ran before it.*or be flaky: try rig bisect --runs 3/)
    r = await project.rig(['bisect', '--test', 'counts', '--runs', '3'], { timeoutMs: 120_000 })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/"counts" \(test\/a\.test\.ts\) fails on its own \(in 1 of 3 runs: it is flaky\)/)
    r = await project.rig(['bisect', '--runs', 'many'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--runs many: give a whole number of replays per probe from 1 to 20/)
  }, 600_000)
})
