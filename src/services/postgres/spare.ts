// A data directory copied ahead of time. Copying the init cache (~29 MB, ~1000 files) was most
// of a warm start; after a start, a copy is made in the background into a private directory on
// the same filesystem as the instances, and the next start (in this process or a later one)
// moves it into place with one rename.
//
// Layout: <tempRoot>/pg-spares-<uid>/ (the temp root is this user's already, see src/fs-safe; mode
// 0700, 0711 as root, owned by rig's user; used only while no one else can read or write it)
// holds one slot per spare: `pg-<id>-<n>.tmp/` while `cp -a` fills it (with a
// `maker` file naming the process), renamed to `pg-<id>-<n>/` once complete; copies of other
// cache entries are kept for a day, at most three of them. `<id>` names the
// init cache entry and the moment it was made, so a rebuilt cache never hands out old data.
// A start takes a slot's `data/` with rename(2): of two starts racing for it, one gets it.
//
// A spare can also come with its login ready (`pgl-<id>-<n>/`): its role's password was set
// while it was made (`postgres --single`, run as the server's account, an `ALTER ROLE … PASSWORD`
// with the SCRAM verifier of a fresh random password) and the password lies beside the data in
// `password` (0600, rig's user). The start that takes it uses that password as its environment's
// own, so storing the password is no longer a step of its readiness. Each spare is taken once:
// passwords stay per environment. As root the spares dir and its slots are 0711 (like rig's
// other dirs), so the server's account can reach the data dir, never list nor read the rest.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { myUid, privateDirMode } from '../../fs-safe/private-dir.ts'
import { readOwnFile, writePrivateFile } from '../../fs-safe/private-file.ts'
import { tempRoot } from '../../fs-safe/temp-root.ts'
import { workInBackground } from '../../env/background.ts'
import type { ServiceUser } from '../../providers/process/user.ts'
import { newPassword } from '../credentials.ts'
import { scramVerifier } from './auth.ts'

/** How many spares are kept per init cache entry: `RIG_POSTGRES_SPARES` (0 turns them off). */
export function spareCount(): number {
  const v = process.env.RIG_POSTGRES_SPARES
  if (v === undefined || v === '') return 1
  const n = Number(v)
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 8) : 1
}

/** A slot being filled for this long is abandoned (a copy takes well under a second). */
const ABANDONED_MS = 10 * 60_000
/** … and after this long when its maker has not written its pid (it never ran). */
const UNCLAIMED_MS = 60_000
/** Spares of other init cache entries (another version, other options) are removed after this long… */
const UNUSED_MS = 24 * 3600_000
/** … and beyond this many, the least recently made first: each holds ~29 MB of memory in /dev/shm. */
const MAX_OTHERS = 3

const euid = (): number => process.geteuid?.() ?? -1

/** The private spares directory, created if needed; undefined when it is not safely ours. */
function sparesDir(create: boolean): string | undefined {
  try {
    const dir = path.join(tempRoot(), `pg-spares-${euid()}`)
    const mode = privateDirMode()
    if (create) {
      fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 })
      try {
        fs.mkdirSync(dir, { mode })
        fs.chmodSync(dir, mode)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    let st = fs.lstatSync(dir)
    // Not a link, ours, and nobody else may list, add, rename or replace what is inside.
    if (!st.isDirectory() || st.uid !== euid() || (st.mode & 0o066) !== 0) return undefined
    // An older rig made it 0700: as root, the server's account must pass through (0711).
    if (create && (st.mode & 0o777) !== mode) {
      fs.chmodSync(dir, mode)
      st = fs.lstatSync(dir)
    }
    return dir
  } catch {
    return undefined
  }
}

