// The config file names rig finds: rig.config.ts first, then .mts, .js and .mjs (plain
// JavaScript configs), each loaded as what it is. `rig doctor --json` says which file it loaded.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeProject, type Project } from '../support/project.ts'

const projects: Project[] = []
afterEach(async () => {
  for (const p of projects.splice(0)) await p.dispose()
})

const JS = "import { defineConfig, redis } from 'testrig'\n\nexport default defineConfig({ services: { cache: redis() } })\n"

async function loaded(p: Project): Promise<string | undefined> {
  const r = await p.rig(['doctor', '--json'])
  return (JSON.parse(r.stdout) as { checks: { what: string; ok: boolean; detail: string }[] }).checks.find((c) => c.what === 'config' && c.ok)?.detail
}

describe('config files', () => {
  it('loads plain JavaScript configs: rig.config.mjs anywhere, rig.config.js in a "type": "module" project', async () => {
    const p = makeProject('')
    projects.push(p)
    fs.rmSync(path.join(p.dir, 'rig.config.ts'))
    p.write('rig.config.mjs', JS)
    expect(await loaded(p)).toBe(`${path.join(p.dir, 'rig.config.mjs')} (redis)`)
    fs.renameSync(path.join(p.dir, 'rig.config.mjs'), path.join(p.dir, 'rig.config.js'))
    expect(await loaded(p)).toBe(`${path.join(p.dir, 'rig.config.js')} (redis)`)
  })

  it('prefers rig.config.ts, then rig.config.mts, over JavaScript ones', async () => {
    const p = makeProject("import { defineConfig, postgres } from 'testrig'\nexport default defineConfig({ services: { db: postgres() } })\n")
    projects.push(p)
    p.write('rig.config.mjs', JS)
    expect(await loaded(p)).toBe(`${path.join(p.dir, 'rig.config.ts')} (postgres)`)
    fs.renameSync(path.join(p.dir, 'rig.config.ts'), path.join(p.dir, 'rig.config.mts'))
    expect(await loaded(p)).toBe(`${path.join(p.dir, 'rig.config.mts')} (postgres)`)
  })
})
