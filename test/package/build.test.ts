// The published build, checked offline by npm test: compiled into a temp dir by the same script
// that builds the package; every entry of its manifest present as JavaScript with types; no
// tests and no TypeScript sources shipped; the files rig runs by path (Vitest's setup, Jest's
// environment, setup, sequencer and reporter, Playwright's global setup and reporter, the sentry and log sink servers, the watchdog, the PGlite server, the supervisor) present as JavaScript, RabbitMQ's agent as
// Erlang; README and docs links inside the package; the CLI working from the build through a
// whole up/status/down; Vitest's setup file bundled into one module that shares the helpers' state
// with `testrig/vitest` in a real run of the installed build; an unsupported Node told in one line. The consumer tests (test/package/consumer.test.ts) install
// the packed tarball from a registry-like install instead.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunReport } from '../../src/report/model.ts'
import { leftovers, NODE, REPO, runRig } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { VITEST } from '../support/vitest-project.ts'
import { markdownLinks, oldNode, walk } from './package-files.ts'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-build-'))
const OUT = path.join(scratch, 'testrig')
fs.chmodSync(scratch, 0o755)
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

type Manifest = { bin: Record<string, string>; exports: Record<string, string | { types: string; default: string }>; engines: { node: string } } & Record<string, unknown>
let manifest: Manifest

beforeAll(() => {
  const r = spawnSync(NODE, [path.join(REPO, 'scripts/build.ts'), '--out', OUT], { encoding: 'utf8' })
  expect(r.status, r.stdout + r.stderr).toBe(0)
  manifest = JSON.parse(fs.readFileSync(path.join(OUT, 'package.json'), 'utf8')) as Manifest
}, 180_000)

describe('the build', () => {
  it('maps every entry of the repository manifest to types and JavaScript that exist, bin to JavaScript', () => {
    const source = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Manifest
    expect(Object.keys(manifest.exports)).toEqual(Object.keys(source.exports))
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (entry === './package.json') continue
      expect(target, entry).toEqual({ types: expect.stringMatching(/\.d\.ts$/), default: expect.stringMatching(/\.js$/) })
      if (typeof target === 'string') continue
      for (const f of [target.types, target.default]) expect(fs.existsSync(path.join(OUT, f)), `${entry}: ${f}`).toBe(true)
    }
    expect(manifest.bin).toEqual({ rig: './bin/rig.js' })
    expect(fs.readFileSync(path.join(OUT, 'bin/rig.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
    expect(manifest.engines).toEqual(source.engines)
    for (const key of ['scripts', 'devDependencies', 'private']) expect(manifest, key).not.toHaveProperty(key)
  })

  it('ships JavaScript, declarations, README, LICENSE and docs; no tests, no TypeScript sources', () => {
    const files = walk(OUT)
    expect(files.filter((f) => /\.test\.|\.test-d\./.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([])
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'docs/guard.md', 'src/index.js', 'src/index.d.ts']))
    expect(fs.readFileSync(path.join(OUT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} testrig contributors\n/)
  })

  it('has every file the code runs by path, as JavaScript', () => {
    const calls: string[] = []
    for (const file of walk(path.join(REPO, 'src')).filter((f) => f.endsWith('.ts') && f !== 'module-file.ts')) {
      for (const m of fs.readFileSync(path.join(REPO, 'src', file), 'utf8').matchAll(/moduleFile\(import\.meta\.url, '([^']+)'\)/g)) {
        calls.push(path.join('src', path.dirname(file), m[1]!.replace(/\.ts$/, '.js')))
      }
    }
    expect(calls.map((c) => path.normalize(c)).sort()).toEqual(['bin/rig.js', 'src/env/watchdog-main.js', 'src/jest/environment.js', 'src/jest/global-setup.js', 'src/jest/global-teardown.js', 'src/jest/reporter.js', 'src/jest/sequencer.js', 'src/playwright/global-setup.js', 'src/playwright/reporter.js', 'src/providers/embedded/pglite-server.js', 'src/services/log-sink/server.js', 'src/services/rabbitmq/rig_agent.erl', 'src/services/sentry/server.js', 'src/vitest/setup.js'])
    for (const c of calls) expect(fs.existsSync(path.join(OUT, c)), c).toBe(true)
  })

  it('links from the README and docs to files inside the package', () => {
    for (const doc of ['README.md', ...walk(path.join(OUT, 'docs')).map((f) => `docs/${f}`)]) {
      for (const link of markdownLinks(fs.readFileSync(path.join(OUT, doc), 'utf8'))) {
        expect(fs.existsSync(path.join(OUT, path.dirname(doc), link)), `${doc} → ${link}`).toBe(true)
      }
    }
  })

  it('runs the CLI from the build: help, version, and a whole up, status, down (supervisor and watchdog run by path)', async () => {
    const project = path.join(scratch, 'project')
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true })
    fs.chmodSync(project, 0o755)
    fs.symlinkSync(OUT, path.join(project, 'node_modules/testrig'))
    fs.symlinkSync(path.join(REPO, 'node_modules/pg'), path.join(project, 'node_modules/pg'))
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'p', type: 'module' }))
    fs.writeFileSync(path.join(project, 'rig.config.ts'), "import { defineConfig, postgres, redis } from 'testrig'\nexport default defineConfig({ services: { db: postgres(), cache: redis() } })\n")
    const bin = path.join(OUT, 'bin/rig.js')
    const env = { RIG_TMP_DIR: path.join(project, 'tmp') }
    const rig = (args: string[]) => runRig(args, project, { bin, env })
    const help = await rig(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^ {2}init\s/m)
    expect((await rig(['--version'])).stdout.trim()).toBe(manifest.version)
    const up = await rig(['up', '--detach'])
    expect(up.code, up.stderr).toBe(0)
    const status = JSON.parse((await rig(['status', '--json'])).stdout) as { services: Record<string, { status: string }> }
    expect(Object.values(status.services).map((s) => s.status)).toEqual(['ready', 'ready'])
    expect((await rig(['down'])).code).toBe(0)
    expect(await waitUntil(() => leftovers(project).length === 0), leftovers(project).join('\n')).toBe(true)
  })

  it("bundles Vitest's setup file into one module, which imports only packages, the error classes and what it loads on first use", () => {
    expect(fs.readFileSync(path.join(OUT, 'src/vitest/setup.js'), 'utf8')).toMatch(/^(\/\/.*\n)*import \{ setupFile \} from '\.\/setup-bundle\.js'\n\nsetupFile\(\)\n$/)
    const bundle = fs.readFileSync(path.join(OUT, 'src/vitest/setup-bundle.js'), 'utf8')
    const relative = [...bundle.matchAll(/(?:from|import\()\s*"(\.[^"]+)"/g)].map((m) => path.join('src/vitest', m[1]!))
    expect(relative.filter((f) => !/^src\/(errors|guard\/errors)\.js$/.test(f) && !bundle.includes(`await import("${path.relative('src/vitest', f)}")`))).toEqual([])
    for (const f of relative) expect(fs.existsSync(path.join(OUT, f)), f).toBe(true)
    // The session and the helpers are in it, not imported.
    expect(bundle).toContain('function openTestSession(')
    expect(bundle).toContain('function remoteGuardSession(')
  })

  // isolate: false: one worker runs both files, and Node loads the bundle once: the hooks must
  // still be registered for the second file (its leaks reported).
  it.each([true, false])('runs a Vitest suite with the build installed (isolate: %s): rig.allowLeak() from testrig/vitest is what the bundled setup reads, every file checked', async (isolate) => {
    const project = path.join(scratch, `vitest-project-${isolate}`)
    fs.mkdirSync(path.join(project, 'node_modules'), { recursive: true })
    fs.chmodSync(project, 0o755)
    // A copy, as npm installs it: in node_modules, Vitest hands the package to Node.
    fs.cpSync(OUT, path.join(project, 'node_modules/testrig'), { recursive: true })
    for (const dep of ['vitest', 'pg']) fs.symlinkSync(path.join(REPO, 'node_modules', dep), path.join(project, 'node_modules', dep))
    const write = (file: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true })
      fs.writeFileSync(path.join(project, file), text)
    }
    write('package.json', JSON.stringify({ name: 'p', type: 'module' }))
    write('rig.config.ts', "import { defineConfig, postgres, command } from 'testrig'\nexport default defineConfig({ services: { db: postgres(), migrate: command({ run: 'node migrate.mjs', oneShot: true, dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url }) }) } })\n")
    write('migrate.mjs', "import pg from 'pg'\nconst c = new pg.Client({ connectionString: process.env.DATABASE_URL })\nawait c.connect()\nawait c.query('create table items (id serial primary key, name text not null)')\nawait c.end()\n")
    write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig({ order: { shuffle: false } })], test: { include: ['test/**/*.test.ts'], fileParallelism: false, isolate: ${isolate} } })\n`)
    const suite = (n: number): string => `import { afterAll, beforeAll, test } from 'vitest'
