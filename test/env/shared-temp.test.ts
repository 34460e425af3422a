// rig's temp files on a machine shared with other users (rig runs as root on CI). Another local
// user must not be able to choose what root's rig writes, reads or kills: the temp root is per
// user, made private and checked before use; a root, env dir or snapshot dir someone else made
// is refused; env files are rig's own and 0600; a recorded process that is not rig's is never
// killed. Each attack is played by a real second account (runuser).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { reap, sweepStale } from '../../src/env/registry.ts'
import { procInfo } from '../../src/env/proc.ts'
import { tempRoot } from '../../src/fs-safe/temp-root.ts'
import { SnapshotFiles } from '../../src/guard/snapshot-files.ts'
import { command, redis, redisStore, type Environment } from '../../src/index.ts'
import { createGuard } from '../../src/guard/index.ts'
import { connectRedis } from '../../src/drivers/redis.ts'
import { AS_ROOT, asIntruder, ensureIntruder, intruderProcess } from '../support/intruder.ts'
import { pidAlive } from '../support/procs.ts'
import { assertNothingLeft, rejection, start } from '../support/env.ts'

const saved = process.env.RIG_TMP_DIR
let base: string
let target: string
const victims: number[] = []

beforeEach(() => {
  // Like /dev/shm: every user may create entries, sticky.
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-shared-'))
  fs.chmodSync(base, 0o1777)
  process.env.RIG_TMP_DIR = base
  // A file only root may write, that an attacker would like root's rig to overwrite.
  target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rig-target-')), 'root-only')
  fs.writeFileSync(target, 'precious\n', { mode: 0o600 })
})

