// PostgreSQL data directories copied ahead of time: a start takes one with a rename, only from a
// private directory of rig's own user, only when complete and made from the current init cache.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pgQuery } from '../../src/drivers/pg.ts'
import { postgres, redis, type Environment } from '../../src/index.ts'
import { privateDirMode } from '../../src/fs-safe/private-dir.ts'
import { unprivilegedUser } from '../../src/providers/process/user.ts'
import { findPostgres } from '../../src/services/postgres/binaries.ts'
import { refillSpares, sparesSettled, startUnderWay, takeSpare, takeSpareWithLogin } from '../../src/services/postgres/spare.ts'
import { assertNothingLeft, start } from '../support/env.ts'
import { backgroundDone } from '../../src/env/environment.ts'

// A temp root of this file's own: no other test file takes (or makes) its spares. Port
// reservations live there too, so they are only shared within this file.
const root = fs.mkdtempSync('/dev/shm/rig-spares-test-')
// The servers' account must reach the instances below it.
fs.chmodSync(root, 0o755)
const savedTmp = process.env.RIG_TMP_DIR
process.env.RIG_TMP_DIR = root
const uid = process.geteuid?.() ?? 0
const spares = path.join(root, 'testrig', `pg-spares-${uid}`)

afterAll(() => {
  if (savedTmp === undefined) delete process.env.RIG_TMP_DIR
  else process.env.RIG_TMP_DIR = savedTmp
  fs.rmSync(root, { recursive: true, force: true })
})

/** A stand-in for an init cache entry: `<entry>/ok` and `<entry>/data/` (mode 0700, a few files). */
function fakeCache(name = 'entry'): string {
  const entry = path.join(root, 'cache', name)
  fs.mkdirSync(path.join(entry, 'data', 'base'), { recursive: true, mode: 0o700 })
  fs.chmodSync(path.join(entry, 'data'), 0o700)
  fs.writeFileSync(path.join(entry, 'data', 'PG_VERSION'), '15\n')
  fs.writeFileSync(path.join(entry, 'data', 'base', 'rel'), 'x'.repeat(10_000))
  fs.writeFileSync(path.join(entry, 'ok'), new Date().toISOString())
  return path.join(entry, 'data')
}

const slots = (): string[] => (fs.existsSync(spares) ? fs.readdirSync(spares).sort() : [])
const target = (n = 'to'): string => path.join(root, n)

