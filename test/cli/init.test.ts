// `rig init` in throw-away projects: what it reads from package.json, what it writes (and that
// the config it writes starts), and its bad input: no package.json, an existing config, an
// unknown test runner, a link where it would write.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FIXTURES, makeProject, runRig, type Project } from '../support/project.ts'

const dirs: string[] = []
const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) await p.dispose()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

/** A temp dir holding `files` (name → content). */
function tempProject(files: Record<string, string | object>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-init-'))
  dirs.push(dir)
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content))
  return dir
}

/** A project where `testrig` resolves (a link to this repository), with `pkg` as its package.json and no config. */
function linkedProject(pkg: object): Project {
  const p = makeProject('')
  projects.push(p)
  fs.rmSync(path.join(p.dir, 'rig.config.ts'))
  p.write('package.json', JSON.stringify(pkg))
  return p
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8')

describe('rig init', () => {
  it('writes services for the clients package.json names, adds the plugin to vitest.config.ts and rig\'s dirs to .gitignore', async () => {
    const dir = tempProject({
      'package.json': { name: 'shop', type: 'module', dependencies: { pg: '^8', ioredis: '^5', amqplib: '^0.10', mysql2: '^3' }, devDependencies: { vitest: '^4' }, scripts: { start: 'node server.js' } },
      'vitest.config.ts': "import { defineConfig } from 'vitest/config'\n\nexport default defineConfig({\n  test: { include: ['test/**/*.test.ts'] },\n})\n",
      '.gitignore': 'node_modules\n.rig\n',
    })
    const r = await runRig(['init'], dir)
    expect(r.code, r.stderr).toBe(0)
    const config = read(dir, 'rig.config.ts')
    expect(config).toContain("import { defineConfig, postgres, redis, rabbitmq, mariadb, command } from 'testrig'")
    expect(config).toMatch(/\/\/ MariaDB \(you use `mysql2`\)[^\n]*\n.*\n\s+mysql: mariadb\(\{ database: 'app' \}\)/)
    expect(config).toMatch(/\/\/ PostgreSQL \(you use `pg`\)[^\n]*\n.*\n\s+db: postgres\(/)
    expect(config).toMatch(/\/\/ Redis \(you use `ioredis`\)[^\n]*\n\s+cache: redis\(\)/)
    expect(config).toMatch(/\/\/ RabbitMQ \(you use `amqplib`\)[^\n]*\n.*\n\s+broker: rabbitmq\(\)/)
    expect(config).toContain("dependsOn: ['db', 'cache', 'broker', 'mysql']")
    expect(config).toContain("env: ({ db, cache, broker, mysql }) => ({ DATABASE_URL: db.url, REDIS_URL: cache.url, AMQP_URL: broker.url, MYSQL_URL: mysql.url, PORT: '{port}' })")
    expect(read(dir, 'vitest.config.ts')).toBe("import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\n\nexport default defineConfig({\n  plugins: [rig()],\n  test: { include: ['test/**/*.test.ts'] },\n})\n")
    // `.rig` was there already (without the slash): only rig-report/ is added.
    expect(read(dir, '.gitignore')).toBe('node_modules\n.rig\n\n# testrig: state of `rig up`, run reports\nrig-report/\n')
    expect(r.stdout).toContain('✓ wrote rig.config.ts: db (postgres), cache (redis), broker (rabbitmq), mysql (mariadb), app (command)')
    expect(r.stdout).toContain('✓ added rig to vitest.config.ts')
    // ioredis is the app's client; rig's guard talks to Redis through `redis`.
    expect(r.stdout).toContain('npm install --save-dev redis')
    expect(r.stdout).toMatch(/Next:\n {2}npx rig up\s+start the services; Ctrl-C stops them\n {2}npx vitest run\s+run your tests through rig\n$/)
    // Run twice: the config is kept, .gitignore and vitest.config.ts are not touched again.
    const again = await runRig(['init'], dir)
    expect(again.code).toBe(2)
    expect(read(dir, '.gitignore').match(/rig-report/g)).toHaveLength(1)
  })

  it('the config it writes starts: the app gets the database and cache addresses', async () => {
    const p = linkedProject({ name: 'shop', type: 'module', dependencies: { pg: '^8', redis: '^5' }, scripts: { start: `node ${path.join(FIXTURES, 'echo-server.cjs')}` } })
    const init = await p.rig(['init', '--runner', 'vitest'])
    expect(init.code, init.stderr).toBe(0)
    expect(init.stdout).toContain('✓ wrote vitest.config.ts')
    expect(init.stdout).not.toContain('npm install')
    const up = await p.rig(['up', '--detach'])
    expect(up.code, up.stderr).toBe(0)
    const { services } = JSON.parse((await p.rig(['status', '--json'])).stdout) as { services: Record<string, { url: string; status: string }> }
    const url = (name: string): string => services[name]?.url ?? ''
    expect(Object.entries(services).map(([name, s]) => `${name} ${s.status}`).sort()).toEqual(['app ready', 'cache ready', 'db ready'])
    expect(await (await fetch(`${url('app')}/env/DATABASE_URL`)).text()).toBe(url('db'))
    expect(await (await fetch(`${url('app')}/env/REDIS_URL`)).text()).toBe(url('cache'))
  })

  it('Jest and node:test: prints the lines to add; a project without "type": "module" gets rig.config.mts', async () => {
    const p = linkedProject({ name: 'a', devDependencies: { jest: '^30', postgres: '^3' } })
    const jest = p.dir
    const j = await p.rig(['init'])
    expect(j.code, j.stderr).toBe(0)
    // CommonJS (no "type": "module"): the Jest config requires rig's preset.
    expect(j.stdout).toContain("  const { rig } = require('testrig/jest')\n  module.exports = { ...rig.preset() }")
    expect(j.stdout).toContain('  npm install --save-dev jest-environment-node')
    expect(j.stdout).toMatch(/ {2}NODE_OPTIONS=--experimental-vm-modules npx jest\s+run your tests through rig/)
    expect(j.stdout).toContain('npm install --save-dev pg')
    expect(fs.readdirSync(jest).sort()).toEqual(['.gitignore', 'node_modules', 'package.json', 'rig.config.mts'])
    const loads = JSON.parse((await p.rig(['doctor', '--json'])).stdout) as { checks: { what: string; ok: boolean }[] }
    expect(loads.checks.find((c) => c.what === 'config')).toMatchObject({ ok: true })

    const nodeTest = tempProject({ 'package.json': { name: 'b', type: 'module', scripts: { test: 'node --test test/' } } })
    const n = await runRig(['init'], nodeTest)
    expect(n.code).toBe(0)
    expect(n.stdout).toContain("import { rigGlobalSetup } from 'testrig/node-test/global-setup'")
    expect(n.stdout).toContain('--test-global-setup=rig-setup.js')
    expect(n.stdout).toContain("import { rig } from 'testrig/node-test'")
    expect(n.stdout).toMatch(/ {2}npm test\s+run your tests through rig/)
    // Nothing names a database: a PostgreSQL to start from.
    expect(read(nodeTest, 'rig.config.ts')).toContain('db: postgres(')
  })

  it('bad input: no package.json, an existing config, an unknown runner; nothing is written', async () => {
    const empty = tempProject({})
    const none = await runRig(['init'], empty)
    expect(none.code).toBe(2)
    expect(none.stderr).toContain(`no package.json in ${empty}: run rig init in your project's root`)
    expect(fs.readdirSync(empty)).toEqual([])

    const existing = tempProject({ 'package.json': { name: 'c', type: 'module', dependencies: { pg: '^8' } }, 'rig.config.ts': '// mine\n' })
    const kept = await runRig(['init'], existing)
    expect(kept.code).toBe(2)
    expect(kept.stderr).toContain('rig.config.ts already exists: edit it, or run rig init --force to replace it')
    expect(read(existing, 'rig.config.ts')).toBe('// mine\n')
    expect(fs.existsSync(path.join(existing, '.gitignore'))).toBe(false)
    const forced = await runRig(['init', '--force'], existing)
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('✓ replaced rig.config.ts')
    expect(read(existing, 'rig.config.ts')).toContain('db: postgres(')

    const runner = tempProject({ 'package.json': { name: 'd' } })
    const unknown = await runRig(['init', '--runner', 'mocha'], runner)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown test runner "mocha": rig init knows vitest, jest, node-test')
    expect(fs.readdirSync(runner)).toEqual(['package.json'])

    const broken = tempProject({ 'package.json': '{ "name": ' })
    const b = await runRig(['init'], broken)
    expect(b.code).toBe(2)
    expect(b.stderr).toContain('package.json is not valid JSON')
  })

  it('never writes through a link, even with --force', async () => {
    const outside = tempProject({ 'secret.txt': 'keep\n' })
    const dir = tempProject({ 'package.json': { name: 'e', type: 'module' } })
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'rig.config.ts'))
    const r = await runRig(['init', '--force'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('rig.config.ts is a symbolic link')
    expect(read(outside, 'secret.txt')).toBe('keep\n')
  })

  it('is listed in rig --help and has its own --help', async () => {
    const help = await runRig(['--help'], os.tmpdir())
    expect(help.stdout).toMatch(/^ {2}init\s+write a first rig\.config\.ts/m)
    const own = await runRig(['init', '--help'], os.tmpdir())
    expect(own.code).toBe(0)
    expect(own.stdout).toContain('--runner NAME')
    expect(own.stdout).toContain('--force')
    expect(own.stdout).toContain('never replaced without --force')
  })
})