afterEach(() => {
  if (saved === undefined) delete process.env.RIG_TMP_DIR
  else process.env.RIG_TMP_DIR = saved
  for (const pid of victims.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  fs.rmSync(base, { recursive: true, force: true })
  fs.rmSync(path.dirname(target), { recursive: true, force: true })
})

/** A root process (sleep) an attacker would like rig to kill; its start time is world-readable. */
function rootVictim(): { pid: number; startTime: number } {
  const c = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' })
  c.unref()
  victims.push(c.pid as number)
  return { pid: c.pid as number, startTime: procInfo(c.pid as number)?.startTime as number }
}

describe.skipIf(!AS_ROOT)('temp root planted by another user', () => {
  it('is refused before anything in it is read: a planted registry naming a root process kills nothing', async () => {
    ensureIntruder()
    const victim = rootVictim()
    const planted = path.join(base, 'testrig', 'envs', 'evil')
    asIntruder(`mkdir -p ${planted} && echo '{"pid":999999,"createdAt":"x"}' > ${planted}/owner.json && echo '[{"pid":${victim.pid},"startTime":${victim.startTime},"service":"x"}]' > ${planted}/processes.json && chmod -R 777 ${base}/testrig`)
    const err = await rejection(start({ services: { api: command({ run: 'exec sleep 60' }) } }))
    expect(err.code).toBe('RIG_UNSAFE_PATH')
    expect(err.message).toContain(path.join(base, 'testrig'))
    expect(err.message).toMatch(/belongs to another user \(owned by uid \d+/)
    expect(err.message).toContain('RIG_TMP_DIR')
    expect(pidAlive(victim.pid)).toBe(true)
    expect(fs.existsSync(path.join(planted, 'owner.json'))).toBe(true)
  })

  it('a link in place of the temp root is refused, even to a directory of ours', () => {
    const ours = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-ours-'))
    try {
      asIntruder(`ln -s ${ours} ${base}/testrig`)
      expect(() => tempRoot()).toThrow(/symbolic link/)
    } finally {
      fs.rmSync(ours, { recursive: true, force: true })
    }
  })

  it('a root of ours that others can write is refused; one others can only read is tightened', () => {
    fs.mkdirSync(path.join(base, 'testrig'), { mode: 0o777 })
    fs.chmodSync(path.join(base, 'testrig'), 0o777)
    expect(() => tempRoot()).toThrow(/other users can read or write it/)
    fs.chmodSync(path.join(base, 'testrig'), 0o755)
    expect(tempRoot()).toBe(path.join(base, 'testrig'))
    expect(fs.statSync(tempRoot()).mode & 0o777).toBe(0o711)
  })
})

describe.skipIf(!AS_ROOT)('inside rig\'s own temp root', () => {
  it('the root, env dirs and their files are private; nobody else can list them', async () => {
    ensureIntruder()
    let env: Environment | undefined
    try {
      env = await start({ services: { api: command({ run: 'exec sleep 60' }) } })
      // 0711 as root: the service account passes through to its own dirs, nobody lists them.
      expect(fs.statSync(tempRoot()).mode & 0o777).toBe(0o711)
      expect(fs.statSync(env.dir).mode & 0o777).toBe(0o711)
      for (const f of ['owner.json', 'processes.json']) expect(fs.statSync(path.join(env.dir, f)).mode & 0o777, f).toBe(0o600)
      expect(fs.statSync(path.join(env.dir, 'logs', 'api.log')).mode & 0o777).toBe(0o600)
      expect(() => asIntruder(`ls ${tempRoot()}`)).toThrow(/Permission denied/)
      expect(() => asIntruder(`cat ${env?.dir}/processes.json`)).toThrow(/Permission denied/)
    } finally {
      await env?.stop()
    }
    await assertNothingLeft(env)
  })

  it('the sweep leaves alone an env dir that is not rig\'s own, and never kills a process that runs as someone else', () => {
    const { uid } = ensureIntruder()
    const victim = rootVictim()
    const envs = path.join(tempRoot(), 'envs')
    fs.mkdirSync(envs, { recursive: true })
    // An entry of someone else's (however it got there) with a dead owner.
    const foreign = path.join(envs, 'a1-999999-abcdef')
    fs.mkdirSync(foreign, { mode: 0o700 })
    fs.writeFileSync(path.join(foreign, 'owner.json'), JSON.stringify({ pid: 999999, createdAt: 'x' }))
    fs.writeFileSync(path.join(foreign, 'processes.json'), JSON.stringify([{ pid: victim.pid, startTime: victim.startTime, uid: 0, service: 'x' }]))
    fs.chownSync(foreign, uid, uid)
    // An entry of ours whose record names the intruder's process with a forged uid.
    const other = intruderProcess()
    victims.push(other.pid as number)
    const ours = path.join(envs, 'a2-999998-abcdef')
    fs.mkdirSync(ours, { mode: 0o700 })
    fs.writeFileSync(path.join(ours, 'owner.json'), JSON.stringify({ pid: 999998, createdAt: 'x' }), { mode: 0o600 })
    const otherInfo = procInfo(other.pid as number)
    expect(otherInfo?.uid).toBe(uid)
    fs.writeFileSync(path.join(ours, 'processes.json'), JSON.stringify([{ pid: other.pid, startTime: otherInfo?.startTime, uid: 0, service: 'x' }]), { mode: 0o600 })

    const swept = sweepStale()
    expect(swept).toEqual({ environments: 1, processes: 0 })
    expect(fs.existsSync(foreign)).toBe(true)
    expect(fs.existsSync(ours)).toBe(false)
    expect(pidAlive(victim.pid)).toBe(true)
    expect(pidAlive(other.pid as number)).toBe(true)
    // reap() of a dir outside the envs root does nothing at all.
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-outside-'))
    expect(reap(outside)).toBe(0)
    expect(fs.existsSync(outside)).toBe(true)
    fs.rmSync(outside, { recursive: true })
  })
})

describe.skipIf(!AS_ROOT)('snapshot files', () => {
  it('a snapshot dir another user made, with links to a root-only file, is refused and the file untouched', async () => {
    ensureIntruder()
    const dir = path.join(base, 'snaps')
    asIntruder(`mkdir ${dir} && ln -s ${target} ${dir}/seeded.json.tmp && ln -s ${target} ${dir}/seeded.json`)
    const files = new SnapshotFiles<{ data: string }>('cache', async () => dir, () => {})
    await expect(files.write('seeded', { data: 'attacker chose this' })).rejects.toThrow(/belongs to another user/)
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
  })

  it('in a dir of ours, a link where the snapshot goes is replaced, never followed; files are 0600', async () => {
    const dir = path.join(tempRoot(), 'snaps')
    const files = new SnapshotFiles<{ data: string }>('cache', async () => dir, () => {})
    await files.write('first', { data: 'x' })
    fs.symlinkSync(target, path.join(dir, 'seeded.json'))
    await files.write('seeded', { data: 'ours' })
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
    expect(fs.lstatSync(path.join(dir, 'seeded.json')).isSymbolicLink()).toBe(false)
    expect(fs.statSync(path.join(dir, 'seeded.json')).mode & 0o777).toBe(0o600)
    expect(fs.statSync(dir).mode & 0o066).toBe(0)
    // A link planted later is not read back as a snapshot.
    fs.rmSync(path.join(dir, 'seeded.json'))
    fs.symlinkSync(target, path.join(dir, 'seeded.json'))
    await expect(files.read('seeded')).rejects.toThrow(/symbolic link/)
  })

  it('Redis snapshots go to the private temp root, not a directory every user can create', async () => {
    ensureIntruder()
    // The old place, pre-created by the intruder as in the attack: left alone.
    const old = path.join(os.tmpdir(), 'rig-redis-snapshots')
    const env = await start({ services: { cache: redis() } })
    try {
      const r = await connectRedis(env.get('cache').url)
      await r.sendCommand(['SET', 'k', 'v'])
      r.destroy()
      const before = fs.existsSync(old) ? fs.readdirSync(old).length : 0
      await using guard = createGuard({ stores: [redisStore(env.get('cache'))] })
      await guard.saveSnapshot('seeded')
      expect(fs.existsSync(old) ? fs.readdirSync(old).length : 0).toBe(before)
      const found = fs.globSync('redis-snapshots/*/db0/seeded.json', { cwd: tempRoot() })
      expect(found).toHaveLength(1)
      expect(fs.statSync(path.join(tempRoot(), found[0] as string)).mode & 0o777).toBe(0o600)
      await guard.restoreSnapshot('seeded')
    } finally {
      await env.stop()
    }
    await assertNothingLeft(env)
  })
})