describe('spares (unit)', () => {
  let cached: string
  beforeEach(() => {
    fs.rmSync(spares, { recursive: true, force: true })
    fs.rmSync(`${spares}-elsewhere`, { recursive: true, force: true })
    fs.rmSync(path.join(root, 'cache'), { recursive: true, force: true })
    for (const n of ['to', 'to2']) fs.rmSync(target(n), { recursive: true, force: true })
    delete process.env.RIG_POSTGRES_SPARES
    cached = fakeCache()
  })
  afterEach(() => {
    delete process.env.RIG_POSTGRES_SPARES
  })

  it('a refill makes one complete copy; a take moves it into place and the slot is free again', async () => {
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    refillSpares(cached)
    await sparesSettled()
    expect(slots()).toHaveLength(1)
    expect(slots()[0]).not.toMatch(/\.tmp$/)
    expect(fs.statSync(spares).mode & 0o777).toBe(privateDirMode())
    expect(takeSpare(cached, target(), undefined)).toBe(true)
    expect(fs.readFileSync(path.join(target(), 'base', 'rel'), 'utf8')).toBe('x'.repeat(10_000))
    expect(fs.statSync(target()).mode & 0o777).toBe(0o700)
    expect(slots()).toEqual([])
    // Only one was kept: the next start copies.
    expect(takeSpare(cached, target('to2'), undefined)).toBe(false)
    refillSpares(cached)
    await sparesSettled()
    expect(takeSpare(cached, target('to2'), undefined)).toBe(true)
  })

  it('keeps RIG_POSTGRES_SPARES copies however many refills run at once, and none with 0', async () => {
    process.env.RIG_POSTGRES_SPARES = '2'
    for (let i = 0; i < 5; i++) refillSpares(cached)
    await sparesSettled()
    expect(slots()).toHaveLength(2)
    process.env.RIG_POSTGRES_SPARES = '0'
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    expect(fs.existsSync(target())).toBe(false)
  })

  it('keeps at most three copies of other init cache entries, the most recent', async () => {
    const made: string[] = []
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const other = fakeCache(name)
      refillSpares(other)
      await sparesSettled()
      made.push(...slots().filter((s) => !made.includes(s)))
      await new Promise((r) => setTimeout(r, 20))
    }
    refillSpares(cached)
    await sparesSettled()
    // Ours, and the three made last of the others.
    expect(slots()).toHaveLength(4)
    expect(slots()).toEqual(expect.arrayContaining(made.slice(-3)))
    expect(takeSpare(cached, target(), undefined)).toBe(true)
  })

  it('never hands out a copy of an init cache entry made again since', async () => {
    refillSpares(cached)
    await sparesSettled()
    fs.writeFileSync(path.join(path.dirname(cached), 'ok'), 'made again')
    expect(takeSpare(cached, target(), undefined)).toBe(false)
  })

  it('uses nothing from a spares dir that others may write or that is a link', async () => {
    refillSpares(cached)
    await sparesSettled()
    fs.chmodSync(spares, 0o777)
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    refillSpares(cached)
    await sparesSettled()
    expect(slots()).toHaveLength(1)

    const real = `${spares}-elsewhere`
    fs.chmodSync(spares, 0o700)
    fs.renameSync(spares, real)
    fs.symlinkSync(real, spares)
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    expect(fs.readdirSync(real)).toHaveLength(1)
  })

  it('throws away a copy that is not a private directory of the server account', async () => {
    refillSpares(cached)
    await sparesSettled()
    const [slot] = slots()
    fs.chmodSync(path.join(spares, slot as string, 'data'), 0o755)
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    expect(fs.existsSync(target())).toBe(false)
    expect(slots()).toEqual([])
  })

  it('a spare whose password step fails is not kept, and a plain spare is no spare with a login', async () => {
    const bin = findPostgres({}).path
    if (!bin) return
    // Not a data dir PostgreSQL can open: the single-user step fails.
    refillSpares(cached, 1, { bin, user: unprivilegedUser(), role: 'postgres', database: 'postgres' })
    await sparesSettled()
    expect(slots()).toEqual([])
    refillSpares(cached)
    await sparesSettled()
    expect(takeSpareWithLogin(cached, target(), undefined)).toBeUndefined()
    expect(fs.existsSync(target())).toBe(false)
    expect(takeSpare(cached, target(), undefined)).toBe(true)
  })

  it("an older rig's spares (spares-<uid>/) are removed once a day old, newer ones left to it", async () => {
    const legacy = path.join(root, 'testrig', `spares-${uid}`)
    fs.rmSync(legacy, { recursive: true, force: true })
    fs.mkdirSync(path.join(legacy, 'pg-old-0', 'data'), { recursive: true, mode: 0o700 })
    fs.mkdirSync(path.join(legacy, 'pg-new-0', 'data'), { recursive: true, mode: 0o700 })
    fs.chmodSync(legacy, 0o700)
    const dayAgo = new Date(Date.now() - 25 * 3600_000)
    fs.utimesSync(path.join(legacy, 'pg-old-0'), dayAgo, dayAgo)
    refillSpares(cached)
    await sparesSettled()
    expect(fs.readdirSync(legacy)).toEqual(['pg-new-0'])
    fs.rmSync(legacy, { recursive: true, force: true })
  })

  it('skips a copy still being made, and clears one whose maker died', async () => {
    refillSpares(cached)
    await sparesSettled()
    const [slot] = slots() as [string]
    // Turn the finished slot back into one "being made" by a process that is gone.
    const tmp = path.join(spares, `${slot}.tmp`)
    fs.renameSync(path.join(spares, slot), tmp)
    fs.writeFileSync(path.join(tmp, 'maker'), '2147483646')
    expect(takeSpare(cached, target(), undefined)).toBe(false)
    refillSpares(cached)
    await sparesSettled()
    expect(slots()).toEqual([slot])
    expect(takeSpare(cached, target(), undefined)).toBe(true)
  })
})

describe('postgres() with a spare', () => {
  let env: Environment | undefined
  afterEach(async () => {
    await env?.stop()
    env = undefined
  })
  afterAll(async () => {
    await sparesSettled()
    await assertNothingLeft()
  })

  it('starts on the copy made after the previous start, and makes the next one', async () => {
    fs.rmSync(spares, { recursive: true, force: true })
    env = await start({ services: { db: postgres() } })
    await sparesSettled()
    await env.stop()
    const [slot] = slots() as [string]
    expect(slot).toMatch(/^pgl-[0-9a-f]{16}-0$/)
    // Mark the spare: the next instance's data dir must be this very directory.
    const mark = path.join(spares, slot, 'data', 'rig-test-mark')
    fs.writeFileSync(mark, 'spare')
    const owner = fs.statSync(path.join(spares, slot, 'data'))
    fs.chownSync(mark, owner.uid, owner.gid)
    env = await start({ services: { db: postgres(), cache: redis() } })
    expect(fs.readFileSync(path.join(env.get('db').dir, 'data', 'rig-test-mark'), 'utf8')).toBe('spare')
    expect((await pgQuery(env.get('db').url, 'select 1 as one')).rows).toEqual([{ one: 1 }])
    await sparesSettled()
    expect(slots()).toEqual([slot])
    expect(fs.existsSync(path.join(spares, slot, 'data', 'rig-test-mark'))).toBe(false)
  })
})

