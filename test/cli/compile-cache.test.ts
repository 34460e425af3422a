// The `rig` command's compile cache: used only in a directory no other user can write or
// replace, so that no one can plant code the next run of rig (as root, on CI) would execute.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { compileCacheDir, privateDir } from '../../src/compile-cache.ts'
import { BIN, NODE } from '../support/project.ts'

const uid = process.geteuid?.() ?? -1
const root = uid === 0
const nobody = 65534
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** A fresh dir under os.tmpdir() (sticky, so it may hold a private dir), 0700. */
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-compile-cache-'))
  dirs.push(dir)
  return dir
}

const mode = (p: string): number => fs.statSync(p).mode & 0o7777

function rigHelp(home: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string } {
  const { XDG_CACHE_HOME: _x, NODE_COMPILE_CACHE: _n, ...rest } = process.env
  return spawnSync(NODE, [BIN, '--help'], { env: { ...rest, HOME: home, NO_COLOR: '1', ...env }, encoding: 'utf8' })
}

describe('the compile cache directory', () => {
  it('is under XDG_CACHE_HOME when it is absolute, else under ~/.cache', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/testrig/node-compile-cache')
    expect(compileCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(os.homedir(), '.cache/testrig/node-compile-cache'))
    expect(compileCacheDir({})).toBe(path.join(os.homedir(), '.cache/testrig/node-compile-cache'))
  })

  it('is made 0700; an own dir readable by others is made private', () => {
    const base = tempDir()
    const dir = path.join(base, 'a/b/cache')
    expect(privateDir(dir, uid)).toBe(true)
    expect(mode(dir)).toBe(0o700)
    fs.chmodSync(dir, 0o755)
    expect(privateDir(dir, uid)).toBe(true)
    expect(mode(dir)).toBe(0o700)
  })

  it('is refused when others can write it or a directory above it, or when it is a link', () => {
    const base = tempDir()
    const writable = path.join(base, 'writable')
    fs.mkdirSync(writable)
    fs.chmodSync(writable, 0o777)
    expect(privateDir(writable, uid)).toBe(false)
    // Others could rename the private dir away and put their own in its place.
    const shared = path.join(base, 'shared')
    fs.mkdirSync(shared)
    fs.chmodSync(shared, 0o777)
    expect(privateDir(path.join(shared, 'cache'), uid)).toBe(false)
    // A sticky dir (like /tmp) lets no one else rename what is not theirs.
    fs.chmodSync(shared, 0o1777)
    expect(privateDir(path.join(shared, 'cache2'), uid)).toBe(true)
    const target = path.join(base, 'target')
    fs.mkdirSync(target, { mode: 0o700 })
    fs.symlinkSync(target, path.join(base, 'link'))
    expect(privateDir(path.join(base, 'link'), uid)).toBe(false)
  })

  it.runIf(root)('is refused when another user owns it, or a directory above it', () => {
    const base = tempDir()
    const theirs = path.join(base, 'theirs')
    fs.mkdirSync(theirs, { mode: 0o700 })
    fs.chownSync(theirs, nobody, nobody)
    expect(privateDir(theirs, uid)).toBe(false)
    const above = path.join(base, 'above')
    fs.mkdirSync(above, { mode: 0o755 })
    fs.chownSync(above, nobody, nobody)
    expect(privateDir(path.join(above, 'cache'), uid)).toBe(false)
    // Nothing of root's is left in someone else's home (`sudo` keeping HOME).
    expect(fs.readdirSync(above)).toEqual([])
    expect(privateDir(path.join(above, '.cache/testrig/node-compile-cache'), uid)).toBe(false)
    expect(fs.readdirSync(above)).toEqual([])
  })
})

describe('rig with the compile cache', () => {
  it('keeps the cache of its modules in a private dir of the user, files 0600', () => {
    const home = tempDir()
    expect(rigHelp(home).status).toBe(0)
    const dir = path.join(home, '.cache/testrig/node-compile-cache')
    expect(mode(dir)).toBe(0o700)
    const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) expect(mode(path.join(f.parentPath, f.name)) & 0o077).toBe(0)
    // A second start reads it and prints the same.
    expect(rigHelp(home).stdout).toContain('Usage: rig <command>')
  })

  it.runIf(root)('does not use a cache dir another user prepared, and still runs', () => {
    const home = tempDir()
    const planted = path.join(home, '.cache/testrig/node-compile-cache')
    fs.mkdirSync(planted, { recursive: true })
    fs.chownSync(planted, nobody, nobody)
    fs.chmodSync(planted, 0o777)
    const r = rigHelp(home)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('Usage: rig <command>')
    expect(fs.readdirSync(planted)).toEqual([])
  })

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off', () => {
    const home = tempDir()
    expect(rigHelp(home, { NODE_DISABLE_COMPILE_CACHE: '1' }).status).toBe(0)
    expect(fs.existsSync(path.join(home, '.cache/testrig/node-compile-cache'))).toBe(false)
  })
})
