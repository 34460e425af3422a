// `postgres --version`, kept on disk across processes: believed only for the very binary it was
// asked of (path, device, inode, size, mtime, ctime), only from a regular file of rig's user in
// its private cache dir, written again (never through a link) when it does not fit.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest'
import { findPostgres } from '../../src/services/postgres/binaries.ts'
import { forgetVersions, postgresVersion, versionRecordFile } from '../../src/services/postgres/version.ts'

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-pg-version-'))
const savedCache = process.env.RIG_CACHE_DIR
const realBin = findPostgres({}).path
const uid = process.geteuid?.() ?? -1

/** A stand-in `postgres` that prints `version` the way the real one does, and counts its runs. */
function fakeBin(version: string, name = 'postgres'): string {
  const dir = path.join(scratch, 'bin')
  fs.mkdirSync(dir, { recursive: true })
  const bin = path.join(dir, name)
  const tmp = `${bin}.new`
  fs.writeFileSync(tmp, `#!/bin/sh\necho run >> "${bin}.runs"\necho "postgres (PostgreSQL) ${version}"\n`, { mode: 0o755 })
  // Replaced the way a package upgrade does: a new file renamed over the old one.
  fs.renameSync(tmp, bin)
  return bin
}
const runs = (bin: string): number => (fs.existsSync(`${bin}.runs`) ? fs.readFileSync(`${bin}.runs`, 'utf8').split('\n').filter(Boolean).length : 0)

beforeEach(() => {
  process.env.RIG_CACHE_DIR = fs.mkdtempSync(path.join(scratch, 'cache-'))
  fs.rmSync(path.join(scratch, 'bin'), { recursive: true, force: true })
  forgetVersions()
})
afterEach(() => forgetVersions())
afterAll(() => {
  if (savedCache === undefined) delete process.env.RIG_CACHE_DIR
  else process.env.RIG_CACHE_DIR = savedCache
  fs.rmSync(scratch, { recursive: true, force: true })
})

it.skipIf(!realBin)('a later process reads the version of the installed server from the record, without running it', async () => {
  const bin = fs.realpathSync(realBin as string)
  const version = await postgresVersion(bin)
  expect(version).toMatch(/^\d+(\.\d+)?$/)
  const file = versionRecordFile(bin) as string
  const st = fs.lstatSync(file)
  expect(st.isFile()).toBe(true)
  expect(st.mode & 0o777).toBe(0o600)
  expect(fs.lstatSync(path.dirname(file)).mode & 0o066).toBe(0)
  const record = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
  expect(record).toMatchObject({ bin, version, ino: fs.statSync(bin).ino, size: fs.statSync(bin).size })
  // What the record says is what a new process gets: the binary is not asked again.
  fs.writeFileSync(file, JSON.stringify({ ...record, version: '99.9' }))
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('99.9')
})

it('asks the binary again once it was replaced or changed in place', async () => {
  let bin = fakeBin('14.1')
  expect(await postgresVersion(bin)).toBe('14.1')
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('14.1')
  expect(runs(bin)).toBe(1)

  // An upgrade: another file (inode) at the same path.
  bin = fakeBin('16.2')
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('16.2')
  expect(runs(bin)).toBe(2)

  // Edited in place, same size: mtime and ctime change.
  fs.writeFileSync(bin, fs.readFileSync(bin, 'utf8').replace('16.2', '16.9'))
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('16.9')
  expect(runs(bin)).toBe(3)

  // Another path to an identical binary has a record of its own.
  const other = fakeBin('16.9', 'postgres-other')
  expect(await postgresVersion(other)).toBe('16.9')
  expect(runs(other)).toBe(1)
})

it('a record that does not parse or says something else than a version is written again', async () => {
  const bin = fakeBin('15.3')
  await postgresVersion(bin)
  const file = versionRecordFile(bin) as string
  for (const junk of ['{not json', JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: '15.3; rm -rf /' }), '']) {
    fs.writeFileSync(file, junk)
    forgetVersions()
    expect(await postgresVersion(bin)).toBe('15.3')
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ bin, version: '15.3' })
  }
  expect(runs(bin)).toBe(4)
})

it('a record that is a link is not read through nor written through, and is replaced by a file', async () => {
  const bin = fakeBin('15.3')
  await postgresVersion(bin)
  const file = versionRecordFile(bin) as string
  // The link points to a record that would match, with another version, in a file of ours.
  const planted = path.join(scratch, 'planted.json')
  const lie = JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: '99.9' })
  fs.writeFileSync(planted, lie)
  fs.rmSync(file)
  fs.symlinkSync(planted, file)
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('15.3')
  expect(runs(bin)).toBe(2)
  expect(fs.lstatSync(file).isSymbolicLink()).toBe(false)
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ version: '15.3' })
  expect(fs.readFileSync(planted, 'utf8')).toBe(lie)
})

it.skipIf(uid !== 0)("another user's record, or a records dir others may write, is not believed", async () => {
  const bin = fakeBin('15.3')
  await postgresVersion(bin)
  const file = versionRecordFile(bin) as string
  const lie = JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: '99.9' })
  fs.writeFileSync(file, lie)
  fs.chownSync(file, 65534, 65534)
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('15.3')
  expect(fs.statSync(file).uid).toBe(0)

  const dir = path.dirname(file)
  fs.writeFileSync(file, lie)
  fs.chmodSync(dir, 0o777)
  forgetVersions()
  expect(await postgresVersion(bin)).toBe('15.3')
  expect(runs(bin)).toBe(3)
})
