// A data directory copied ahead of time. Copying the init cache (~29 MB, ~1000 files) was most
// of a warm start; after a start, a copy is made in the background into a private directory on
// the same filesystem as the instances, and the next start (in this process or a later one)
// moves it into place with one rename.
//
// Layout: <tempRoot>/spares-<uid>/ (the temp root is this user's already, see src/fs-safe; mode 0700, owned by rig's user; used only when it is
// exactly that) holds one slot per spare: `pg-<id>-<n>.tmp/` while `cp -a` fills it (with a
// `maker` file naming the process), renamed to `pg-<id>-<n>/` once complete; copies of other
// cache entries are kept for a day, at most three of them. `<id>` names the
// init cache entry and the moment it was made, so a rebuilt cache never hands out old data.
// A start takes a slot's `data/` with rename(2): of two starts racing for it, one gets it.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { tempRoot } from '../../fs-safe/temp-root.ts'
import type { ServiceUser } from '../../providers/process/user.ts'

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
    const dir = path.join(tempRoot(), `spares-${euid()}`)
    if (create) {
      fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 })
      try {
        fs.mkdirSync(dir, { mode: 0o700 })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    const st = fs.lstatSync(dir)
    // Not a link, ours, and nobody else may add, rename or replace what is inside.
    if (!st.isDirectory() || st.uid !== euid() || (st.mode & 0o077) !== 0) return undefined
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

/**
 * Moves a spare copy of `cachedData` to `to` (which must not exist). Returns false when there is
 * none ready (or spares are off, or the directory is not safely rig's): copy instead.
 */
export function takeSpare(cachedData: string, to: string, user: ServiceUser | undefined): boolean {
  if (spareCount() === 0) return false
  const dir = sparesDir(false)
  const id = spareId(cachedData)
  if (!dir || !id) return false
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return false
  }
  for (const e of entries) {
    if (!e.startsWith(`pg-${id}-`) || e.endsWith('.tmp')) continue
    try {
      fs.renameSync(path.join(dir, e, 'data'), to)
    } catch {
      // Taken by another start meanwhile, or not on this filesystem.
      continue
    }
    try {
      fs.rmdirSync(path.join(dir, e))
    } catch {
      // refilled meanwhile: it is someone's next spare
    }
    if (isDataDir(to, user)) return true
    fs.rmSync(to, { recursive: true, force: true })
  }
  return false
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
  making.add(p)
  void p.finally(() => making.delete(p))
}

/**
 * Fills free spare slots for `cachedData` (`RIG_POSTGRES_SPARES`, or `want` when more) in the background (`cp -a`, in its own process) and
 * returns at once; the work starts on the next turn of the event loop, so a start that has just
 * become ready resolves first (spawning costs the loop a few ms). Removes abandoned slots and,
 * after a day, spares of other cache entries.
 */
export function refillSpares(cachedData: string, want = 1): void {
  track(
    new Promise((resolve) =>
      setImmediate(() => {
        try {
          refillNow(cachedData, want)
        } catch {
          // a spare is an optimisation: the next start copies instead
        }
        resolve()
      }),
    ),
  )
}

function refillNow(cachedData: string, want: number): void {
  // A service with replicas takes a copy per member: keep that many ready (at most 8).
  const configured = spareCount()
  if (configured === 0) return
  const count = Math.min(8, Math.max(configured, want))
  const dir = sparesDir(true)
  const id = spareId(cachedData)
  if (!dir || !id) return
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return
  }
  const present = new Set(entries)
  const others: { path: string; made: number }[] = []
  for (const e of entries) {
    const p = path.join(dir, e)
    if (e.endsWith('.tmp')) {
      if (abandoned(p)) {
        fs.rmSync(p, { recursive: true, force: true })
        present.delete(e)
      }
    } else if (!e.startsWith(`pg-${id}-`)) {
      others.push({ path: p, made: fs.lstatSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0 })
    }
  }
  others.sort((a, b) => b.made - a.made)
  for (const [i, o] of others.entries()) if (i >= MAX_OTHERS || Date.now() - o.made > UNUSED_MS) fs.rmSync(o.path, { recursive: true, force: true })
  for (let n = 0; n < count; n++) {
    const slot = `pg-${id}-${n}`
    if (present.has(`${slot}.tmp`)) continue
    if (present.has(slot)) {
      // A slot dir left empty by a start that took its data is free again.
      try {
        fs.rmdirSync(path.join(dir, slot))
      } catch {
        continue
      }
    }
    const tmp = path.join(dir, `${slot}.tmp`)
    try {
      fs.mkdirSync(tmp, { mode: 0o700 })
    } catch {
      // Another process claimed the slot.
      continue
    }
    track(fill(cachedData, tmp, path.join(dir, slot)))
  }
}

// The copy and its promotion run in one detached shell: a process that exits right after its
// start (or is interrupted) still leaves a complete spare, and the `maker` is the shell itself.
const FILL = 'echo $$ > "$1/maker" && cp -a "$2" "$1/data" && rm "$1/maker" && { [ -e "$3" ] || mv "$1" "$3"; }'

function fill(cachedData: string, tmp: string, slot: string): Promise<void> {
  return new Promise((resolve) => {
    const fail = (): void => {
      fs.rmSync(tmp, { recursive: true, force: true })
      resolve()
    }
    let child
    try {
      child = spawn('/bin/sh', ['-c', FILL, 'rig-spare', tmp, cachedData, slot], { stdio: 'ignore', detached: true })
    } catch {
      return fail()
    }
    // A copy in progress must not keep rig's process alive.
    child.unref()
    child.once('error', fail)
    child.once('close', (code) => (code === 0 ? resolve() : fail()))
  })
}
