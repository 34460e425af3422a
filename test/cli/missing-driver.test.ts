// A driver package a service needs (`pg` for postgres(), `redis` for redis()) that the project
// did not install: `rig up` fails at once naming it, `rig doctor` exits 1 saying what to install.
// The projects hold a copy of testrig with no node_modules, so only their own packages count.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { envDirs, leftovers, makeProject, REPO, type Project } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) await p.dispose()
})

// A readiness deadline no test waits for: if the probe were retried, the test would time out.
const POSTGRES = `import { defineConfig, postgres } from 'testrig'
export default defineConfig({ services: { db: postgres({ readyTimeout: 600_000 }) } })
`

function project(config: string): Project {
  const p = makeProject(config, { isolated: true })
  projects.push(p)
  return p
}

/** Installs one of this repository's packages into the project (a link, as npm would place it). */
function install(p: Project, pkg: string): void {
  fs.symlinkSync(path.join(REPO, 'node_modules', pkg), path.join(p.dir, 'node_modules', pkg))
}

describe('a missing driver package', () => {
  it('rig up and rig run fail at once naming the package; nothing is left running', async () => {
    const p = project(POSTGRES)
    for (const args of [['up'], ['up', '--detach'], ['run', '--', 'true']]) {
      const r = await p.rig(args)
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2)
      expect(r.stderr).toContain('service "db" cannot be checked for readiness: the PostgreSQL probe needs the `pg` package: npm install --save-dev pg')
      expect(r.stderr).not.toContain('was not ready after')
    }
    expect(await waitUntil(() => leftovers(p.dir).length === 0), leftovers(p.dir).join('\n')).toBe(true)
    expect(await waitUntil(() => envDirs(p.dir).length === 0)).toBe(true)
    expect(fs.existsSync(path.join(p.dir, '.rig/state.json'))).toBe(false)
  })

  it('rig doctor exits 1 naming what to install, for the kinds the config uses only', async () => {
    const p = project(POSTGRES)
    const r = await p.rig(['doctor'])
    expect(r.code, r.stdout + r.stderr).toBe(1)
    expect(r.stdout).toMatch(/✗\s+driver pg\s+not installed \(needed for the postgres readiness probe and guard\)\s+→ npm install --save-dev pg/)
    // No redis() service: the missing redis package is shown, not required.
    expect(r.stdout).toMatch(/!\s+driver redis\s+not installed/)
    expect(r.stdout).toContain('1 problem(s)')
    const j = JSON.parse((await p.rig(['doctor', '--json'])).stdout) as { ok: boolean; checks: { what: string; ok: boolean }[] }
    expect(j.ok).toBe(false)
    expect(j.checks).toContainEqual(expect.objectContaining({ what: 'driver pg', ok: false, kind: 'postgres' }))

    const cache = project(`import { defineConfig, redis } from 'testrig'\nexport default defineConfig({ services: { cache: redis() } })\n`)
    const rc = await cache.rig(['doctor'])
    expect(rc.code).toBe(1)
    expect(rc.stdout).toMatch(/✗\s+driver redis\s+.*npm install --save-dev redis/)
  })

  it('once the project installs it, doctor passes and up starts', async () => {
    const p = project(POSTGRES)
    install(p, 'pg')
    const d = await p.rig(['doctor'])
    expect(d.code, d.stdout).toBe(0)
    expect(d.stdout).toMatch(/✓\s+driver pg\s+installed/)
    const up = await p.rig(['up', '--detach'])
    expect(up.code, up.stderr).toBe(0)
    expect((await p.rig(['down'])).code).toBe(0)
  })

  it('rig doctor without a config requires nothing; with a broken one it fails; --help says when it exits 1', async () => {
    const p = project(POSTGRES)
    fs.rmSync(path.join(p.dir, 'rig.config.ts'))
    expect((await p.rig(['doctor'])).code).toBe(0)
    p.write('rig.config.ts', "import { nope } from './missing.ts'\n")
    const broken = await p.rig(['doctor'])
    expect(broken.code).toBe(1)
    expect(broken.stdout).toMatch(/✗\s+config\s+could not load/)
    const help = await p.rig(['doctor', '--help'])
    expect(help.stdout).toContain('Exit code 1 when something a service in rig.config.ts needs is missing')
  })
})