/** Identifies an init cache entry as made at one moment (its `ok` stamp). */
function spareId(cachedData: string): string | undefined {
  try {
    const entry = path.dirname(cachedData)
    const stamp = fs.readFileSync(path.join(entry, 'ok'), 'utf8')
    return createHash('sha256').update(`${entry}\0${stamp}`).digest('hex').slice(0, 16)
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A slot's `.tmp` dir whose maker is gone, or that is much older than a copy takes. */
function abandoned(tmp: string): boolean {
  const st = fs.lstatSync(tmp, { throwIfNoEntry: false })
  if (!st) return false
  const age = Date.now() - st.mtimeMs
  let pid: number
  try {
    pid = Number(fs.readFileSync(path.join(tmp, 'maker'), 'utf8'))
  } catch {
    return age > UNCLAIMED_MS
  }
  return !(pid > 0 && isAlive(pid)) || age > ABANDONED_MS
}

/** The directory a data dir must be to be handed to PostgreSQL: a real dir, the server's, 0700. */
function isDataDir(dir: string, user: ServiceUser | undefined): boolean {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false })
  return st !== undefined && st.isDirectory() && st.uid === (user?.uid ?? euid()) && (st.mode & 0o077) === 0
}

/** How the role of a spare with its login ready gets its password. */
export interface SpareLogin {
  /** The `postgres` binary of the init cache entry. */
  bin: string
  /** The server's account (undefined: rig's own). */
  user: ServiceUser | undefined
  /** The role (the init cache entry's superuser) and a database it can connect to. */
  role: string
  database: string
}

/** A password as {@link newPassword} makes them: nothing else is believed from a slot. */
const PASSWORD = /^[A-Za-z0-9_-]{24}$/

const prefixOf = (id: string, login: boolean): string => `${login ? 'pgl' : 'pg'}-${id}-`

/**
 * Moves a spare copy of `cachedData` to `to` (which must not exist). Returns false when there is
 * none ready (or spares are off, or the directory is not safely rig's): copy instead.
 */
export function takeSpare(cachedData: string, to: string, user: ServiceUser | undefined): boolean {
  return take(cachedData, to, user, false) !== undefined
}

/**
 * Moves a spare copy of `cachedData` whose role's password is already set to `to`, and returns
 * that password; undefined when there is none (then copy, and set a password at the first login).
 */
export function takeSpareWithLogin(cachedData: string, to: string, user: ServiceUser | undefined): string | undefined {
  return take(cachedData, to, user, true)
}

function take(cachedData: string, to: string, user: ServiceUser | undefined, login: boolean): string | undefined {
  if (spareCount() === 0) return undefined
  const dir = sparesDir(false)
  const id = spareId(cachedData)
  if (!dir || !id) return undefined
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return undefined
  }
  const prefix = prefixOf(id, login)
  for (const e of entries) {
    if (!e.startsWith(prefix) || e.endsWith('.tmp')) continue
    const slot = path.join(dir, e)
    try {
      fs.renameSync(path.join(slot, 'data'), to)
    } catch {
      // Taken by another start meanwhile, or not on this filesystem.
      continue
    }
    let password: string | undefined = ''
    if (login) {
      const file = path.join(slot, 'password')
      try {
        password = readOwnFile(file)?.trim()
      } catch {
        password = undefined
      }
      fs.rmSync(file, { force: true })
    }
    try {
      fs.rmdirSync(slot)
    } catch {
      // refilled meanwhile: it is someone's next spare
    }
    if (isDataDir(to, user) && password !== undefined && (!login || PASSWORD.test(password))) return password
    // Not the server's private dir, or a role whose password cannot be known: not used.
    fs.rmSync(to, { recursive: true, force: true })
  }
  return undefined
}

const making = new Set<Promise<void>>()

/** Resolves once the spares this process started making are done (for benchmarks and tests). */
export async function sparesSettled(): Promise<void> {
  const alive = setInterval(() => {}, 1 << 30)
  try {
    while (making.size > 0) await Promise.all(making)
  } finally {
    clearInterval(alive)
  }
}

function track(p: Promise<void>): void {
  // A run that ends right after its stop waits for the copy (src/env/background.ts): the copy
  // is a process of the project, and none may outlive the run.
  workInBackground(p)
  making.add(p)
  void p.finally(() => making.delete(p))
}

