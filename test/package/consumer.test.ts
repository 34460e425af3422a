// testrig as a user gets it: built, packed, and installed from the tarball (with its peers from
// the registry) into fresh projects outside this repository. Per test runner, `npx rig init`
// writes the config, then a suite of three tests runs: rig must fail the one that leaves a row
// behind and the one during which the app logs an error, and write the report. Then the CLI
// from node_modules/.bin, and a strict tsc over every public entry. Needs the npm registry, so
// it runs when RIG_CONSUMER_TESTS=1 (.ci/run sets it); npm test alone skips it.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { RunReport } from '../../src/report/model.ts'
import { leftovers } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'
import { createConsumer, locked, packed, scratchDir, type Consumer, type Ran } from './consumer-project.ts'
import { consumerFile, RUNNERS } from './consumer-runners.ts'
import { oldNode } from './package-files.ts'

const enabled = process.env.RIG_CONSUMER_TESTS === '1'
// npm installs on a loaded 2-core machine; PostgreSQL's init cache may be cold.
const INSTALL_MS = 600_000
const RUN_MS = 300_000

const projects: Consumer[] = []
afterAll(async () => {
  for (const p of projects) await p.run('npx', ['rig', 'down'], { timeoutMs: 60_000 })
  if (enabled) fs.rmSync(scratchDir(), { recursive: true, force: true })
  // One `npx rig down` per project (four of them) on a loaded machine.
}, 300_000)

async function consumer(name: string, pkg: Record<string, unknown>, packages: string[]): Promise<Consumer> {
  const p = await createConsumer(name, pkg, packages)
  projects.push(p)
  return p
}

describe.skipIf(!enabled)('testrig installed from its tarball', () => {
  beforeAll(() => void packed(), INSTALL_MS)

  describe.each(RUNNERS)('a $name project', (runner) => {
    let p: Consumer
    let init: Ran
    beforeAll(async () => {
      p = await consumer(`shop-${runner.name}`, { scripts: { start: 'node app.mjs', ...runner.scripts }, dependencies: {} }, [locked('pg'), locked('redis'), ...runner.packages])
      p.write('app.mjs', consumerFile('app.mjs'))
      init = await p.run('npx', ['rig', 'init'])
    }, INSTALL_MS)

    test('rig init writes the config from package.json and joins the runner', () => {
      expect(init.code, init.stdout + init.stderr).toBe(0)
      expect(init.stdout).toContain('✓ wrote rig.config.ts: db (postgres), cache (redis), app (command)')
      expect(init.stdout).toContain('.gitignore: added .rig/ and rig-report/')
    })

    test('the suite: the leak and the logged error fail their tests; the report is written', async () => {
      runner.setup(p)
      const r = await p.run(runner.command[0], runner.command.slice(1), { timeoutMs: RUN_MS })
      const output = r.stdout + r.stderr
      expect(r.code, output).toBe(1)
      expect(output).toContain('Data left behind by "leaks a row"')
      expect(output).toContain('public.items +1 row')
      expect(output).toContain('ERROR payment provider refused the card')
      const report = JSON.parse(fs.readFileSync(path.join(p.dir, 'rig-report/report.json'), 'utf8')) as RunReport
      const byName = Object.fromEntries(report.tests.map((t) => [t.name, t]))
      expect(byName['lists the items']).toMatchObject({ status: 'passed', leaks: [], logErrors: [] })
      expect(byName['leaks a row']).toMatchObject({ status: 'failed', leaks: [{ store: 'postgres db', items: ['public.items +1 row'] }] })
      expect(byName['logs an error']).toMatchObject({ status: 'failed', leaks: [], logErrors: [expect.objectContaining({ service: 'app', expected: false, line: expect.stringContaining('ERROR payment provider refused the card') })] })
      expect(report.summary).toMatchObject({ passed: 1, failed: 2, leaks: 1, logErrors: 1 })
      expect(fs.readFileSync(path.join(p.dir, 'rig-report/index.html'), 'utf8')).toContain('leaks a row')
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    }, RUN_MS + 30_000)
  })

  describe('the installed CLI and types', () => {
    let p: Consumer
    beforeAll(async () => {
      // Every public entry's types, with the peer each one is for (testrig/playwright's types name @playwright/test's).
      p = await consumer('cli', {}, [locked('pg'), locked('redis'), locked('vitest'), locked('@playwright/test'), locked('typescript'), locked('@types/node')])
      p.write('rig.config.ts', "import { defineConfig, postgres, redis } from 'testrig'\n\nexport default defineConfig({ services: { db: postgres(), cache: redis() } })\n")
    }, INSTALL_MS)

    test('npx rig: --help, --version, doctor, up --detach, status, down; nothing left running', async () => {
      const help = await p.run('npx', ['rig', '--help'])
      expect(help.code, help.stderr).toBe(0)
      expect(help.stdout).toMatch(/^ {2}init\s/m)
      const { version } = JSON.parse(fs.readFileSync(path.join(p.dir, 'node_modules/testrig/package.json'), 'utf8')) as { version: string }
      expect((await p.run('npx', ['rig', '--version'])).stdout.trim()).toBe(version)
      const doctor = await p.run('npx', ['rig', 'doctor'])
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0)
      expect(doctor.stdout).toMatch(/✓\s+driver pg\s+installed/)
      const up = await p.run('npx', ['rig', 'up', '--detach'], { timeoutMs: RUN_MS })
      expect(up.code, up.stdout + up.stderr).toBe(0)
      const status = await p.run('npx', ['rig', 'status', '--json'])
      expect(Object.values((JSON.parse(status.stdout) as { services: Record<string, { status: string }> }).services).map((s) => s.status)).toEqual(['ready', 'ready'])
      expect((await p.run('npx', ['rig', 'down'])).code).toBe(0)
      expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    }, RUN_MS)

    test.skipIf(!oldNode)('an unsupported Node running the installed rig gets one line, exit code 2', async () => {
      const r = await p.run(oldNode!.path, [path.join(p.dir, 'node_modules/.bin/rig'), '--help'])
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(new RegExp(`^rig needs Node\\.js 22\\.18 or newer \\(found ${oldNode!.version.replaceAll('.', '\\.')}\\): [^\\n]+\\n$`))
    })

    test('a plain strict tsc config type-checks every public entry', async () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(p.dir, 'node_modules/testrig/package.json'), 'utf8')) as { exports: Record<string, unknown> }
      const entries = Object.keys(manifest.exports).filter((e) => e !== './package.json').map((e) => `testrig${e.slice(1)}`)
      expect(entries).toEqual(expect.arrayContaining(['testrig', 'testrig/vitest', 'testrig/checks', 'testrig/checks/vitest']))
      p.write(
        'entries.ts',
        entries.map((e, i) => `import * as entry${i} from '${e}'\n`).join('') +
          `export const all = [${entries.map((_, i) => `entry${i}`).join(', ')}]\n` +
          "import { defineConfig, postgres, command, http } from 'testrig'\nimport { rig } from 'testrig/vitest'\n" +
          "export const config = defineConfig({ services: { db: postgres({ database: 'app' }), api: command({ run: 'node api.js', dependsOn: ['db'], env: ({ db }) => ({ DATABASE_URL: db!.url }), ready: http('/health') }) } })\n" +
          'export const plugin = rig({ isolation: \'database\' })\n',
      )
      p.write('tsconfig.json', JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] }, include: ['*.ts'] }))
      const tsc = await p.run('npx', ['tsc', '-p', 'tsconfig.json'], { timeoutMs: RUN_MS })
      expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0)
    }, RUN_MS)
  })
})
