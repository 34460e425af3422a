// rig run by an ordinary user on a machine where root ran it before: errors that name the port
// or the file and whose it is, never "already in use" for a privileged port nor a raw EACCES.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BIN, leftovers, makeProject, NODE, type Project, type RigResult } from '../support/project.ts'
import { waitUntil } from '../support/procs.ts'

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

const projects: Project[] = []
const tmps: string[] = []
afterEach(async () => {
  for (const t of tmps.splice(0)) fs.rmSync(t, { recursive: true, force: true })
  for (const p of projects.splice(0)) {
    await p.dispose()
    expect(await waitUntil(() => leftovers(p.dir).length === 0)).toBe(true)
  }
})

/** A project the user `nobody` may write to (the test runs as root). */
function project(services: string): Project {
  const p = makeProject(`import { defineConfig, command } from 'testrig'\nexport default defineConfig({ services: { ${services} } })\n`)
  projects.push(p)
  for (const f of ['', 'rig.config.ts', 'package.json', 'node_modules']) fs.chownSync(path.join(p.dir, f), NOBODY, NOBODY)
  return p
}

/** Runs `rig ARGS` in the project as `nobody`. */
function rigAsNobody(p: Project, args: string[], tmp: string): Promise<RigResult> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--no-warnings', BIN, ...args], { cwd: p.dir, uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: p.dir, NO_COLOR: '1', RIG_TMP_DIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe.skipIf(!asRoot)('as an ordinary user', () => {
  it('a fixed port below 1024 says it needs root, not "already in use"', async () => {
    const p = project(`web: command({ run: 'exec sleep 600', env: { PORT: '{port}' }, port: 80 })`)
    const tmp = path.join(p.dir, 'tmp-nobody')
    fs.mkdirSync(tmp)
    fs.chownSync(tmp, NOBODY, NOBODY)
    const r = await rigAsNobody(p, ['run', '--', 'true'], tmp)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain('service "web" asks for port 80, a privileged port that only root may listen on')
    expect(r.stderr).not.toContain('already in use')
  })

  it('temp files root left behind: one line naming the path, its owner and the way out, no stack', async () => {
    const p = project(`api: command({ run: 'exec sleep 600' })`)
    // A directory every user may create in, like /dev/shm (sticky); not the project, which
    // nobody owns here: root's rig keeps no temp files under a directory another user owns.
    const tmp = fs.mkdtempSync(path.join(path.dirname(p.dir), 'rig-tmp-shared-'))
    fs.chmodSync(tmp, 0o1777)
    tmps.push(tmp)
    // root runs first and leaves its temp root behind (private to root)
    const first = await p.rig(['run', '--', 'true'], { env: { RIG_TMP_DIR: tmp } })
    expect(first.code, first.stderr).toBe(0)
    fs.rmSync(path.join(p.dir, '.rig'), { recursive: true, force: true })
    const r = await rigAsNobody(p, ['run', '--', 'true'], tmp)
    expect(r.code).toBe(1)
    // The message names the place and whose it is (the wording may change as temp roots become per user).
    expect(r.stderr).toContain(path.join(tmp, 'testrig'))
    expect(r.stderr).toMatch(/uid 0|owned by|owner/)
    expect(r.stderr).toContain('RIG_TMP_DIR')
    expect(r.stderr).not.toMatch(/^\s+at /m)
  })
})