/** Starts of this process under way (data dir taken, not ready yet); see {@link startUnderWay}. */
let starting = 0
const idleWaiters = new Set<() => void>()
/** A start that never becomes ready (it failed) holds spares back this long at most. */
const IDLE_MAX_MS = 5000

/**
 * Marks a start of this process as under way; returns its end (call it at ready, or when it
 * fails; more calls do nothing). Spares are made once no start is under way: ten environments
 * started at once no longer share the two cores with the copy made after the first was ready.
 */
export function startUnderWay(): () => void {
  starting++
  let ended = false
  return () => {
    if (ended) return
    ended = true
    starting--
    if (starting === 0) for (const wake of [...idleWaiters]) wake()
  }
}

function noStartUnderWay(): Promise<void> {
  if (starting === 0) return Promise.resolve()
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer)
      idleWaiters.delete(wake)
      resolve()
    }
    const timer = setTimeout(wake, IDLE_MAX_MS)
    idleWaiters.add(wake)
  })
}

/**
 * Fills free spare slots for `cachedData` (`RIG_POSTGRES_SPARES`, or `want` when more) in the background (`cp -a`, in its own process) and
 * returns at once; the work starts on the next turn of the event loop, so a start that has just
 * become ready resolves first (spawning costs the loop a few ms). Removes abandoned slots and,
 * after a day, spares of other cache entries. Waits (at most {@link IDLE_MAX_MS}) while another
 * start of this process is under way. With `login`, the spares have their role's
 * password set (see the top of this file), when that can be done here (as root, it needs
 * `setpriv` to run PostgreSQL as the server's account): otherwise none is made.
 */
export function refillSpares(cachedData: string, want = 1, login?: SpareLogin): void {
  track(
    noStartUnderWay().then(
      () =>
        new Promise((resolve) =>
          setImmediate(() => {
            try {
              refillNow(cachedData, want, login)
            } catch {
              // a spare is an optimisation: the next start copies instead
            }
            resolve()
          }),
        ),
    ),
  )
}

/**
 * Spares of an older rig (`spares-<uid>/`, made before spares came with a login: 0700, which
 * the server's account cannot pass) are its own; once a day old they are removed, like copies
 * of other cache entries, so they do not hold /dev/shm after an upgrade.
 */
function sweepLegacy(): void {
  const dir = path.join(tempRoot(), `spares-${euid()}`)
  const st = fs.lstatSync(dir, { throwIfNoEntry: false })
  if (!st?.isDirectory() || st.uid !== euid() || (st.mode & 0o022) !== 0) return
  for (const e of fs.readdirSync(dir)) {
    const p = path.join(dir, e)
    const made = fs.lstatSync(p, { throwIfNoEntry: false })?.mtimeMs
    if (made !== undefined && Date.now() - made > UNUSED_MS) fs.rmSync(p, { recursive: true, force: true })
  }
}

/** A slot whose data a start took, left behind by that start (it died before removing it). */
const TAKEN_MS = 60_000