import pg from 'pg'
import { rig } from 'testrig/vitest'
let db: pg.Client
beforeAll(async () => {
  db = new pg.Client({ connectionString: rig.services().db!.url })
  await db.connect()
})
afterAll(() => db.end())
test('allowed to leave a row ${n}', async () => {
  rig.allowLeak()
  await db.query("insert into items (name) values ('kept')")
})
test('leaves a row ${n}', async () => {
  await db.query("insert into items (name) values ('forgotten')")
})
`
    write('test/a.test.ts', suite(1))
    write('test/b.test.ts', suite(2))
    const r = spawnSync(NODE, [VITEST, 'run'], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(project, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined }, timeout: 120_000 })
    const output = r.stdout + r.stderr
    expect(r.status, output).toBe(1)
    const report = JSON.parse(fs.readFileSync(path.join(project, 'rig-report/report.json'), 'utf8')) as RunReport
    const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
    for (const n of [1, 2]) {
      expect(byName[`allowed to leave a row ${n}`]).toMatchObject({ status: 'passed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
      expect(byName[`leaves a row ${n}`]).toMatchObject({ status: 'failed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
    }
    expect(await waitUntil(() => leftovers(project).length === 0), leftovers(project).join('\n')).toBe(true)
  }, 150_000)

  it.skipIf(!oldNode)(`an unsupported Node (${oldNode?.version}) gets one line naming the version needed and the one found, exit code 2`, () => {
    const r = spawnSync(oldNode!.path, [path.join(OUT, 'bin/rig.js'), 'up'], { encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`rig needs Node.js 22.18 or newer (found ${oldNode!.version}): install a current Node.js, or run rig through the \`node\` package (npm install --save-dev node@24)\n`)
  })
})