describe('postgres() with a spare made with its password', () => {
  let env: Environment | undefined
  afterEach(async () => {
    await env?.stop()
    env = undefined
  })
  afterAll(async () => {
    await sparesSettled()
    await assertNothingLeft()
  })

  /** Starts once so that a spare is made for the next start; returns its slot and that start's password. */
  async function primed(): Promise<{ slot: string; previous: string }> {
    fs.rmSync(spares, { recursive: true, force: true })
    env = await start({ services: { db: postgres() } })
    const previous = decodeURIComponent(new URL(env.get('db').url).password)
    await sparesSettled()
    await env.stop()
    env = undefined
    const [slot] = slots() as [string]
    expect(slot).toMatch(/^pgl-[0-9a-f]{16}-0$/)
    return { slot, previous }
  }

  it("the next environment's password is the spare's, set before it started; TCP logins need it; none is used twice", async () => {
    const { slot, previous } = await primed()
    const file = path.join(spares, slot, 'password')
    const st = fs.lstatSync(file)
    expect(st.isFile()).toBe(true)
    expect(st.mode & 0o777).toBe(0o600)
    expect(st.uid).toBe(uid)
    // No one else may list the spares (as root the server's account may pass through to its data).
    expect(fs.statSync(spares).mode & 0o077 & ~0o011).toBe(0)
    expect(fs.statSync(path.join(spares, slot)).mode & 0o077 & ~0o011).toBe(0)
    const password = fs.readFileSync(file, 'utf8').trim()
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(password).not.toBe(previous)

    env = await start({ services: { db: postgres() } })
    const url = env.get('db').url
    expect(decodeURIComponent(new URL(url).password)).toBe(password)
    expect(env.vars().RIG_DB_PASSWORD).toBe(password)
    expect((await pgQuery(url, 'select current_user as u')).rows).toEqual([{ u: 'postgres' }])
    const wrong = new URL(url)
    wrong.password = 'A'.repeat(24)
    await expect(pgQuery(wrong.toString(), 'select 1')).rejects.toThrow(/password authentication failed/)
    // The slot it came from holds another password now, for the next environment.
    await sparesSettled()
    expect(fs.readFileSync(file, 'utf8').trim()).not.toBe(password)
  })

  it('no spare is made while another start of this process is under way; once none is, it is', async () => {
    fs.rmSync(spares, { recursive: true, force: true })
    const other = startUnderWay()
    try {
      env = await start({ services: { db: postgres() } })
      expect((await pgQuery(env.get('db').url, 'select 1 as one')).rows).toEqual([{ one: 1 }])
      await new Promise((r) => setTimeout(r, 300))
      expect(slots()).toEqual([])
    } finally {
      other()
    }
    await sparesSettled()
    expect(slots()).toEqual([expect.stringMatching(/^pgl-[0-9a-f]{16}-0$/)])
  })

  it('a process that stops its environment right after the start waits with backgroundDone() until the spare is made', async () => {
    // The copy runs detached; a runner that exits after its teardown must not leave it running.
    fs.rmSync(spares, { recursive: true, force: true })
    env = await start({ services: { db: postgres() } })
    await env.stop()
    env = undefined
    await backgroundDone()
    const makers = fs.readdirSync('/proc').filter((e) => {
      if (!/^\d+$/.test(e)) return false
      try {
        const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8')
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        return ppid === process.pid && fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('rig-spare')
      } catch {
        return false
      }
    })
    expect(makers).toEqual([])
    expect(slots()).toEqual([expect.stringMatching(/^pgl-[0-9a-f]{16}-0$/)])
  })

  it('a start whose server exited before it answered holds no spare back', async () => {
    fs.rmSync(spares, { recursive: true, force: true })
    await expect(start({ services: { db: postgres({ settings: { rig_no_such_setting: 1 } }) } })).rejects.toThrow(/rig_no_such_setting/)
    env = await start({ services: { db: postgres() } })
    // The refill begins within two turns of the event loop (it waited for nothing).
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    expect(slots()).toEqual([expect.stringMatching(/^pgl-[0-9a-f]{16}-0(\.tmp)?$/)])
    await sparesSettled()
  })

  it('a slot whose password is a link, malformed, or not there is not used: the start copies and sets a password of its own', async () => {
    for (const spoil of ['link', 'malformed', 'missing'] as const) {
      const { slot } = await primed()
      const file = path.join(spares, slot, 'password')
      const known = 'B'.repeat(24)
      const planted = path.join(root, 'planted-password')
      fs.writeFileSync(planted, `${known}\n`)
      fs.rmSync(file)
      if (spoil === 'link') fs.symlinkSync(planted, file)
      if (spoil === 'malformed') fs.writeFileSync(file, 'short\n', { mode: 0o600 })
      const mark = path.join(spares, slot, 'data', 'rig-test-mark')
      fs.writeFileSync(mark, 'spare')
      env = await start({ services: { db: postgres() } })
      const db = env.get('db')
      expect(fs.existsSync(path.join(db.dir, 'data', 'rig-test-mark'))).toBe(false)
      expect(decodeURIComponent(new URL(db.url).password)).not.toBe(known)
      expect((await pgQuery(db.url, 'select 1 as one')).rows).toEqual([{ one: 1 }])
      expect(fs.readFileSync(planted, 'utf8')).toBe(`${known}\n`)
      await sparesSettled()
      await env.stop()
      env = undefined
    }
  })
})