function refillNow(cachedData: string, want: number, login: SpareLogin | undefined): void {
  // A service with replicas takes a copy per member: keep that many ready (at most 8).
  const configured = spareCount()
  if (configured === 0) return
  const runAs = login ? singleUserCommand(login) : undefined
  if (login && !runAs) return
  const count = Math.min(8, Math.max(configured, want))
  try {
    sweepLegacy()
  } catch {
    // not ours to clean, or gone meanwhile
  }
  const dir = sparesDir(true)
  const id = spareId(cachedData)
  if (!dir || !id) return
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return
  }
  const prefix = prefixOf(id, login !== undefined)
  const present = new Set(entries)
  const others: { path: string; made: number }[] = []
  for (const e of entries) {
    const p = path.join(dir, e)
    if (e.endsWith('.tmp')) {
      if (abandoned(p)) {
        fs.rmSync(p, { recursive: true, force: true })
        present.delete(e)
      }
    } else if (!e.startsWith(prefix)) {
      others.push({ path: p, made: fs.lstatSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0 })
    }
  }
  others.sort((a, b) => b.made - a.made)
  for (const [i, o] of others.entries()) if (i >= MAX_OTHERS || Date.now() - o.made > UNUSED_MS) fs.rmSync(o.path, { recursive: true, force: true })
  for (let n = 0; n < count; n++) {
    const slot = `${prefix}${n}`
    if (present.has(`${slot}.tmp`)) continue
    if (present.has(slot)) {
      const p = path.join(dir, slot)
      // A slot dir left empty by a start that took its data is free again; one left with its
      // password only, by a start that died before removing it, once it is a minute old.
      try {
        fs.rmdirSync(p)
      } catch {
        const st = fs.lstatSync(p, { throwIfNoEntry: false })
        if (!st || fs.existsSync(path.join(p, 'data')) || Date.now() - st.mtimeMs < TAKEN_MS) continue
        fs.rmSync(p, { recursive: true, force: true })
      }
    }
    const tmp = path.join(dir, `${slot}.tmp`)
    try {
      fs.mkdirSync(tmp, { mode: privateDirMode() })
      fs.chmodSync(tmp, privateDirMode())
    } catch {
      // Another process claimed the slot.
      continue
    }
    if (!login || !runAs) {
      track(fill(cachedData, tmp, path.join(dir, slot), []))
      continue
    }
    const password = newPassword()
    const role = login.role
    const data = path.join(tmp, 'data')
    track(
      scramVerifier(password)
        .then((verifier) => {
          // The password beside the data; the statement that stores its verifier, read by the
          // shell (rig's user) and handed to PostgreSQL on its stdin: in no command line.
          writePrivateFile(path.join(tmp, 'password'), `${password}\n`)
          writePrivateFile(path.join(tmp, 'role.sql'), `ALTER ROLE "${role.replaceAll('"', '""')}" PASSWORD '${verifier}';\n`)
          return fill(cachedData, tmp, path.join(dir, slot), [...runAs, '--single', '-D', data, '-c', 'exit_on_error=on', '-c', 'fsync=off', '-c', 'full_page_writes=off', login.database])
        })
        .catch(() => void fs.rmSync(tmp, { recursive: true, force: true })),
    )
  }
}

let setpriv: string | null | undefined

/** How to run `login.bin` as the server's account from the shell, or undefined when it cannot be. */
function singleUserCommand(login: SpareLogin): string[] | undefined {
  if (!login.user || login.user.uid === myUid()) return [login.bin]
  if (myUid() !== 0) return undefined
  if (setpriv === undefined) setpriv = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'].find((p) => fs.existsSync(p)) ?? null
  if (!setpriv) return undefined
  return [setpriv, `--reuid=${login.user.uid}`, `--regid=${login.user.gid}`, '--clear-groups', '--', login.bin]
}

// The copy, the password step and the promotion run in one detached shell: a process that exits
// right after its start (or is interrupted) still leaves a complete spare, and the `maker` is the
// shell itself. With a command after the three paths, it runs on `role.sql` once the copy is made
// (single-user PostgreSQL: exit_on_error makes a failed statement fail the fill).
const FILL = 't=$1 c=$2 s=$3; shift 3; echo $$ > "$t/maker" && cp -a "$c" "$t/data" && { [ $# -eq 0 ] || { "$@" < "$t/role.sql" > /dev/null 2>&1 && rm "$t/role.sql"; }; } && rm "$t/maker" && { [ -e "$s" ] || mv "$t" "$s"; }'

function fill(cachedData: string, tmp: string, slot: string, command: string[]): Promise<void> {
  return new Promise((resolve) => {
    const fail = (): void => {
      fs.rmSync(tmp, { recursive: true, force: true })
      resolve()
    }
    let child
    try {
      child = spawn('/bin/sh', ['-c', FILL, 'rig-spare', tmp, cachedData, slot, ...command], { stdio: 'ignore', detached: true })
    } catch {
      return fail()
    }
    // A copy in progress must not keep rig's process alive.
    child.unref()
    child.once('error', fail)
    child.once('close', (code) => (code === 0 ? resolve() : fail()))
  })
}
